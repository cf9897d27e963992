//! The orphan sweep over fakes with paused time: clones whose stack is gone, replaced or failed
//! are marked, then removed with their secrets after the grace; clones whose stack claims them,
//! cannot be read, retained them or is still working on them are left alone; nothing without
//! this manager's tags is touched; a dry run changes nothing.

mod support;

use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::domain::{tags, Cluster};
use aurora_clone_manager::planner::sweep::{ORPHAN_REMOVED, ORPHAN_SINCE};
use aurora_clone_manager::ports::StackResource;
use aurora_clone_manager::service::sweep::Finding;
use serde_json::json;
use std::time::Duration;
use support::world::*;

const HOUR: Duration = Duration::from_secs(3600);
const OTHER_STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/9f1c";

/// A ready clone made for `stack_id`/`logical_id`, with its own password secret.
async fn clone_for(w: &World, stack_id: &str, logical_id: &str) -> Cluster {
    let mut r: CfnRequest = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "SetPassword": "true"}),
    );
    r.stack_id = stack_id.into();
    r.logical_resource_id = logical_id.into();
    let a = w.answered(&r, 30).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    cluster(w, a["Data"]["ClusterId"].as_str().unwrap())
        .await
        .unwrap()
}

async fn cluster(w: &World, id: &str) -> Option<Cluster> {
    w.flows().deeds.observe_cluster(id).await.unwrap()
}

fn found(status: &str, physical: &str) -> StackResource {
    StackResource::Found {
        resource_type: "Custom::AuroraClone".into(),
        status: status.into(),
        physical_id: Some(physical.into()),
    }
}

async fn sweep(w: &World, dry_run: bool) -> Vec<Finding> {
    let clusters = w.flows().deeds.observe_clusters().await.unwrap();
    w.flows()
        .sweep
        .sweep(&clusters, dry_run, &World::invocation())
        .await
}

fn standing<'a>(findings: &'a [Finding], id: &str) -> Option<&'a str> {
    findings
        .iter()
        .find(|f| f.cluster_id == id)
        .map(|f| f.standing)
}

fn live_secrets(w: &World) -> usize {
    w.secrets.all().values().filter(|s| !s.deleted).count()
}

#[tokio::test(start_paused = true)]
async fn orphans_are_marked_then_removed_after_the_grace_and_nothing_else_is_touched() {
    let w = World::new();
    let owned = clone_for(&w, STACK_ID, "Owned").await;
    let gone = clone_for(&w, STACK_ID, "Gone").await;
    let replaced = clone_for(&w, STACK_ID, "Replaced").await;
    let retained = clone_for(&w, STACK_ID, "Retained").await;
    let unreadable = clone_for(&w, OTHER_STACK, "Db").await;
    // The World's CloudFormation recorded each Create; now the stacks change under the clones.
    assert!(
        sweep(&w, false).await.is_empty(),
        "every clone is claimed at first"
    );
    w.stacks.forget(STACK_ID, "Gone");
    w.stacks
        .set(STACK_ID, "Owned", found("UPDATE_COMPLETE", &owned.arn));
    w.stacks.set(
        STACK_ID,
        "Replaced",
        found(
            "UPDATE_COMPLETE",
            "arn:aws:rds:us-east-1:123456789012:cluster:newer",
        ),
    );
    w.stacks
        .set(STACK_ID, "Retained", found("DELETE_SKIPPED", &retained.arn));
    w.stacks.deny(OTHER_STACK);
    assert_eq!(live_secrets(&w), 5);

    let first = sweep(&w, false).await;
    assert_eq!(
        standing(&first, &owned.id),
        None,
        "claimed clones are not candidates"
    );
    assert_eq!(standing(&first, &gone.id), Some("orphan"));
    assert_eq!(standing(&first, &replaced.id), Some("orphan"));
    assert_eq!(standing(&first, &retained.id), Some("kept"));
    assert_eq!(standing(&first, &unreadable.id), Some("unknown"));
    assert!(
        first.iter().all(|f| !f.removed),
        "nothing removed before the grace"
    );
    let marked = cluster(&w, &gone.id).await.unwrap();
    assert!(
        marked.tags.contains_key(ORPHAN_SINCE),
        "first seen is recorded"
    );

    tokio::time::sleep(23 * HOUR).await;
    assert!(
        sweep(&w, false).await.iter().all(|f| !f.removed),
        "still within the grace"
    );
    tokio::time::sleep(2 * HOUR).await;
    let last = sweep(&w, false).await;
    let removed: Vec<&str> = last
        .iter()
        .filter(|f| f.removed)
        .map(|f| f.cluster_id.as_str())
        .collect();
    assert_eq!(removed.len(), 2, "{last:?}");
    assert!(removed.contains(&gone.id.as_str()) && removed.contains(&replaced.id.as_str()));
    // Removal goes on in follow-ups while RDS deletes the writers.
    for _ in 0..15 {
        w.tick().await;
    }
    for id in [&gone.id, &replaced.id] {
        assert!(
            cluster(&w, id).await.is_none_or(|c| c.status == "deleting"),
            "{id} removed"
        );
    }
    for c in [&owned, &retained, &unreadable] {
        assert_eq!(
            cluster(&w, &c.id).await.unwrap().status,
            "available",
            "{} left alone",
            c.id
        );
    }
    assert_eq!(live_secrets(&w), 3, "the orphans' secrets went with them");
    let events: Vec<_> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == ORPHAN_REMOVED)
        .collect();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|(_, d)| d["reason"].is_string() && d["stackId"] == STACK_ID));
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_reports_every_candidate_and_changes_nothing() {
    let w = World::new();
    let gone = clone_for(&w, STACK_ID, "Gone").await;
    w.stacks.forget(STACK_ID, "Gone");
    let findings = sweep(&w, true).await;
    let f = findings
        .iter()
        .find(|f| f.cluster_id == gone.id)
        .expect("listed");
    assert_eq!((f.standing, f.removed), ("orphan", false));
    assert!(f.reason.contains("no longer exists"), "{}", f.reason);
    let after = cluster(&w, &gone.id).await.unwrap();
    assert!(
        !after.tags.contains_key(ORPHAN_SINCE),
        "a dry run writes no tag"
    );
    tokio::time::sleep(48 * HOUR).await;
    assert!(sweep(&w, true).await.iter().all(|f| !f.removed));
    assert_eq!(cluster(&w, &gone.id).await.unwrap().status, "available");
}

#[tokio::test(start_paused = true)]
async fn clusters_without_this_managers_tags_are_never_asked_about_or_touched() {
    let w = World::new();
    let mut foreign = Cluster::new("team-db", "available");
    foreign
        .tags
        .insert(tags::MANAGED_BY.into(), "another-manager".into());
    foreign.tags.insert(tags::ROLE.into(), "clone".into());
    foreign.tags.insert(tags::STACK_ID.into(), STACK_ID.into());
    foreign.tags.insert(tags::LOGICAL_ID.into(), "Db".into());
    w.rds.put(foreign);
    w.rds.put(Cluster::new("untagged", "available"));
    let findings = sweep(&w, false).await;
    assert!(findings.is_empty(), "{findings:?}");
    tokio::time::sleep(48 * HOUR).await;
    assert!(sweep(&w, false).await.is_empty());
    assert!(cluster(&w, "team-db").await.is_some() && cluster(&w, "untagged").await.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_clone_claimed_again_loses_its_mark_and_a_failed_create_waits_for_its_request() {
    let w = World::new();
    let c = clone_for(&w, STACK_ID, "Db").await;
    w.stacks.forget(STACK_ID, "Db");
    sweep(&w, false).await;
    assert!(cluster(&w, &c.id)
        .await
        .unwrap()
        .tags
        .contains_key(ORPHAN_SINCE));
    // The stack shows the resource again (a rollback that ended).
    w.stacks
        .set(STACK_ID, "Db", found("UPDATE_COMPLETE", &c.arn));
    assert!(sweep(&w, false).await.is_empty());
    assert!(!cluster(&w, &c.id)
        .await
        .unwrap()
        .tags
        .contains_key(ORPHAN_SINCE));

    // CREATE_FAILED, and the request that made it is done: an orphan.
    w.stacks.set(
        STACK_ID,
        "Db",
        found("CREATE_FAILED", "aurora-clone-manager:failed:x"),
    );
    assert_eq!(standing(&sweep(&w, false).await, &c.id), Some("orphan"));
}

/// A scheduled event is delivered at least once: two sweeps at the same moment remove an
/// orphan once and announce it once (the sweep lease; without it both would).
#[tokio::test(start_paused = true)]
async fn two_sweeps_at_once_remove_and_announce_an_orphan_once() {
    let w = World::with_rds(aurora_clone_manager::fakes::FakeRds::with_latency(
        Duration::from_millis(40),
    ));
    let gone = clone_for(&w, STACK_ID, "Gone").await;
    w.stacks.forget(STACK_ID, "Gone");
    sweep(&w, false).await;
    tokio::time::sleep(25 * HOUR).await;
    let clusters = w.flows().deeds.observe_clusters().await.unwrap();
    let (one, other) = (World::invocation(), World::invocation());
    let (a, b) = tokio::join!(
        w.flows().sweep.sweep(&clusters, false, &one),
        w.flows().sweep.sweep(&clusters, false, &other)
    );
    let removed = a
        .iter()
        .chain(&b)
        .filter(|f| f.removed && f.cluster_id == gone.id);
    assert_eq!(removed.count(), 1, "{a:?} {b:?}");
    let events = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == ORPHAN_REMOVED);
    assert_eq!(events.count(), 1);
}
