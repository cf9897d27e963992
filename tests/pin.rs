//! Issue 16, item 11: the ResponseURL pin through the real handler. A request whose answer would
//! go anywhere but CloudFormation's response bucket is not served: nothing recorded, nothing
//! made, nothing sent. (The forms themselves are table-tested in `cfn::url::tests`.)

mod support;

use serde_json::json;
use support::world::*;

#[tokio::test(start_paused = true)]
async fn a_response_url_leading_off_cloudformations_bucket_is_never_served() {
    let w = World::new();
    for url in [
        // The HTTP client would connect to evil.example (the ":443." is no port).
        "https://evil.example:443.s3.amazonaws.com/x?X-Amz-Signature=a",
        "https://evil.example:443.cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        // S3, but anyone's bucket.
        "https://attacker-bucket.s3.us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://s3.us-east-1.amazonaws.com/attacker-bucket/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com@evil.example/x",
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
    ] {
        let mut r = w.request("Create", json!({"SourceClusterId": "orders"}));
        r.response_url = url.into();
        let out = w.deliver(&r).await;
        let why = out["ignored"].as_str().unwrap_or_default();
        assert!(!why.is_empty(), "{url} was served: {out}");
        assert!(!why.contains("/x"), "the refusal quotes the URL: {why}");
    }
    assert!(w.rds.calls().is_empty(), "nothing made");
    assert!(w.state.request_ids().is_empty(), "nothing recorded");
    assert!(w.answers().is_empty(), "nothing sent");
}

#[tokio::test(start_paused = true)]
async fn a_genuine_response_url_is_served() {
    let w = World::new();
    let mut r = w.request("Create", json!({"SourceClusterId": "orders"}));
    // The function pins its own region (AWS_REGION) when it is set.
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let domain = match region.starts_with("cn-") {
        true => "amazonaws.com.cn",
        false => "amazonaws.com",
    };
    let bucket = format!(
        "cloudformation-custom-resource-response-{}",
        region.replace('-', "")
    );
    r.response_url = format!("https://{bucket}.s3.{region}.{domain}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/app/1111%7CDb%7Creq-1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261122T115959Z&X-Amz-Expires=7200&X-Amz-SignedHeaders=host&X-Amz-Signature=abc");
    let out = w.deliver(&r).await;
    assert!(out.get("ignored").is_none(), "{out}");
    assert_eq!(w.state.request_ids().len(), 1, "recorded");
}
