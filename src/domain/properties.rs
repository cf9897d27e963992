//! The `Custom::AuroraClone` properties, parsed strictly from what CloudFormation sends (every
//! scalar a string). A bad value is refused with the property's name and the rule it breaks;
//! nothing is ever guessed (a boolean is `true` or `false`, never any string).

use crate::domain::capacity::{check, Capacity, DEFAULT_CLONE_CAPACITY, SERVERLESS};
use crate::domain::expiry::{ExpiresWhen, ExpiryAction, ExpirySpec};
use crate::domain::{ident, Tags};
use serde_json::{Map, Value};
use std::time::Duration;
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{property}: {rule}")]
pub struct PropertyError {
    pub property: &'static str,
    pub rule: String,
}

fn err(property: &'static str, rule: impl Into<String>) -> PropertyError {
    PropertyError {
        property,
        rule: rule.into(),
    }
}

/// What a `Custom::AuroraClone` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CloneProperties {
    pub source_cluster_id: String,
    pub cluster_id: Option<String>,
    pub copy_ok: bool,
    pub instance_class: Option<String>,
    pub copy_created_since: Option<OffsetDateTime>,
    pub set_password: bool,
    pub access_principal_arns: Vec<String>,
    pub kms_key_id: Option<String>,
    pub force_create_kms_key: bool,
    pub secret_prefix: Option<String>,
    pub no_fail_on_existing_cluster: bool,
    pub purge_obsolete_copies: bool,
    pub tags: Tags,
    /// CloudFormation's own `ServiceTimeout`, seconds (1–3600).
    pub service_timeout: Option<u32>,
    /// `MinCapacity`/`MaxCapacity`: the Serverless v2 range, with `InstanceClass: db.serverless`
    /// (which without them scales in `DEFAULT_CLONE_CAPACITY`).
    pub capacity: Option<Capacity>,
    /// `ExpiresAfter` or `ExpiresAt`, and `ExpiryAction`.
    pub expiry: Option<ExpirySpec>,
    /// `RefreshSchedule` and `RefreshTimezone`: when the clone is refreshed in place.
    pub refresh: Option<RefreshSpec>,
    /// `Prepare`, `PrepareTimeout`, `PreparerArns`: a preparation step before anyone else may
    /// read the clone.
    pub prepare: Option<PrepareSpec>,
}

/// A preparation step (masking, fixtures) the clone waits for before it is handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareSpec {
    /// How long the preparer has, from when it is asked.
    pub timeout: Duration,
    /// Who may read the master secret while the clone is prepared (and nobody else).
    pub preparers: Vec<String>,
}

/// `PrepareTimeout` when none is given.
pub const DEFAULT_PREPARE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// When a clone is refreshed in place: an EventBridge Scheduler expression and its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSpec {
    pub schedule: String,
    /// IANA zone name; `None` is UTC.
    pub timezone: Option<String>,
}

const KNOWN: &[&str] = &[
    "ServiceToken",
    "ServiceTimeout",
    "SourceClusterId",
    "ClusterId",
    "CopyOk",
    "InstanceClass",
    "CopyCreatedSince",
    "SetPassword",
    "AccessPrincipalArns",
    "KmsKeyId",
    "ForceCreateKmsKey",
    "SecretPrefix",
    "SecretpPrefix",
    "NoFailOnExistingCluster",
    "PurgeObsoleteCopies",
    "Tags",
    "MinCapacity",
    "MaxCapacity",
    "ExpiresAfter",
    "ExpiresAt",
    "ExpiryAction",
    "RefreshSchedule",
    "RefreshTimezone",
    "Prepare",
    "PrepareTimeout",
    "PreparerArns",
];

impl CloneProperties {
    pub fn parse(props: &Value) -> Result<CloneProperties, PropertyError> {
        let map = props
            .as_object()
            .ok_or_else(|| err("ResourceProperties", "must be an object"))?;
        for key in map.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
            tracing::warn!(property = %key, "ignoring unknown property");
        }
        let source =
            text(map, "SourceClusterId")?.ok_or_else(|| err("SourceClusterId", "is required"))?;
        ident::check(&source).map_err(|r| err("SourceClusterId", r))?;
        let cluster_id = text(map, "ClusterId")?;
        if let Some(id) = &cluster_id {
            ident::check(id).map_err(|r| err("ClusterId", r))?;
        }
        let instance_class = instance_class(map)?;
        Ok(CloneProperties {
            capacity: capacity(map, instance_class.as_deref())?,
            expiry: expiry(map)?,
            refresh: refresh(map)?,
            prepare: prepare(map)?,
            source_cluster_id: source.to_ascii_lowercase(),
            cluster_id: cluster_id.map(|c| c.to_ascii_lowercase()),
            copy_ok: boolean(map, "CopyOk")?.unwrap_or(true),
            instance_class,
            copy_created_since: timestamp(map, "CopyCreatedSince")?,
            set_password: boolean(map, "SetPassword")?.unwrap_or(false),
            access_principal_arns: principals(map)?,
            kms_key_id: text(map, "KmsKeyId")?,
            force_create_kms_key: boolean(map, "ForceCreateKmsKey")?.unwrap_or(false),
            secret_prefix: secret_prefix(map)?,
            no_fail_on_existing_cluster: boolean(map, "NoFailOnExistingCluster")?.unwrap_or(false),
            purge_obsolete_copies: boolean(map, "PurgeObsoleteCopies")?.unwrap_or(true),
            tags: tags(map)?,
            service_timeout: parse_service_timeout(map)?,
        })
    }
}

/// `ExpiresAfter` (an ISO-8601 duration from the clone's creation, `PT1M` to `P365D`) or
/// `ExpiresAt` (RFC 3339), and `ExpiryAction` (`notify`, `stop` or `delete`; default `stop`).
fn expiry(map: &Map<String, Value>) -> Result<Option<ExpirySpec>, PropertyError> {
    let after = text(map, "ExpiresAfter")?
        .map(|t| {
            let d = crate::domain::duration::parse_iso_duration(&t)
                .map_err(|r| err("ExpiresAfter", r))?;
            if d < Duration::from_secs(60) || d > Duration::from_secs(365 * 86_400) {
                return Err(err(
                    "ExpiresAfter",
                    format!("must be from PT1M to P365D, got {t:?}"),
                ));
            }
            Ok(d)
        })
        .transpose()?;
    let at = timestamp(map, "ExpiresAt")?;
    let action = match text(map, "ExpiryAction")? {
        None => None,
        Some(a) => Some(ExpiryAction::parse(&a.to_ascii_lowercase()).ok_or_else(|| {
            err(
                "ExpiryAction",
                format!("must be notify, stop or delete, got {a:?}"),
            )
        })?),
    };
    let when = match (after, at) {
        (Some(_), Some(_)) => {
            return Err(err("ExpiresAt", "give ExpiresAfter or ExpiresAt, not both"))
        }
        (Some(d), None) => ExpiresWhen::After(d),
        (None, Some(t)) => ExpiresWhen::At(t),
        (None, None) if action.is_some() => {
            return Err(err("ExpiryAction", "needs ExpiresAfter or ExpiresAt"))
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(ExpirySpec {
        when,
        action: action.unwrap_or(ExpiryAction::Stop),
    }))
}

/// `Prepare` (with `SetPassword`: the preparer reads the clone's own secret), `PrepareTimeout`
/// (ISO 8601, PT1M to PT55M: within CloudFormation's hour) and `PreparerArns`.
fn prepare(map: &Map<String, Value>) -> Result<Option<PrepareSpec>, PropertyError> {
    let timeout = text(map, "PrepareTimeout")?
        .map(|t| {
            let d = crate::domain::duration::parse_iso_duration(&t)
                .map_err(|r| err("PrepareTimeout", r))?;
            match d >= Duration::from_secs(60) && d <= Duration::from_secs(55 * 60) {
                true => Ok(d),
                false => Err(err("PrepareTimeout", format!("must be from PT1M to PT55M (CloudFormation waits an hour at most), got {t:?}"))),
            }
        })
        .transpose()?;
    let preparers = arns(map, "PreparerArns")?;
    if boolean(map, "Prepare")? != Some(true) {
        return match (timeout, preparers.is_empty()) {
            (None, true) => Ok(None),
            _ => Err(err(
                "Prepare",
                "PrepareTimeout and PreparerArns need Prepare: true",
            )),
        };
    }
    if boolean(map, "SetPassword")? != Some(true) {
        return Err(err("Prepare", "needs SetPassword: true (the preparer reads the clone's own secret; nobody else may until it reports)"));
    }
    Ok(Some(PrepareSpec {
        timeout: timeout.unwrap_or(DEFAULT_PREPARE_TIMEOUT),
        preparers,
    }))
}

/// `RefreshSchedule` (a Scheduler `cron(...)` or `rate(...)`) and `RefreshTimezone`.
fn refresh(map: &Map<String, Value>) -> Result<Option<RefreshSpec>, PropertyError> {
    let timezone = text(map, "RefreshTimezone")?;
    if let Some(zone) = &timezone {
        crate::domain::refresh::check_timezone(zone).map_err(|r| err("RefreshTimezone", r))?;
    }
    match text(map, "RefreshSchedule")? {
        Some(schedule) => {
            crate::domain::refresh::check_schedule(&schedule)
                .map_err(|r| err("RefreshSchedule", r))?;
            Ok(Some(RefreshSpec { schedule, timezone }))
        }
        None if timezone.is_some() => Err(err("RefreshTimezone", "needs RefreshSchedule")),
        None => Ok(None),
    }
}

/// `MinCapacity` and `MaxCapacity`: half ACUs, only with `InstanceClass: db.serverless`.
fn capacity(
    map: &Map<String, Value>,
    class: Option<&str>,
) -> Result<Option<Capacity>, PropertyError> {
    let number = |key: &'static str| -> Result<Option<f64>, PropertyError> {
        text(map, key)?
            .map(|t| {
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| err(key, format!("must be a number of ACUs, got {t:?}")))
            })
            .transpose()
    };
    let (min, max) = (number("MinCapacity")?, number("MaxCapacity")?);
    if class != Some(SERVERLESS) {
        return match (min, max) {
            (None, None) => Ok(None),
            _ => Err(err(
                "MinCapacity",
                "MinCapacity and MaxCapacity apply only with InstanceClass db.serverless",
            )),
        };
    }
    let c = Capacity {
        min: min.unwrap_or(DEFAULT_CLONE_CAPACITY.min),
        max: max.unwrap_or(DEFAULT_CLONE_CAPACITY.max.max(min.unwrap_or(0.0))),
    };
    check(c).map_err(|r| err("MinCapacity", r))?;
    Ok(Some(c))
}

/// A string property; numbers are taken as their text, empty strings as absent.
fn text(map: &Map<String, Value>, key: &'static str) -> Result<Option<String>, PropertyError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(err(key, format!("must be a string, got {}", kind(other)))),
    }
}

/// `true` or `false` in any case, and nothing else.
pub fn boolean(map: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, PropertyError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(err(
            key,
            format!("must be true or false, got {}", shown(other)),
        )),
    }
}

fn instance_class(map: &Map<String, Value>) -> Result<Option<String>, PropertyError> {
    let Some(class) = text(map, "InstanceClass")? else {
        return Ok(None);
    };
    if class == SERVERLESS {
        return Ok(Some(class));
    }
    let parts: Vec<&str> = class.split('.').collect();
    let ok = parts.len() == 3
        && parts[0] == "db"
        && parts[1..].iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if ok {
        Ok(Some(class))
    } else {
        Err(err(
            "InstanceClass",
            format!(
                "must be a DB instance class such as db.r6g.large, or db.serverless, got {class:?}"
            ),
        ))
    }
}

fn timestamp(
    map: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<OffsetDateTime>, PropertyError> {
    let Some(t) = text(map, key)? else {
        return Ok(None);
    };
    if let Ok(ts) = OffsetDateTime::parse(&t, &Rfc3339) {
        return Ok(Some(ts));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(&t, &date_format) {
        Ok(d) => Ok(Some(d.midnight().assume_utc())),
        Err(_) => Err(err(
            key,
            format!(
                "must be an RFC 3339 time (2024-05-01T12:00:00Z) or a date (2024-05-01), got {t:?}"
            ),
        )),
    }
}

/// A JSON list, a JSON list in a string, or a comma-separated string.
fn list(map: &Map<String, Value>, key: &'static str) -> Result<Vec<String>, PropertyError> {
    let items: Vec<Value> = match map.get(key) {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            serde_json::from_str::<Vec<Value>>(s).map_err(|e| {
                err(
                    key,
                    format!("must be a JSON list of strings or a comma-separated string: {e}"),
                )
            })?
        }
        Some(Value::String(s)) => s.split(',').map(|p| Value::String(p.to_string())).collect(),
        Some(other) => {
            return Err(err(
                key,
                format!("must be a list of strings, got {}", kind(other)),
            ))
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => out.push(s.trim().to_string()),
            other => {
                return Err(err(
                    key,
                    format!("must hold only strings, got {}", kind(&other)),
                ))
            }
        }
    }
    Ok(out)
}

fn principals(map: &Map<String, Value>) -> Result<Vec<String>, PropertyError> {
    arns(map, "AccessPrincipalArns")
}

/// A list of IAM principal ARNs, without wildcards.
fn arns(map: &Map<String, Value>, key: &'static str) -> Result<Vec<String>, PropertyError> {
    let arns = list(map, key)?;
    for arn in &arns {
        if arn == "*" || !arn.starts_with("arn:") || arn.split(':').count() < 6 {
            return Err(err(
                key,
                format!("must hold IAM principal ARNs (no wildcards), got {arn:?}"),
            ));
        }
    }
    Ok(arns)
}

/// `SecretPrefix`, or the original's misspelt `SecretpPrefix`.
fn secret_prefix(map: &Map<String, Value>) -> Result<Option<String>, PropertyError> {
    let prefix = match text(map, "SecretPrefix")? {
        Some(p) => Some(p),
        None => text(map, "SecretpPrefix")?,
    };
    if let Some(p) = &prefix {
        let ok = p.len() <= 400
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
        if !ok {
            return Err(err(
                "SecretPrefix",
                format!("may contain only letters, digits and /_+=.@- , got {p:?}"),
            ));
        }
    }
    Ok(prefix)
}

/// A map `{key: value}` or a list of `{Key, Value}`, as CloudFormation users write tags.
fn tags(map: &Map<String, Value>) -> Result<Tags, PropertyError> {
    let mut out = Tags::new();
    let mut add = |k: &str, v: &Value| -> Result<(), PropertyError> {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(err(
                    "Tags",
                    format!("tag {k:?} must have a string value, got {}", kind(other)),
                ))
            }
        };
        if k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:") {
            return Err(err(
                "Tags",
                format!(
                    "tag {k:?}: keys 1-128 characters not starting with aws:, values up to 256"
                ),
            ));
        }
        out.insert(k.to_string(), v);
        Ok(())
    };
    match map.get("Tags") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => o.iter().try_for_each(|(k, v)| add(k, v))?,
        Some(Value::Array(items)) => {
            for item in items {
                let (Some(Value::String(k)), Some(v)) = (item.get("Key"), item.get("Value")) else {
                    return Err(err(
                        "Tags",
                        "a list of tags must hold {\"Key\": ..., \"Value\": ...} objects",
                    ));
                };
                add(k, v)?;
            }
        }
        Some(other) => {
            return Err(err(
                "Tags",
                format!("must be a map of strings, got {}", kind(other)),
            ))
        }
    }
    Ok(out)
}

/// CloudFormation's `ServiceTimeout` of any request, read leniently (a Delete's properties are
/// never rejected): the property when valid, else CloudFormation's default of one hour.
pub fn service_timeout(props: &Value) -> u32 {
    props
        .as_object()
        .and_then(|m| parse_service_timeout(m).ok().flatten())
        .unwrap_or(3600)
}

fn parse_service_timeout(map: &Map<String, Value>) -> Result<Option<u32>, PropertyError> {
    let Some(t) = text(map, "ServiceTimeout")? else {
        return Ok(None);
    };
    match t.parse::<u32>() {
        Ok(n) if (1..=3600).contains(&n) => Ok(Some(n)),
        _ => Err(err(
            "ServiceTimeout",
            format!("must be whole seconds from 1 to 3600, got {t:?}"),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
