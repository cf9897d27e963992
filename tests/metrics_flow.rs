//! The metrics a flow emits (a test binary of its own: capturing is process-wide): a Create's
//! time to answer and outcome, the pending work each follow-up sees, the pool maintenance keeps.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::{json, Value};
use std::time::Duration;
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
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    let maintain = json!({"source": "events", "action": "maintain!"});
    aurora_clone_manager::lambda::handle(&w.app, maintain, World::invocation(), deadline)
        .await
        .unwrap();
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
