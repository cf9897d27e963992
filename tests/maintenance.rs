//! Maintenance over fakes with paused time: idempotent over repeated runs, copies made ahead of
//! demand then used by the 16th clone, obsolete copies retired, dry runs that change nothing.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::json;
use std::time::Duration;
use support::world::*;

const CONFIG: &str = "/acm/maintenance-config";

fn world(config: &str) -> World {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(900),
        Duration::from_secs(300),
    ));
    w.parameters.set(CONFIG, config);
    w
}

async fn maintain(w: &World) -> serde_json::Value {
    w.handle(json!({"source": "events", "action": "maintain!"}))
        .await
        .expect("maintenance never asks for redelivery")
}

#[tokio::test(start_paused = true)]
async fn repeated_runs_never_pile_up_copies() {
    let w = world(r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":40}]}"#);
    let report = maintain(&w).await;
    assert_eq!(report["clusters"][0]["slots_free"], 15);
    assert_eq!(
        report["clusters"][0]["create_ids"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "⌈(40 - 15) / 15⌉ = 2"
    );
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let again = maintain(&w).await;
        assert!(
            again["clusters"][0]["create_ids"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{again}"
        );
    }
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 2);
    tokio::time::sleep(Duration::from_secs(1800)).await;
    let later = maintain(&w).await;
    assert_eq!(later["clusters"][0]["slots_free"], 45);
    assert_eq!(
        later["clusters"][0]["ready"].as_array().unwrap().len(),
        2,
        "one ready event per copy"
    );
    let again = maintain(&w).await;
    assert!(
        again["clusters"][0]["ready"].as_array().unwrap().is_empty(),
        "ready events are sent once"
    );
    let copy_events = w
        .events
        .sent()
        .into_iter()
        .filter(|(_, d)| d["role"] == "copy")
        .count();
    assert_eq!(copy_events, 2);
}

#[tokio::test(start_paused = true)]
async fn the_sixteenth_clone_lands_on_a_copy_maintenance_made() {
    let w = world(r#"{:clusters [{:cluster-id "orders" :target-clone-slots 16}]}"#);
    maintain(&w).await;
    tokio::time::sleep(Duration::from_secs(1800)).await;
    let mut sources = Vec::new();
    for _ in 0..16 {
        let r = w.request(
            "Create",
            json!({"SourceClusterId": "orders", "CopyOk": "false"}),
        );
        let a = w.answered(&r, 60).await;
        assert_eq!(a["Status"], "SUCCESS", "{a}");
        sources.push(a["Data"]["SourceClusterId"].as_str().unwrap().to_string());
    }
    assert_eq!(sources.iter().filter(|s| *s == "orders").count(), 15);
    assert!(sources[15].starts_with("orders-copy-"), "{}", sources[15]);
    assert_eq!(w.rds.silent_full_copies(), 0);
}

#[tokio::test(start_paused = true)]
async fn obsolete_copies_are_retired_and_dry_runs_change_nothing() {
    let w =
        world(r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":20,"dry-run?":true}]}"#);
    let dry = maintain(&w).await;
    assert_eq!(dry["clusters"][0]["applied"], false);
    assert_eq!(
        dry["clusters"][0]["create_ids"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        0,
        "a dry run changes nothing"
    );

    w.parameters.set(
        CONFIG,
        r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":20,"max-copy-age":"PT2H"}]}"#,
    );
    maintain(&w).await;
    let copies: Vec<String> = w
        .rds
        .cluster_ids()
        .into_iter()
        .filter(|c| c.contains("-copy-"))
        .collect();
    assert_eq!(copies.len(), 1);
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
    let report = maintain(&w).await;
    assert_eq!(
        report["clusters"][0]["retire"][0],
        copies[0].as_str(),
        "{report}"
    );
    for _ in 0..10 {
        w.tick().await;
    }
    assert!(
        !w.rds.cluster_ids().contains(&copies[0]),
        "the obsolete copy is gone"
    );
    assert!(w.rds.cluster_ids().contains(&"orders".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_bad_or_missing_config_changes_nothing() {
    let w = world(r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":"many"}]}"#);
    let out = maintain(&w).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("clusters[0] (orders): target-clone-slots"),
        "{out}"
    );
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 0);
    let empty = World::new();
    let out = maintain(&empty).await;
    assert!(
        out["note"]
            .as_str()
            .unwrap()
            .contains("nothing to maintain"),
        "{out}"
    );
    assert!(
        empty.rds.calls().iter().all(|c| c.starts_with("Describe")),
        "nothing changed"
    );
}

/// Work that does not fit one invocation continues in a follow-up; nothing runs after return.
#[tokio::test(start_paused = true)]
async fn many_sources_continue_in_follow_ups() {
    let w = World::with_rds(
        FakeRds::with_delays(Duration::from_secs(900), Duration::from_secs(300))
            .and_latency(Duration::from_secs(3)),
    );
    let sources: Vec<String> = (0..6).map(|i| format!("src-{i}")).collect();
    for s in &sources {
        w.rds.add_source(s, Default::default());
    }
    let entries: Vec<String> = sources
        .iter()
        .map(|s| format!(r#"{{"cluster-id":"{s}","target-clone-slots":20}}"#))
        .collect();
    w.parameters.set(
        CONFIG,
        &format!(r#"{{"clusters":[{}]}}"#, entries.join(",")),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let first = aurora_clone_manager::lambda::handle(
        &w.app,
        json!({"source": "events", "action": "maintain!"}),
        World::invocation(),
        deadline,
    )
    .await
    .unwrap();
    let done_first = first["clusters"].as_array().unwrap().len();
    assert!(done_first < 6, "the first run hands sources off: {first}");
    assert!(w.follow_ups.enabled());
    for _ in 0..10 {
        w.tick().await;
    }
    let restores = w.rds.count_calls("RestoreDBClusterToPointInTime");
    assert_eq!(restores, 6, "every source got its copy, once");
    // Issue 9.8: the follow-ups keep looking while copies are being made, and send each copy's
    // ready event when it is usable, not at the next scheduled run a day later.
    for _ in 0..40 {
        w.tick().await;
    }
    let ready: Vec<_> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, d)| t == "lifecycle-event/instance-ready" && d["role"] == "copy")
        .collect();
    assert_eq!(ready.len(), 6, "{ready:?}");
    assert!(w.state.maintain().is_none(), "and then they stop");
    assert!(!w.follow_ups.enabled());
}

/// Issue 9.7: a copy made on demand for a source with no config entry is retired once obsolete
/// and unclaimed, by the scheduled run (whatever the config says of other sources) and, with
/// `PurgeObsoleteCopies` (the default), by a maintenance follow-up a later Create asks for.
#[tokio::test(start_paused = true)]
async fn obsolete_copies_of_unconfigured_sources_are_retired() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(60),
        Duration::from_secs(60),
    ));
    put_copy(&w, "orders-copy-old", 5);
    put_copy(&w, "orders-copy-fresh", 0);
    // A Create (no config at all): it places on the root and asks for the purge.
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    assert!(w.state.maintain().is_some_and(|m| m.sources == ["orders"]));
    w.ticks_until_answers(1, 10).await;
    for _ in 0..3 {
        w.tick().await;
    }
    assert!(w.rds.count_calls("DeleteDBCluster") >= 1);
    let retired: Vec<_> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, d)| t == "lifecycle-event/clone-deleted" && d["role"] == "copy")
        .map(|(_, d)| d["clusterId"].clone())
        .collect();
    assert_eq!(
        retired,
        vec![json!("orders-copy-old")],
        "only the obsolete one"
    );
    assert!(w
        .rds
        .cluster_ids()
        .contains(&"orders-copy-fresh".to_string()));
}

/// A pool copy of `orders` made by this stack, its data `days_old`.
fn put_copy(w: &World, id: &str, days_old: i64) {
    let mut c = aurora_clone_manager::domain::Cluster::new(id, "available");
    let data = time::macros::datetime!(2026-11-22 12:00 UTC) - time::Duration::days(days_old);
    c.tags = copy_tags("orders", data);
    w.put_owned(c);
}

/// With no config at all, the scheduled run retires an unclaimed obsolete copy.
#[tokio::test(start_paused = true)]
async fn the_scheduled_run_retires_copies_of_sources_it_has_no_entry_for() {
    let w = World::new();
    put_copy(&w, "orders-copy-old", 5);
    let out = maintain(&w).await;
    assert_eq!(
        out["clusters"][0]["retire"],
        json!(["orders-copy-old"]),
        "{out}"
    );
    assert!(w.rds.count_calls("DeleteDBCluster") >= 1);
}

/// `PurgeObsoleteCopies: false`: the Create asks for no retirement (the scheduled run still
/// retires unclaimed obsolete copies, unless the source's `purge-obsolete-copies?` is false).
#[tokio::test(start_paused = true)]
async fn a_create_without_purge_asks_for_nothing() {
    let w = World::new();
    put_copy(&w, "orders-copy-old", 5);
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "PurgeObsoleteCopies": "false"}),
    );
    w.deliver(&create).await;
    assert!(w.state.maintain().is_none());
}

/// Issue 9.4: a source whose lease is busy (a clone being placed) is maintained again within
/// minutes by a follow-up, not at the next scheduled run a day later.
#[tokio::test(start_paused = true)]
async fn a_busy_source_is_maintained_again_within_minutes() {
    use aurora_clone_manager::ports::StateStore;
    let w = world(r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":20}]}"#);
    let now = time::macros::datetime!(2026-11-22 12:00 UTC).unix_timestamp();
    assert!(w
        .state
        .take_lease("place-orders", "a-placement", now, 60)
        .await
        .unwrap()
        .is_some());
    let out = maintain(&w).await;
    assert_eq!(out["deferred"], json!(["orders"]), "{out}");
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 0);
    assert!(w.follow_ups.enabled());
    for _ in 0..5 {
        w.tick().await;
    }
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        1,
        "maintained within five minutes"
    );
}
