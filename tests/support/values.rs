//! Values the tests build again and again: tags from pairs, CloudFormation requests.

use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::domain::Tags;
use serde_json::{json, Value};

/// The consumer stack of requests that need no particular one.
pub const APP_STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1";

/// A ResponseURL for requests that are never answered over HTTP.
pub const NOWHERE: &str =
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x";

/// Tags from `(key, value)` pairs.
pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A CloudFormation request about the clone resource `Db` of `stack_id`, as Lambda hands it
/// over: `kind` (Create, Update, Delete) with `props`, answered at `url`.
pub fn cfn_request(kind: &str, stack_id: &str, id: &str, url: &str, props: Value) -> CfnRequest {
    serde_json::from_value(
        json!({"RequestType": kind, "ResponseURL": url, "StackId": stack_id,
        "RequestId": id, "ResourceType": "Custom::AuroraClone", "LogicalResourceId": "Db",
        "ResourceProperties": props}),
    )
    .expect("a request")
}

/// The distinct bodies among `bodies` (a resend of the same body counts once), in order.
pub fn distinct(bodies: Vec<Value>) -> Vec<Value> {
    let set: std::collections::BTreeSet<String> = bodies.iter().map(Value::to_string).collect();
    set.iter()
        .map(|s| serde_json::from_str(s).expect("JSON"))
        .collect()
}
