//! The metrics a flow emits (a test binary of its own: capturing is process-wide): a Create's
//! time to answer and outcome, the pending work each follow-up sees, the pool maintenance keeps;
//! and the throttles its AWS calls meet, counted at the SDK boundary (through the fault layer
//! over moto).

mod support;

use aurora_clone_manager::adapters::counting::throttle_code;
use aurora_clone_manager::adapters::Clients;
use aurora_clone_manager::fakes::FakeRds;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::emf::{extract_doc, m, value, STACK};
use support::fault::{Fault, Faults};
use support::world::*;

fn docs(lines: &[String], metric: &str) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get(metric).is_some() && v["Stack"] == "acm")
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_create_and_maintenance_emit_their_metrics() {
    let capture = aurora_clone_manager::metrics::capture();
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(600),
        Duration::from_secs(300),
    ));
    w.parameters.set(
        "/acm/maintenance-config",
        r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":20}]}"#,
    );
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    let maintain = json!({"source": "events", "action": "maintain!"});
    w.handle(maintain).await.unwrap();
    let lines = capture.lines();
    let answered = docs(&lines, "TimeToAnswer");
    assert_eq!(answered.len(), 1, "{lines:?}");
    assert_eq!(answered[0]["Status"], "SUCCESS");
    assert!(
        answered[0]["TimeToAnswer"].as_f64().unwrap() >= 600.0,
        "{}",
        answered[0]
    );
    let pending = docs(&lines, "PendingRequests");
    assert!(
        pending.iter().any(|p| p["PendingRequests"] == 1),
        "{pending:?}"
    );
    let pool = docs(&lines, "FreeCloneSlots");
    assert_eq!(pool.len(), 1, "{pool:?}");
    assert_eq!(
        (pool[0]["Source"].clone(), pool[0]["FreeCloneSlots"].clone()),
        (json!("orders"), json!(14))
    );
    assert_eq!(pool[0]["PoolCopiesComing"], 1, "one copy for the shortfall");
}

// --- throttles at the SDK boundary ---------------------------------------------------------

#[test]
fn throttling_codes_are_read_in_every_protocol() {
    let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
    assert_eq!(
        throttle_code(400, None, query).as_deref(),
        Some("Throttling")
    );
    let ec2 =
        b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
    assert_eq!(
        throttle_code(503, None, ec2),
        None,
        "only 400 and 429 are throttles"
    );
    assert_eq!(
        throttle_code(400, None, ec2).as_deref(),
        Some("RequestLimitExceeded")
    );
    let json = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#;
    assert_eq!(
        throttle_code(400, None, json).as_deref(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        throttle_code(
            400,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"),
            b""
        )
        .as_deref(),
        Some("ThrottlingException")
    );
    assert_eq!(
        throttle_code(429, None, br#"{"message":"Too Many Requests"}"#).as_deref(),
        Some("TooManyRequests")
    );
    assert_eq!(
        throttle_code(429, Some("TooManyRequestsException"), b"").as_deref(),
        Some("TooManyRequestsException")
    );
    let not_found = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"}"#;
    assert_eq!(throttle_code(400, None, not_found), None);
    assert_eq!(
        throttle_code(
            400,
            None,
            b"<Error><Code>DBClusterNotFoundFault</Code></Error>"
        ),
        None
    );
    assert_eq!(throttle_code(500, None, query), None);
    assert_eq!(throttle_code(200, None, b"{}"), None);
    assert_eq!(throttle_code(400, None, b"\xff\xfe not text"), None);
}

#[tokio::test]
async fn throttled_attempts_are_counted_through_the_interceptor() {
    let faults = Faults::default();
    let clients = Clients::new(&faults.lambda_config());

    // DynamoDB (JSON protocol): the first two attempts throttled, the third answered by moto.
    let throttled = Arc::new(AtomicU32::new(0));
    let t = throttled.clone();
    faults.set(move |_, op| {
        if op == "dynamodb:ListTables" && t.fetch_add(1, Ordering::SeqCst) < 2 {
            Fault::Throttle
        } else {
            Fault::Pass
        }
    });
    clients
        .dynamodb
        .list_tables()
        .send()
        .await
        .expect("the third attempt passes");
    assert_eq!(
        clients.calls.take(),
        BTreeMap::from([("DynamoDB.ListTables".to_string(), 1)]),
        "one call"
    );
    assert_eq!(
        clients.calls.take_throttles(),
        BTreeMap::from([("DynamoDB.ListTables".to_string(), 2)]),
        "two throttled attempts"
    );

    // RDS (Query protocol, XML errors): every attempt throttled.
    faults.set(|_, op| {
        if op == "rds:DescribeDBClusters" {
            Fault::Throttle
        } else {
            Fault::Pass
        }
    });
    let err = clients.rds.describe_db_clusters().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_rds::error::ProvideErrorMetadata::code(&err),
        Some("Throttling"),
        "{err:?}"
    );
    assert_eq!(
        clients.calls.take_throttles(),
        BTreeMap::from([("RDS.DescribeDBClusters".to_string(), 3)])
    );
    assert_eq!(
        clients.calls.take(),
        BTreeMap::from([("RDS.DescribeDBClusters".to_string(), 1)])
    );

    // Server errors and moto's own refusals are not throttles.
    faults.set(|_, op| {
        if op == "rds:DescribeDBClusters" {
            Fault::ServerError
        } else {
            Fault::Pass
        }
    });
    clients.rds.describe_db_clusters().send().await.unwrap_err();
    faults.clear();
    clients
        .dynamodb
        .describe_table()
        .table_name(support::moto::unique("no-such-table-"))
        .send()
        .await
        .unwrap_err();
    clients
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(support::moto::unique("no-such-cluster-"))
        .send()
        .await
        .unwrap_err();
    assert!(clients.calls.take_throttles().is_empty());
    assert_eq!(clients.calls.take().values().sum::<u64>(), 3);

    // And the invocation's document carries them.
    let data = extract_doc(&m().invocation(5, 7, "follow-up"));
    assert_eq!(value(&data, "Throttles", &[("Stack", STACK)]), 7.0);
}
