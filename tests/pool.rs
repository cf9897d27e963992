//! The copy pool over fakes with paused time: the 16th clone, copies made on demand, and
//! concurrent requests never oversubscribing a volume.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::json;
use std::time::Duration;
use support::world::*;

fn fast_rds() -> FakeRds {
    FakeRds::with_delays(Duration::from_secs(120), Duration::from_secs(60))
}

async fn create_clones(w: &World, n: usize, props: serde_json::Value) -> Vec<serde_json::Value> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let r = w.request("Create", props.clone());
        answers.push(w.answered(&r, 120).await);
    }
    answers
}

#[tokio::test(start_paused = true)]
async fn the_sixteenth_clone_lands_on_a_pool_copy() {
    let w = World::with_rds(fast_rds());
    let answers = create_clones(&w, 16, json!({"SourceClusterId": "orders"})).await;
    assert!(answers.iter().all(|a| a["Status"] == "SUCCESS"));
    assert!(answers[..15]
        .iter()
        .all(|a| a["Data"]["SourceClusterId"] == "orders"));
    let sixteenth = answers[15]["Data"]["SourceClusterId"].as_str().unwrap();
    assert!(sixteenth.starts_with("orders-copy-"), "{sixteenth}");
    assert_eq!(
        w.rds.silent_full_copies(),
        0,
        "no restore was silently turned into a full copy"
    );
}

#[tokio::test(start_paused = true)]
async fn without_copy_ok_the_sixteenth_fails_with_the_shortfall() {
    let w = World::with_rds(fast_rds());
    let answers = create_clones(
        &w,
        16,
        json!({"SourceClusterId": "orders", "CopyOk": "false"}),
    )
    .await;
    assert!(answers[..15].iter().all(|a| a["Status"] == "SUCCESS"));
    let reason = answers[15]["Reason"].as_str().unwrap();
    assert_eq!(answers[15]["Status"], "FAILED");
    assert!(
        reason.contains("target-clone-slots") && reason.contains("15/15"),
        "{reason}"
    );
}

/// Two Creates for the same source at the same moment, one free slot: they must not both
/// land on it. Placement is serialised per root and re-observed under the lock.
#[tokio::test(start_paused = true)]
async fn concurrent_requests_never_oversubscribe_a_volume() {
    let w = World::with_rds(fast_rds().and_latency(Duration::from_millis(300)));
    create_clones(&w, 14, json!({"SourceClusterId": "orders"})).await;
    let racers: Vec<_> = (0..3)
        .map(|_| w.request("Create", json!({"SourceClusterId": "orders"})))
        .collect();
    tokio::join!(
        w.deliver(&racers[0]),
        w.deliver(&racers[1]),
        w.deliver(&racers[2])
    );
    w.ticks_until_answers(17, 200).await;
    let sources: Vec<String> = racers
        .iter()
        .map(|r| {
            w.answer_for(r)[0]["Data"]["SourceClusterId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        sources.iter().filter(|s| *s == "orders").count(),
        1,
        "{sources:?}"
    );
    assert_eq!(w.rds.silent_full_copies(), 0);
}

/// Issue 9.6: one policy per source. The maintenance config's `max-clones-per-source` for a
/// source limits Create too, as it limits maintenance's count.
#[tokio::test(start_paused = true)]
async fn create_keeps_the_sources_own_limit() {
    let w = World::with_rds(fast_rds());
    w.parameters.set(
        "/acm/maintenance-config",
        r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":0,"max-clones-per-source":2}]}"#,
    );
    let answers = create_clones(
        &w,
        3,
        json!({"SourceClusterId": "orders", "CopyOk": "false"}),
    )
    .await;
    assert!(answers[..2].iter().all(|a| a["Status"] == "SUCCESS"));
    assert_eq!(answers[2]["Status"], "FAILED");
    assert!(
        answers[2]["Reason"].as_str().unwrap().contains("2/2"),
        "{}",
        answers[2]
    );
}
