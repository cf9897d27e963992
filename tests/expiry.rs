//! Clone expiry over fakes with paused time: the warning a day before, the action at expiry,
//! schedules that fire early, a stopped clone RDS restarts after seven days, an Update that
//! extends, and the maintenance backstop.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::{json, Value};
use std::time::Duration;
use support::world::*;

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

async fn ready(w: &World, props: Value) -> Value {
    let r = w.request("Create", props);
    let a = w.answered(&r, 30).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    a
}

async fn pass(w: &World, d: Duration) {
    tokio::time::sleep(d).await;
    w.fire_schedules().await;
}

fn world() -> World {
    World::with_rds(FakeRds::with_delays(
        Duration::from_secs(120),
        Duration::from_secs(60),
    ))
}

#[tokio::test(start_paused = true)]
async fn a_clone_is_warned_then_stopped_then_stopped_again_after_rds_restarts_it() {
    let w = world();
    let a = ready(
        &w,
        json!({"SourceClusterId": "orders", "ExpiresAfter": "P2D"}),
    )
    .await;
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    assert_eq!(
        w.schedules.all().len(),
        2,
        "the warning's and the expiry's schedules"
    );
    pass(&w, 12 * HOUR).await;
    assert!(
        events(&w, "lifecycle-event/clone-expiring").is_empty(),
        "not yet"
    );
    pass(&w, 13 * HOUR).await;
    let warned = events(&w, "lifecycle-event/clone-expiring");
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0]["clusterId"], id.as_str());
    pass(&w, 24 * HOUR).await;
    let expired = events(&w, "lifecycle-event/clone-expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["action"], "stop");
    assert_eq!(w.rds.count_calls("StopDBCluster"), 1);
    assert!(w.schedules.all().is_empty(), "both fired and are gone");
    // Seven days later RDS starts the stopped clone by itself; the next maintenance stops it.
    tokio::time::sleep(8 * 24 * HOUR).await;
    let maintain = json!({"source": "events", "action": "maintain!"});
    w.handle(maintain).await.unwrap();
    assert_eq!(w.rds.count_calls("StopDBCluster"), 2, "stopped again");
    assert_eq!(
        events(&w, "lifecycle-event/clone-expired").len(),
        1,
        "announced once"
    );
}

/// A schedule that fires early finds nothing due and does nothing.
#[tokio::test(start_paused = true)]
async fn a_schedule_firing_early_does_nothing() {
    let w = world();
    let a = ready(
        &w,
        json!({"SourceClusterId": "orders", "ExpiresAfter": "P3D", "ExpiryAction": "delete"}),
    )
    .await;
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    let early = json!({"source": "aurora-clone-manager", "action": "expire", "cluster": id});
    w.handle(early).await.unwrap();
    assert!(w.events.sent().iter().all(|(t, _)| !t.contains("expir")));
    assert_eq!(w.rds.count_calls("DeleteDBInstance"), 0);
}

/// `delete` removes the clone as a Delete would; CloudFormation's later Delete finds it gone.
#[tokio::test(start_paused = true)]
async fn an_expired_clone_can_be_deleted() {
    let w = world();
    let a = ready(&w, json!({"SourceClusterId": "orders", "ExpiresAt": "2026-11-23T00:00:00Z", "ExpiryAction": "delete"})).await;
    pass(&w, 13 * HOUR).await;
    assert!(w.rds.count_calls("DeleteDBInstance") >= 1);
    for _ in 0..15 {
        w.tick().await;
    }
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    assert!(!w.rds.cluster_ids().contains(&id));
    let mut d = w.request("Delete", json!({"SourceClusterId": "orders"}));
    d.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    w.deliver(&d).await;
    assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS");
}

/// An Update moving the expiry later extends in place, and starts a clone stopped at expiry.
#[tokio::test(start_paused = true)]
async fn an_update_that_extends_restarts_a_stopped_clone() {
    let w = world();
    let old = json!({"SourceClusterId": "orders", "ExpiresAfter": "PT2H"});
    let a = ready(&w, old.clone()).await;
    pass(&w, 3 * HOUR).await;
    assert_eq!(w.rds.count_calls("StopDBCluster"), 1);
    let mut u = w.request(
        "Update",
        json!({"SourceClusterId": "orders", "ExpiresAfter": "P7D"}),
    );
    u.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    u.old_resource_properties = Some(old);
    w.deliver(&u).await;
    // The clone is still stopping: RDS refuses the start until it has stopped; a follow-up
    // starts it and answers.
    w.ticks_until_answers(w.answers().len() + 1, 10).await;
    let answer = &w.answer_for(&u)[0];
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["PhysicalResourceId"], a["PhysicalResourceId"],
        "in place"
    );
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    let status = w.ports.rds.cluster(id).await.unwrap().unwrap().status;
    assert!(
        status == "starting" || status == "available",
        "started again (refused while stopping, then done): {status}"
    );
    assert_eq!(w.schedules.all().len(), 2, "moved to the new expiry");
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

#[tokio::test(start_paused = true)]
async fn expiry_properties_are_parsed_strictly() {
    let w = world();
    for (props, words) in [
        (
            json!({"SourceClusterId": "orders", "ExpiresAfter": "PT30S"}),
            "PT1M to P365D",
        ),
        (
            json!({"SourceClusterId": "orders", "ExpiresAfter": "P1D", "ExpiresAt": "2027-01-01"}),
            "not both",
        ),
        (
            json!({"SourceClusterId": "orders", "ExpiresAfter": "P1D", "ExpiryAction": "hibernate"}),
            "notify, stop or delete",
        ),
        (
            json!({"SourceClusterId": "orders", "ExpiryAction": "stop"}),
            "needs ExpiresAfter",
        ),
    ] {
        let r = w.request("Create", props);
        w.deliver(&r).await;
        let a = &w.answer_for(&r)[0];
        assert_eq!(a["Status"], "FAILED");
        assert!(a["Reason"].as_str().unwrap().contains(words), "{a}");
    }
}

/// RDS deletes nothing in a stopped cluster: CloudFormation's Delete of a clone its expiry
/// stopped starts it, answers SUCCESS, and the follow-ups delete it once it runs; maintenance
/// meanwhile does not stop it again.
#[tokio::test(start_paused = true)]
async fn deleting_a_clone_stopped_at_expiry_starts_it_first() {
    let w = world();
    let a = ready(
        &w,
        json!({"SourceClusterId": "orders", "ExpiresAfter": "PT2H"}),
    )
    .await;
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    pass(&w, 3 * HOUR).await;
    assert_eq!(w.rds.count_calls("StopDBCluster"), 1);
    let mut d = w.request("Delete", json!({"SourceClusterId": "orders"}));
    d.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    tokio::time::sleep(2 * MINUTE).await;
    w.deliver(&d).await;
    assert_eq!(w.answer_for(&d)[0]["Status"], "SUCCESS");
    assert_eq!(
        w.rds.count_calls("StartDBCluster"),
        1,
        "started to be deleted: {:?}",
        w.rds.calls()
    );
    let maintain = json!({"source": "events", "action": "maintain!"});
    w.handle(maintain).await.unwrap();
    for _ in 0..20 {
        w.tick().await;
    }
    assert_eq!(w.rds.count_calls("StopDBCluster"), 1, "never stopped again");
    assert!(!w.rds.cluster_ids().contains(&id), "deleted once running");
    let deleted = events(&w, "lifecycle-event/clone-deleted");
    assert_eq!(
        deleted.len(),
        1,
        "announced once, when the deletion began: {deleted:?}"
    );
}
