use super::*;

const V4: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261122T115900Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7199&X-Amz-Credential=AKIAEXAMPLE%2F20261122%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0123abcd";
const V2: &str = "AWSAccessKeyId=AKIAEXAMPLE&Expires=1795356000&Signature=abc%2Bdef%3D";
const KEY: &str =
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/app/1111%7CDb%7Creq-1";

/// Every form a genuine ResponseURL takes, in us-east-1, with both signature versions.
fn genuine_us_east_1() -> Vec<String> {
    let b = "cloudformation-custom-resource-response-useast1";
    let hosts_and_paths = [
        (format!("{b}.s3.amazonaws.com"), format!("/{KEY}")),
        (format!("{b}.s3.us-east-1.amazonaws.com"), format!("/{KEY}")),
        (format!("{b}.s3-us-east-1.amazonaws.com"), format!("/{KEY}")),
        (
            format!("{b}.s3-external-1.amazonaws.com"),
            format!("/{KEY}"),
        ),
        ("s3.amazonaws.com".into(), format!("/{b}/{KEY}")),
        ("s3.us-east-1.amazonaws.com".into(), format!("/{b}/{KEY}")),
        ("s3-us-east-1.amazonaws.com".into(), format!("/{b}/{KEY}")),
        ("s3-external-1.amazonaws.com".into(), format!("/{b}/{KEY}")),
    ];
    let mut urls = vec![];
    for (host, path) in &hosts_and_paths {
        for query in [V4, V2] {
            urls.push(format!("https://{host}{path}?{query}"));
        }
        urls.push(format!("https://{host}:443{path}?{V4}"));
    }
    urls
}

#[test]
fn every_genuine_form_is_accepted_knowing_the_region_or_not() {
    for url in genuine_us_east_1() {
        assert_eq!(check(&url, &[], Some("us-east-1")), Ok(()), "{url}");
        assert_eq!(check(&url, &[], None), Ok(()), "{url}");
    }
}

#[test]
fn genuine_forms_of_other_regions_and_partitions_are_accepted() {
    let cases = [
        ("https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/k", "eu-west-1"),
        ("https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/k", "eu-west-1"),
        ("https://s3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/k", "eu-west-1"),
        ("https://cloudformation-custom-resource-response-apsoutheast2.s3.ap-southeast-2.amazonaws.com/k", "ap-southeast-2"),
        ("https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com/k", "us-gov-west-1"),
        ("https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/k", "cn-north-1"),
        ("https://cloudformation-custom-resource-response-cnnorth1.s3.amazonaws.com.cn/k", "cn-north-1"),
        ("https://s3.cn-northwest-1.amazonaws.com.cn/cloudformation-custom-resource-response-cnnorthwest1/k", "cn-northwest-1"),
        ("https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/k", "eu-west-1"),
        ("https://cloudformation-custom-resource-response-usgovwest1.s3-fips.us-gov-west-1.amazonaws.com/k", "us-gov-west-1"),
        ("https://s3-fips.us-gov-west-1.amazonaws.com/cloudformation-custom-resource-response-usgovwest1/k", "us-gov-west-1"),
        ("https://cloudformation-custom-resource-response-euwest1.s3.dualstack.eu-west-1.amazonaws.com/k", "eu-west-1"),
    ];
    for (url, region) in cases {
        for query in ["", V2, V4] {
            let url = format!("{url}?{query}");
            assert_eq!(check(&url, &[], Some(region)), Ok(()), "{url}");
            assert_eq!(check(&url, &[], None), Ok(()), "{url}");
        }
    }
}

#[test]
fn hostile_forms_are_refused() {
    let b = "cloudformation-custom-resource-response-useast1";
    let hostile = [
        // The port trick: the client connects to evil.example.
        format!("https://evil.example:443.{b}.s3.amazonaws.com/x"),
        "https://evil.example:443.s3.amazonaws.com/x".into(),
        format!("https://{b}.s3.amazonaws.com:443.evil.example/x"),
        format!("https://{b}.s3.amazonaws.com:x/x"),
        format!("https://{b}.s3.amazonaws.com:/x"),
        format!("https://{b}.s3.amazonaws.com:8443/x"),
        // Userinfo.
        format!("https://{b}.s3.amazonaws.com@evil.example/x"),
        format!("https://user:pw@{b}.s3.amazonaws.com/x"),
        // Encoded, uppercase, trailing dots, look-alikes.
        format!("https://{b}.s3%2eamazonaws.com/x"),
        format!("https://{b}%2es3.amazonaws.com/x"),
        "https://CLOUDFORMATION-CUSTOM-RESOURCE-RESPONSE-USEAST1.S3.AMAZONAWS.COM/x".into(),
        format!("https://{b}.S3.amazonaws.com/x"),
        format!("https://{b}.s3.amazonaws.com./x"),
        format!("https://{b}.s3.amazonaws.com.evil.example/x"),
        "https://s3.amazonaws.com.evil.example/x".into(),
        format!("https://{b}.s3.amazonaws.com.cn.evil.example/x"),
        format!("https://{b}.s3.amazonaws.co/x"),
        format!("https://{b}.sqs.us-east-1.amazonaws.com/x"),
        format!("https://{b}.s3.dualstack.evil.amazonaws.com/x"),
        format!("https://x.{b}.s3.amazonaws.com/x"),
        format!("https://{b}.s3-fips.evil.amazonaws.com/x"),
        format!("https://{b}.s3.us-east-1.evil.amazonaws.com/x"),
        // Another bucket, on S3 or in the path.
        "https://attacker-bucket.s3.amazonaws.com/x".into(),
        "https://s3.us-east-1.amazonaws.com/attacker-bucket/cloudformation-custom-resource-response-useast1/x".into(),
        "https://s3.us-east-1.amazonaws.com/x?b=cloudformation-custom-resource-response-useast1".into(),
        "https://cloudformation-custom-resource-response-.s3.amazonaws.com/x".into(),
        "https://cloudformation-custom-resource-response-useast1x.s3.us-east-1.amazonaws.com/x".into(),
        "https://s3.us-east-1.amazonaws.com/cloudformation-custom-resource-response-us%65ast1/x".into(),
        // The bucket of another region than the endpoint's, another partition's domain.
        format!("https://{b}.s3.eu-west-1.amazonaws.com/x"),
        format!("https://{b}.s3.amazonaws.com.cn/x"),
        "https://cloudformation-custom-resource-response-cnnorth1.s3.amazonaws.com/x".into(),
        "https://cloudformation-custom-resource-response-cnnorth1.s3.us-east-1.amazonaws.com.cn/x".into(),
        // Not https, not a URL, no host.
        format!("http://{b}.s3.amazonaws.com/x"),
        format!("ftp://{b}.s3.amazonaws.com/x"),
        format!("{b}.s3.amazonaws.com/x"),
        "not a url".into(),
        "https://amazonaws.com/x".into(),
        "https:///x".into(),
    ];
    for url in &hostile {
        assert!(check(url, &[], None).is_err(), "{url}");
        assert!(check(url, &[], Some("us-east-1")).is_err(), "{url}");
    }
}

#[test]
fn knowing_its_region_the_function_takes_only_its_own_bucket() {
    let eu = "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/k";
    assert!(check(eu, &[], Some("us-east-1")).is_err());
    let cn =
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/k";
    assert!(check(cn, &[], Some("us-east-1")).is_err());
    let us = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k";
    assert!(check(us, &[], Some("cn-north-1")).is_err());
    assert!(check(us, &[], Some("us-east-2")).is_err());
}

#[test]
fn refusals_never_quote_the_url_path_or_signature() {
    let url = "https://attacker-bucket.s3.amazonaws.com/secret-key?X-Amz-Signature=s3cr3t";
    let why = check(url, &[], None).unwrap_err();
    assert!(
        !why.contains("secret-key") && !why.contains("s3cr3t"),
        "{why}"
    );
}

#[test]
fn listed_hosts_may_be_http_with_a_port_but_nothing_else_is_loosened() {
    let local = vec!["127.0.0.1".to_string(), "cfn-responses.example".to_string()];
    assert_eq!(check("http://127.0.0.1:8080/r?sig", &local, None), Ok(()));
    assert_eq!(
        check("https://cfn-responses.example/r", &local, None),
        Ok(())
    );
    for bad in [
        "http://127.0.0.2:8080/r",
        "http://127.0.0.1:80x/r",
        "http://evil.example:8080.127.0.0.1/r",
        "http://u@127.0.0.1/r",
        "ftp://127.0.0.1/r",
    ] {
        assert!(check(bad, &local, None).is_err(), "{bad}");
    }
}

#[test]
fn the_pin_reads_the_host_the_http_client_connects_to() {
    // Whatever `check` accepts, the PUT's own parser reads the same host and port.
    for url in genuine_us_east_1() {
        let mut request = aws_smithy_runtime_api::client::orchestrator::HttpRequest::new(
            aws_smithy_types::body::SdkBody::empty(),
        );
        request.set_uri(url.as_str()).expect("the client parses it");
        let uri: Uri = request.uri().parse().expect("uri");
        assert!(uri.host().unwrap().ends_with(".amazonaws.com"), "{url}");
        assert!(uri.port_u16().is_none_or(|p| p == 443), "{url}");
    }
}

#[test]
fn cloudformation_signed_at_x_amz_date_or_two_hours_before_expires() {
    let at = time::macros::datetime!(2026-11-22 11:59 UTC).unix_timestamp();
    let v4 = format!("https://s3.amazonaws.com/b/k?{V4}");
    assert_eq!(sent_at(&v4), Some(at));
    let v2 = format!("https://s3.amazonaws.com/b/k?{V2}");
    assert_eq!(sent_at(&v2), Some(1_795_356_000 - 7200));
    for none in [
        "https://s3.amazonaws.com/b/k",
        "https://s3.amazonaws.com/b/k?X-Amz-Signature=a",
        "https://s3.amazonaws.com/b/k?Expires=soon",
        "https://s3.amazonaws.com/b/k?X-Amz-Date=yesterday",
        "not a url",
    ] {
        assert_eq!(sent_at(none), None, "{none}");
    }
}

#[test]
fn the_time_a_request_starts_is_cloudformations_within_bounds() {
    let now = time::macros::datetime!(2026-11-22 12:00 UTC).unix_timestamp();
    let url = |date: &str| format!("https://s3.amazonaws.com/b/k?X-Amz-Date={date}");
    // Sent 59 min 40 s ago: the request's time started then.
    assert_eq!(received_at(&url("20261122T110020Z"), now, 3600), now - 3580);
    // A future date gains nothing; an ancient one is held to the timeout and the slack.
    assert_eq!(received_at(&url("20261122T130000Z"), now, 3600), now);
    assert_eq!(
        received_at(&url("20261101T000000Z"), now, 3600),
        now - 3600 - SENT_AT_SLACK_SECS
    );
    // No date: the function's own clock.
    assert_eq!(received_at("https://s3.amazonaws.com/b/k", now, 3600), now);
}
