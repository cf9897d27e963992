//! Delete over in-memory fakes: only what this tool provably made, never waiting for RDS, and
//! racing a pending Create.

mod support;

use aurora_clone_manager::domain::{tags, Cluster};
use serde_json::json;
use std::time::Duration;
use support::world::*;

async fn ready_clone(w: &World) -> (String, serde_json::Value) {
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "Tags": {"team": "qa"}}),
    );
    let a = w.answered(&create, 30).await;
    assert_eq!(a["Status"], "SUCCESS");
    (a["PhysicalResourceId"].as_str().unwrap().to_string(), a)
}

fn delete_of(w: &World, physical: &str) -> aurora_clone_manager::cfn::CfnRequest {
    let mut d = w.request("Delete", json!({"SourceClusterId": "orders"}));
    d.physical_resource_id = Some(physical.to_string());
    d
}

#[tokio::test(start_paused = true)]
async fn delete_removes_the_clone_without_waiting_for_rds() {
    let w = World::new();
    let (arn, created) = ready_clone(&w).await;
    let id = created["Data"]["ClusterId"].as_str().unwrap().to_string();
    let d = delete_of(&w, &arn);
    w.deliver(&d).await;
    let a = &w.answer_for(&d)[0];
    assert_eq!(a["Status"], "SUCCESS");
    assert_eq!(a["PhysicalResourceId"], arn.as_str());
    assert!(w.rds.count_calls("DeleteDBInstance") >= 1);
    assert!(
        w.state.reaps().iter().any(|r| r.cluster_id == id),
        "RDS refuses the cluster until its instance is gone: reap later"
    );
    assert!(w.follow_ups.enabled());
    for _ in 0..12 {
        w.tick().await;
    }
    assert!(
        !w.rds.cluster_ids().contains(&id),
        "the follow-ups finish the deletion"
    );
    assert!(w.state.reaps().is_empty());
    assert!(!w.follow_ups.enabled());
}

/// Defect 5: Delete of an already-missing cluster failed and blocked stack deletion.
#[tokio::test(start_paused = true)]
async fn delete_of_a_missing_clone_succeeds() {
    let w = World::new();
    for physical in [
        "arn:aws:rds:us-east-1:123456789012:cluster:gone-long-ago",
        "aurora-clone-manager:failed:req-0",
        "app-Db-1A2B3C",
    ] {
        let d = delete_of(&w, physical);
        w.deliver(&d).await;
        assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS", "{physical}");
    }
}

#[tokio::test(start_paused = true)]
async fn delete_never_touches_a_cluster_it_did_not_create() {
    let w = World::new();
    let mut other = Cluster::new("someone-elses", "available");
    other.tags.insert(tags::ROLE.into(), "clone".into());
    w.rds.put(other);
    for physical in [
        "arn:aws:rds:us-east-1:123456789012:cluster:orders",
        "arn:aws:rds:us-east-1:123456789012:cluster:someone-elses",
    ] {
        let d = delete_of(&w, physical);
        w.deliver(&d).await;
        assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS");
    }
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0);
    assert_eq!(w.rds.count_calls("DeleteDBInstance"), 0);
    assert!(w.rds.cluster_ids().contains(&"orders".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_clone_of_another_resource_is_not_deleted() {
    let w = World::new();
    let (arn, _) = ready_clone(&w).await;
    let mut d = delete_of(&w, &arn);
    d.logical_resource_id = "OtherDb".into();
    w.deliver(&d).await;
    assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS");
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0);
}

/// A cancelled Create: CloudFormation sends Delete with an id it generated while the Create is
/// still pending. The clone is found by its ownership tags and removed; the Create never
/// answers SUCCESS.
#[tokio::test(start_paused = true)]
async fn delete_during_a_pending_create_cancels_it() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.tick().await;
    let made: Vec<String> = w
        .rds
        .cluster_ids()
        .into_iter()
        .filter(|c| c != "orders")
        .collect();
    assert_eq!(made.len(), 1);
    let d = delete_of(&w, "app-Db-1XYZ7GENERATED");
    w.deliver(&d).await;
    assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS");
    for _ in 0..20 {
        w.tick().await;
    }
    assert!(
        !w.rds.cluster_ids().contains(&made[0]),
        "the pending Create's clone is deleted"
    );
    let create_answers = w.answer_for(&create);
    assert!(
        create_answers.iter().all(|a| a["Status"] != "SUCCESS"),
        "{create_answers:?}"
    );
    assert!(create_answers.len() <= 1);
}

/// The Delete arrives between the Create's recording and its restore: the restore is skipped.
#[tokio::test(start_paused = true)]
async fn delete_racing_the_first_invocation_leaves_nothing() {
    let w = World::with_rds(aurora_clone_manager::fakes::FakeRds::with_latency(
        Duration::from_secs(2),
    ));
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    let d = delete_of(&w, "app-Db-GENERATED");
    let delete_later = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        w.deliver(&d).await
    };
    tokio::join!(w.deliver(&create), delete_later);
    for _ in 0..20 {
        w.tick().await;
    }
    assert_eq!(
        w.rds.cluster_ids(),
        vec!["orders".to_string()],
        "nothing left behind"
    );
    assert!(w
        .answer_for(&create)
        .iter()
        .all(|a| a["Status"] != "SUCCESS"));
}

/// Deletion protection turned on by hand: the Delete fails with RDS's reason (the operator can
/// act on DELETE_FAILED), never a silent success.
#[tokio::test(start_paused = true)]
async fn a_protected_clone_fails_the_delete_with_the_reason() {
    let w = World::new();
    let (arn, created) = ready_clone(&w).await;
    let id = created["Data"]["ClusterId"].as_str().unwrap().to_string();
    w.rds.protect(&id);
    for _ in 0..8 {
        w.tick().await;
    }
    let d = delete_of(&w, &arn);
    w.deliver(&d).await;
    for _ in 0..8 {
        w.tick().await;
    }
    let a = w.answer_for(&d);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["Status"], "FAILED");
    assert!(
        a[0]["Reason"]
            .as_str()
            .unwrap()
            .contains("deletion protection"),
        "{}",
        a[0]
    );
    assert_eq!(
        w.rds.count_calls("DeleteDBInstance"),
        0,
        "nothing was touched"
    );
    assert!(w.secrets.all().values().all(|s| !s.deleted));
}

/// Reap work that RDS keeps refusing (protection turned on after the deletion started) is
/// given up after six hours, with an error and a cleanup-failed event; then the follow-ups stop.
#[tokio::test(start_paused = true)]
async fn reap_work_refused_for_hours_is_given_up_and_announced() {
    let w = World::new();
    let (arn, created) = ready_clone(&w).await;
    let id = created["Data"]["ClusterId"].as_str().unwrap().to_string();
    let d = delete_of(&w, &arn);
    w.deliver(&d).await;
    assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS", "deletion started");
    assert!(w.state.reaps().iter().any(|r| r.cluster_id == id));
    w.rds.protect(&id);
    let mut ticks = 0;
    while w.follow_ups.enabled() && ticks < 500 {
        w.tick().await;
        ticks += 1;
    }
    assert!(
        (360..=370).contains(&ticks),
        "given up after about six hours, not {ticks} minutes"
    );
    let reap = w
        .state
        .reaps()
        .into_iter()
        .find(|r| r.cluster_id == id)
        .unwrap();
    assert!(reap.given_up && reap.attempts >= 300, "{reap:?}");
    assert!(reap.last_error.unwrap().contains("deletion protection"));
    let failed: Vec<_> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, d)| t == "lifecycle-event/cleanup-failed" && d["clusterId"] == id.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "announced once");
    for _ in 0..5 {
        w.tick().await;
    }
    assert!(
        !w.follow_ups.enabled(),
        "given-up work keeps nothing running"
    );
}
