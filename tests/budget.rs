//! The AWS call budget (issue 11), over fakes that lag like RDS (so an invocation stops where
//! it would on AWS) and count every call as the SDK boundary would (a listing one call per page
//! of 100). A regression fails here.

mod support;

use aurora_clone_manager::domain::Cluster;
use aurora_clone_manager::fakes::FakeRds;
use serde_json::json;
use std::time::Duration;
use support::world::*;

/// Every call the fakes saw so far: RDS (pages included), the state table and its ownership
/// ledger, EventBridge's rule, SSM, lifecycle events.
fn calls(w: &World) -> usize {
    w.rds.calls().len()
        + w.state.call_count() as usize
        + w.ledger.calls() as usize
        + w.follow_ups.calls() as usize
        + w.parameters.calls() as usize
        + w.events.sent().len()
}

fn account_of(n: usize) -> World {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(600),
        Duration::from_secs(300),
    ));
    for i in 1..n {
        w.rds
            .put(Cluster::new(&format!("team-db-{i}"), "available"));
    }
    w
}

async fn rds_event(w: &World, id: &str) {
    let event = json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event",
        "detail": {"EventID": "RDS-EVENT-0005", "SourceIdentifier": id}});
    w.handle(event).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_create_a_tick_and_an_idle_event_stay_within_budget() {
    // 99 clusters; with the first clone, the second Create sees 100.
    let w = account_of(99);
    let before = calls(&w);
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    let cold = calls(&w) - before;
    assert_eq!(w.rds.listings(), 1, "one account listing");
    // 11 since the placement lease is confirmed at the table before the restore (issue 16), 13
    // since the ownership ledger is read with the account (one Scan) and the clone's deed is
    // entered before its restore (one PutItem): DynamoDB calls, none of them RDS's.
    assert!(
        cold <= 13,
        "a cold process's first invocation: {cold} calls: {:?}",
        w.rds.calls()
    );

    let before = calls(&w);
    let rds_before = w.rds.calls().len();
    let second = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&second).await;
    let warm_rds = &w.rds.calls()[rds_before..];
    assert_eq!(
        warm_rds,
        [
            "DescribeDBClusters",
            "RestoreDBClusterToPointInTime",
            "CreateDBInstance"
        ]
    );
    let warm = calls(&w) - before;
    assert!(
        warm <= 10,
        "a warm process's first invocation: {warm} calls"
    );

    let before = calls(&w);
    w.tick().await;
    let tick = calls(&w) - before;
    // Per pending clone: its cluster, its instances, and its deed (a GetItem).
    assert!(
        tick <= 1 + 2 * 3,
        "a tick for two pending clones: {tick} calls"
    );

    // Nothing pending: an RDS event costs the one look at the state table.
    for _ in 0..30 {
        w.tick().await;
    }
    assert!(w.state.open_requests().is_empty());
    let before = calls(&w);
    rds_event(&w, "someone-elses-db").await;
    assert_eq!(calls(&w) - before, 1, "an RDS event with nothing to do");
    eprintln!("calls: Create cold {cold}, warm {warm}; tick for two pending clones {tick}; idle RDS event 1");
}

/// With an identifier prefix, an RDS event about a cluster without it costs nothing.
#[tokio::test(start_paused = true)]
async fn an_event_about_a_foreign_cluster_costs_nothing_with_a_prefix() {
    let w = World::with(
        FakeRds::default(),
        settings_with(&[("CLUSTER_ID_PREFIX", "clone-")]),
    );
    let before = calls(&w);
    rds_event(&w, "production-db-1").await;
    assert_eq!(calls(&w) - before, 0);
}

/// Maintenance of an account of N clusters: ceil(N/100) listings of clusters and of instances,
/// and no call per cluster.
#[tokio::test(start_paused = true)]
async fn maintenance_reads_an_account_by_pages_only() {
    let w = account_of(250);
    w.parameters.set(
        "/acm/maintenance-config",
        r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":0}]}"#,
    );
    let maintain = json!({"source": "events", "action": "maintain!"});
    w.handle(maintain).await.unwrap();
    assert_eq!(w.rds.count_calls("DescribeDBClusters"), 3);
    assert_eq!(
        w.rds.count_calls("DescribeDBInstances"),
        1,
        "one instance: one page"
    );
    assert_eq!(
        w.rds.calls().len(),
        4,
        "nothing per cluster: {:?}",
        w.rds.calls()
    );
}
