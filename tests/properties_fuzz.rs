//! Property tests of everything that reads outside input: the event classifier, the resource's
//! properties, the response body, and the maintenance config (JSON and EDN). None may panic,
//! loop or overflow the stack, whatever it is given.

use aurora_clone_manager::cfn::response::MAX_BODY_BYTES;
use aurora_clone_manager::cfn::{CfnRequest, Outcome, ResponseBody};
use aurora_clone_manager::config::maintenance::MaintenanceConfig;
use aurora_clone_manager::lambda::Event;
use aurora_clone_manager::properties::CloneProperties;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const KEYS: &[&str] = &[
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceProperties",
    "OldResourceProperties",
    "ResourceType",
    "source",
    "action",
    "detail-type",
];

const PROPERTIES: &[&str] = &[
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
    "ServiceTimeout",
];

fn event_like() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS), any_json(), 0..10)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn properties_like() -> impl Strategy<Value = Value> {
    let value = prop_oneof![any_json(), ".{0,80}".prop_map(Value::String)];
    prop::collection::btree_map(prop::sample::select(PROPERTIES), value, 0..12)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn request(stack: &str, request_id: &str, logical: &str) -> CfnRequest {
    serde_json::from_value(json!({"RequestType": "Create", "ResponseURL": "https://x",
        "StackId": stack, "RequestId": request_id, "LogicalResourceId": logical}))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn classify_never_panics(v in prop_oneof![any_json(), event_like()]) {
        let _ = Event::classify(&v);
    }

    /// A request with a usable ResponseURL, RequestId, StackId and LogicalResourceId is always
    /// answerable, however malformed the rest.
    #[test]
    fn answerable_requests_are_never_ignored(mut v in event_like(), kind in ".{0,10}") {
        for (k, s) in [("ResponseURL", "https://r"), ("RequestId", "r"), ("StackId", "s"), ("LogicalResourceId", "L")] {
            v[k] = json!(s);
        }
        v["RequestType"] = json!(kind);
        prop_assert!(matches!(Event::classify(&v), Event::CloudFormation(_) | Event::Malformed(..)));
    }

    #[test]
    fn properties_parse_or_say_why(v in prop_oneof![any_json(), properties_like()]) {
        if let Err(e) = CloneProperties::parse(&v) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn response_bodies_are_valid_json_within_4096_bytes(
        stack in ".{0,3000}", request_id in ".{0,3000}", logical in ".{0,3000}",
        reason in ".{0,6000}", physical in ".{0,2000}",
        data in prop::collection::btree_map(".{0,50}", ".{0,500}", 0..20),
        failed in any::<bool>(),
    ) {
        let outcome = if failed {
            Outcome::failed(physical, reason)
        } else {
            Outcome::success(physical, data)
        };
        let bytes = ResponseBody::new(&request(&stack, &request_id, &logical), outcome).to_bytes();
        prop_assert!(bytes.len() <= MAX_BODY_BYTES, "{} bytes", bytes.len());
        let v: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        prop_assert!(v["Reason"].is_string());
        prop_assert!(!v["PhysicalResourceId"].as_str().unwrap_or_default().is_empty());
    }

    #[test]
    fn maintenance_configs_parse_or_say_why(text in prop_oneof![
        ".{0,200}",
        any_json().prop_map(|v| v.to_string()),
        any_json().prop_map(|v| json!({"clusters": [v]}).to_string()),
    ]) {
        let _ = MaintenanceConfig::parse(&text);
    }
}

/// 10,000 nested brackets, as JSON and as EDN, on a thread with a 256 KiB stack: an error,
/// never a stack overflow.
#[test]
fn deeply_nested_configs_are_refused_on_a_small_stack() {
    let deep = |open: &str, close: &str| format!("{}{}", open.repeat(10_000), close.repeat(10_000));
    let inputs = [
        deep("[", "]"),
        deep("{:a ", "}"),
        deep("(", ")"),
        format!("{{\"clusters\": {}}}", deep("[", "]")),
        format!("{{:clusters {}}}", deep("[", "]")),
        deep("#{", "}"),
    ];
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            inputs
                .iter()
                .map(|t| MaintenanceConfig::parse(t).is_err())
                .collect::<Vec<_>>()
        })
        .expect("thread");
    let refused = handle.join().expect("no stack overflow");
    assert!(refused.iter().all(|r| *r), "{refused:?}");
}
