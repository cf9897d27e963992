//! Fenced leases and honest clocks (issue 16, item 12): a placement whose lease was taken over
//! while it observed does not restore; a machine whose clock is off AWS's takes no lease.

mod support;

use aurora_clone_manager::adapters::dynamo::DynamoState;
use aurora_clone_manager::clock::Clock;
use aurora_clone_manager::fakes::FakeRds;
use aurora_clone_manager::ports::StateStore;
use serde_json::json;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;
use support::moto::{sdk_config, state_table, unique};
use support::world::*;

const RESTORE: &str = "RestoreDBClusterToPointInTime";

/// The placement takes `place-orders` and observes the account (slow RDS: seconds). Meanwhile
/// another holder, whose clock says the lease has expired (the placement's own clock is behind,
/// or it was paused), takes it over with the next fence. The placement's local check still
/// says it holds the lease; the table says otherwise, and it does not restore. Once the other
/// holder is done, the follow-ups place the clone: one clone, SUCCESS.
#[tokio::test(start_paused = true)]
async fn a_placement_whose_lease_was_taken_over_does_not_restore() {
    let w = World::with_rds(
        FakeRds::with_delays(Duration::from_secs(120), Duration::from_secs(60))
            .and_latency(Duration::from_millis(700)),
    );
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    let takeover = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let later = w.flows().core.clock.now().unix_timestamp() + 61;
        let fence = w
            .state
            .take_lease("place-orders", "usurper", later, 60)
            .await;
        assert_eq!(fence.unwrap(), Some(2), "taken over: the next fence");
    };
    let (delivered, ()) = tokio::join!(w.deliver(&create), takeover);
    assert_eq!(
        w.rds.count_calls(RESTORE),
        0,
        "no restore under a lease taken over: {delivered}"
    );
    assert!(w.answer_for(&create).is_empty(), "pending, not failed");
    assert_eq!(
        w.state.lease("place-orders").map(|l| l.0).as_deref(),
        Some("usurper"),
        "the new holder's lease is left alone"
    );

    w.state
        .release_lease("place-orders", "usurper")
        .await
        .unwrap();
    w.ticks_until_answers(1, 30).await;
    let out = w.answer_for(&create);
    assert_eq!(out[0]["Status"], "SUCCESS", "{out:?}");
    assert_eq!(w.rds.count_calls(RESTORE), 1);
}

/// The DynamoDB adapter reads AWS's clock from its responses' `Date`: on a machine whose clock
/// is a minute off, it takes no lease and says why; on a true clock it takes one.
#[tokio::test]
async fn a_skewed_clock_takes_no_lease() {
    let conf = sdk_config();
    let table = state_table(&conf).await;
    let clients = aurora_clone_manager::adapters::Clients::new(&conf);
    let client = clients.dynamodb.clone();
    let lease = unique("place-");
    for shift in [60, -60] {
        let clock = Clock::Shifted(Arc::new(AtomicI64::new(shift)));
        let skewed = DynamoState::with_clock(client.clone(), &table, clock.clone());
        let now = clock.now().unix_timestamp();
        let e = skewed
            .take_lease(&lease, "laptop", now, 60)
            .await
            .expect_err("refused");
        assert_eq!(e.code, "ClockSkew");
        assert!(!e.retryable);
        assert!(
            ["clock is 6", " s off AWS's", "fix NTP"]
                .iter()
                .all(|m| e.message.contains(m)),
            "{e}"
        );
    }
    let honest = DynamoState::new(client, &table);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(
        honest.take_lease(&lease, "lambda", now, 60).await.unwrap(),
        Some(1),
        "the refused takes wrote nothing"
    );
    let calls = clients.calls.take();
    assert!(
        calls.contains_key("DynamoDB.UpdateItem"),
        "the probe's client still counts calls: {calls:?}"
    );
}

/// Maintenance places copies under the same lease: taken over while the run lists the account,
/// the source is deferred, and no copy is made by the old holder.
#[tokio::test(start_paused = true)]
async fn maintenance_whose_lease_was_taken_over_makes_no_copy() {
    let w = World::with_rds(
        FakeRds::with_delays(Duration::from_secs(900), Duration::from_secs(300))
            .and_latency(Duration::from_millis(700)),
    );
    w.parameters.set(
        "/acm/maintenance-config",
        r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":40}]}"#,
    );
    let run = async {
        let event = json!({"source": "events", "action": "maintain!"});
        w.handle(event).await
    };
    let takeover = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let later = w.flows().core.clock.now().unix_timestamp() + 3_600;
        let fence = w
            .state
            .take_lease("place-orders", "usurper", later, 60)
            .await;
        assert!(fence.unwrap().is_some());
    };
    let (out, ()) = tokio::join!(run, takeover);
    let out = out.expect("no redelivery");
    assert_eq!(out["deferred"], json!(["orders"]), "{out}");
    assert_eq!(w.rds.count_calls(RESTORE), 0, "{out}");
}
