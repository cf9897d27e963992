//! The ResponseURL: where an answer may be PUT (the pin), and when CloudFormation signed it (its
//! clock). The URL is a write capability: nothing here logs it or quotes it in an error.
//!
//! The pin reads the URL with the parser the response PUT itself uses (`http::Uri`, which
//! `aws-smithy-runtime-api`'s `HttpRequest::set_uri` parses with, and whose host hyper connects
//! to), so the host checked is the host reached. Real ResponseURLs are S3 presigned URLs of
//! CloudFormation's response bucket for the region, `cloudformation-custom-resource-response-`
//! and the region without dashes, virtual-hosted (`<bucket>.s3.amazonaws.com`,
//! `<bucket>.s3.<region>.amazonaws.com`, `<bucket>.s3-<region>.amazonaws.com`) or path style
//! (`s3.<region>.amazonaws.com/<bucket>/...`), on `amazonaws.com` or, in China,
//! `amazonaws.com.cn`.

use http::Uri;

/// The name of CloudFormation's response bucket, less the region (without dashes).
const BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";

/// How long CloudFormation presigns a ResponseURL for (two hours): a SigV2 URL carries only its
/// expiry, so its signing time is that less this. (SigV4 URLs carry `X-Amz-Date` itself.)
pub const PRESIGN_LIFETIME_SECS: i64 = 2 * 3600;

/// How far before the service timeout a claimed signing time may lie: a forged or skewed date
/// never makes a request older than this.
pub const SENT_AT_SLACK_SECS: i64 = 300;

/// Where a response may be PUT: an `https` URL of CloudFormation's response bucket on an S3
/// endpoint of this partition (of `region`, when the function knows it), or any http(s) URL of
/// a host in `extra_hosts` (local runs). A forged request naming any other place is never
/// answered: the answer would go to whoever forged it.
pub fn check(url: &str, extra_hosts: &[String], region: Option<&str>) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| "the ResponseURL is not a URL".to_string())?;
    let scheme = uri.scheme_str().unwrap_or_default();
    let authority = uri
        .authority()
        .ok_or("the ResponseURL names no host")?
        .as_str();
    if authority.contains('@') {
        return Err("the ResponseURL carries credentials".into());
    }
    let host = uri.host().unwrap_or_default();
    let port = explicit_port(authority, host)?;
    if extra_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return match scheme {
            "http" | "https" => Ok(()),
            _ => Err("the ResponseURL is neither http nor https".into()),
        };
    }
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    if host.is_empty() || !host.chars().all(plain) || host.starts_with('.') || host.ends_with('.') {
        return Err(format!(
            "the ResponseURL's host {host:?} is not a plain lowercase host name"
        ));
    }
    if scheme != "https" || port.is_some_and(|p| p != 443) {
        return Err("the ResponseURL is not https on the standard port".into());
    }
    let path_bucket = uri.path().trim_start_matches('/').split('/').next();
    response_bucket(host, path_bucket.unwrap_or_default(), region)
}

/// The port written after the host, if any: digits only, as hyper will read it. Anything else
/// (`evil.example:443.s3.amazonaws.com`) is refused rather than guessed at.
fn explicit_port(authority: &str, host: &str) -> Result<Option<u16>, String> {
    let Some(rest) = authority.strip_prefix(host) else {
        return Err("the ResponseURL's authority is not a host and a port".into());
    };
    match rest.strip_prefix(':') {
        None if rest.is_empty() => Ok(None),
        Some(p) if !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) => p
            .parse()
            .map(Some)
            .map_err(|_| "the ResponseURL's port is out of range".into()),
        _ => Err("the ResponseURL's port is not a number".into()),
    }
}

/// The S3 endpoint a host names: its partition's domain, the region it names (none for the
/// global `s3` endpoint), and the bucket when virtual-hosted.
struct Endpoint<'a> {
    bucket: Option<&'a str>,
    region: Option<&'a str>,
    china: bool,
}

fn endpoint(host: &str) -> Option<Endpoint<'_>> {
    let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
        Some(rest) => (rest, true),
        None => (host.strip_suffix(".amazonaws.com")?, false),
    };
    let mut labels: Vec<&str> = rest.split('.').collect();
    let bucket = match labels.first() {
        Some(l) if l.starts_with(BUCKET_PREFIX) => Some(labels.remove(0)),
        _ => None,
    };
    let region = match labels.as_slice() {
        ["s3"] => None,
        ["s3-external-1"] => Some("us-east-1"),
        // FIPS and dual-stack endpoints: not seen in CloudFormation's URLs, but AWS's own, and
        // a GovCloud stack hung for an hour on a refused one would cost more than admitting them.
        ["s3" | "s3-fips", region] | ["s3" | "s3-fips", "dualstack", region] => Some(*region),
        [dash] => Some(dash.strip_prefix("s3-")?),
        _ => return None,
    };
    if region.is_some_and(|r| !is_region(r)) {
        return None;
    }
    Some(Endpoint {
        bucket,
        region,
        china,
    })
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-2`: letters in dashed groups, then
/// a number.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region as CloudFormation writes it in its bucket's name: without dashes.
fn compact(region: &str) -> String {
    region.replace('-', "")
}

/// The host (and, path style, the first path segment) must be CloudFormation's response bucket
/// of one region on an S3 endpoint of that region's partition, that region being the
/// function's own when it is known.
fn response_bucket(host: &str, path_bucket: &str, own: Option<&str>) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("the ResponseURL's host {host:?} {why}"));
    let Some(ep) = endpoint(host) else {
        return refuse("is not an S3 endpoint (nor in ALLOWED_RESPONSE_HOSTS)");
    };
    let bucket = ep.bucket.unwrap_or(path_bucket);
    let Some(bucket_region) = bucket.strip_prefix(BUCKET_PREFIX).filter(|r| {
        !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }) else {
        return refuse("does not lead to CloudFormation's response bucket");
    };
    if ep.china != bucket_region.starts_with("cn") {
        return refuse("is not in the partition of the response bucket's region");
    }
    if ep.region.is_some_and(|r| compact(r) != bucket_region) {
        return refuse("is an S3 endpoint of another region than the response bucket's");
    }
    match own {
        Some(own) if compact(own) != bucket_region || own.starts_with("cn-") != ep.china => {
            refuse("leads to another region's response bucket than this function's")
        }
        _ => Ok(()),
    }
}

/// When CloudFormation signed the URL (Unix seconds): its SigV4 `X-Amz-Date`
/// (`YYYYMMDDTHHMMSSZ`), or its SigV2 `Expires` less the presign lifetime. `None` when it
/// carries neither in a form read here.
pub fn sent_at(url: &str) -> Option<i64> {
    let uri: Uri = url.parse().ok()?;
    let query = uri.query()?;
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    if let Some(date) = param("X-Amz-Date") {
        return amz_date(date);
    }
    let expires: i64 = param("Expires")?.parse().ok()?;
    expires.checked_sub(PRESIGN_LIFETIME_SECS)
}

/// `20261122T120000Z` as Unix seconds.
fn amz_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// When a request's time starts: when CloudFormation sent it, as its URL says, but never later
/// than `now` (a forged future date gains no time) and never earlier than the service timeout
/// and a slack before `now` (a forged ancient date only fails its own request at once).
pub fn received_at(url: &str, now: i64, timeout_secs: i64) -> i64 {
    sent_at(url).map_or(now, |sent| {
        sent.clamp(now - timeout_secs - SENT_AT_SLACK_SECS, now)
    })
}

#[cfg(test)]
mod tests;
