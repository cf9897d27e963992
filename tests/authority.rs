//! Authority over fakes: what the manager knows (its ownership ledger), not what it is told.
//! CloudFormation's rollback Update (properties swapped, same id) keeps the clone in use; a
//! cluster tagged as this manager's by someone who may tag clusters is never stopped, deleted,
//! swept or retired; a clone's tags rewritten to name another team's secret or key never reach
//! them; a pool copy whose root was deleted is retired.

mod support;

use aurora_clone_manager::domain::{tags, Cluster, Lineage, Ownership, Role};
use aurora_clone_manager::ports::Rds;
use serde_json::{json, Value};
use std::time::Duration;
use support::world::*;
use time::macros::datetime;

/// When the pool copies' data was taken.
const COPIED: time::OffsetDateTime = datetime!(2026-11-20 00:00 UTC);

async fn invoke(w: &World, event: Value) -> Value {
    w.handle(event)
        .await
        .unwrap_or_else(|e| json!({"error": e.to_string()}))
}

async fn created(w: &World, logical_id: &str, props: Value) -> Value {
    let mut create = w.request("Create", props);
    create.logical_resource_id = logical_id.into();
    let a = w.answered(&create, 30).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    a
}

/// Issue 16.1: a stack update changes the clone's source to one that does not exist and fails;
/// CloudFormation rolls back with an Update of the same id, the properties swapped. The clone
/// in use already satisfies them: nothing is made, and the same id is answered (a new id would
/// make CloudFormation delete the clone the team is using).
#[tokio::test(start_paused = true)]
async fn a_rollback_after_a_failed_replacement_keeps_the_clone_in_use() {
    let w = World::new();
    let good = json!({"SourceClusterId": "orders", "Tags": {"team": "qa"}});
    let first = created(&w, "Db", good.clone()).await;
    let bad = json!({"SourceClusterId": "missing", "Tags": {"team": "qa"}});
    let forward = w.update_of(&first, good.clone(), bad.clone());
    w.deliver(&forward).await;
    w.ticks_until_answers(2, 30).await;
    assert_eq!(w.answer_for(&forward)[0]["Status"], "FAILED");
    let rollback = w.update_of(&first, bad, good);
    w.deliver(&rollback).await;
    w.ticks_until_answers(3, 30).await;
    let a = &w.answer_for(&rollback)[0];
    assert_in_place(&first, a);
    assert_eq!(a["Data"], first["Data"]);
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        1,
        "nothing new made"
    );
}

/// After an in-place change the deed records the new properties: the rollback of a tag change
/// puts the old tags back in place, and replaces nothing.
#[tokio::test(start_paused = true)]
async fn a_rollback_of_an_in_place_change_changes_it_back_in_place() {
    let w = World::new();
    let before = json!({"SourceClusterId": "orders", "Tags": {"team": "qa"}});
    let first = created(&w, "Db", before.clone()).await;
    let after = json!({"SourceClusterId": "orders", "Tags": {"team": "payments"}});
    let forward = w.update_of(&first, before.clone(), after.clone());
    w.deliver(&forward).await;
    let rollback = w.update_of(&first, after, before);
    w.deliver(&rollback).await;
    let a = &w.answer_for(&rollback)[0];
    assert_eq!(a["PhysicalResourceId"], first["PhysicalResourceId"]);
    let id = first["Data"]["ClusterId"].as_str().unwrap();
    let tags = w.rds.tags_of(id);
    assert_eq!(tags.get("team").map(String::as_str), Some("qa"));
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

/// A production cluster tagged with every tag a clone of this manager carries, by someone who
/// may tag clusters but not delete them: expired, its action `delete`, its stack gone.
fn forged_clone(w: &World, id: &str) {
    let mut c = Cluster::new(id, "available");
    Ownership {
        managed_by: "acm".into(),
        role: Role::Clone,
        stack_id: Some("arn:aws:cloudformation:us-east-1:123456789012:stack/never/1".into()),
        logical_id: Some("Db".into()),
        request_id: Some("forged".into()),
    }
    .write(&mut c.tags);
    Lineage {
        root: "orders".into(),
        source: "orders".into(),
        data_timestamp: datetime!(2026-11-01 00:00 UTC),
    }
    .write(&mut c.tags);
    c.tags.insert(
        aurora_clone_manager::domain::expiry::EXPIRES_AT.into(),
        "2026-11-02T00:00:00Z".into(),
    );
    c.tags.insert(
        aurora_clone_manager::domain::expiry::EXPIRY_ACTION.into(),
        "delete".into(),
    );
    w.rds.put(c);
}

/// Issue 16.3: an expiry event naming it (anyone who may invoke the function can send one),
/// the scheduled maintenance run and the sweep all leave it alone.
#[tokio::test(start_paused = true)]
async fn our_tags_on_a_foreign_cluster_are_never_taken_for_ownership() {
    let w = World::new();
    forged_clone(&w, "prod-payments");
    let mut copy = Cluster::new("prod-ledger", "available");
    copy.tags = copy_tags("gone-root", COPIED);
    w.rds.put(copy);
    invoke(
        &w,
        json!({"source": "aurora-clone-manager", "action": "expire", "cluster": "prod-payments"}),
    )
    .await;
    invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    let findings = w
        .flows()
        .sweep
        .sweep(
            &w.flows().deeds.observe_clusters().await.unwrap(),
            false,
            &World::invocation(),
        )
        .await;
    assert!(findings.is_empty(), "{findings:?}");
    for _ in 0..3 {
        w.tick().await;
    }
    for op in [
        "DeleteDBCluster",
        "StopDBCluster",
        "DeleteDBInstance",
        "AddTagsToResource",
    ] {
        assert_eq!(w.rds.count_calls(op), 0, "{op}");
    }
    let ids = w.rds.cluster_ids();
    assert!(ids.contains(&"prod-payments".to_string()) && ids.contains(&"prod-ledger".to_string()));
}

/// Issue 16.4: a team rewrites its own clone's `password-secret` and `created-key` tags to name
/// another team's secret and key, then changes its readers through a genuine Update. Only the
/// secret and key its own deed records are rewritten.
#[tokio::test(start_paused = true)]
async fn a_retagged_clone_cannot_point_the_manager_at_another_teams_secret() {
    let w = World::new();
    let props = |role: &str| {
        json!({"SourceClusterId": "orders", "SetPassword": "true", "ForceCreateKmsKey": "true",
        "AccessPrincipalArns": format!("arn:aws:iam::123456789012:role/{role}")})
    };
    let a = created(&w, "TeamA", props("team-a")).await;
    let b = created(&w, "TeamB", props("team-b")).await;
    let (_, b_id) = (
        a["Data"]["ClusterId"].as_str().unwrap(),
        b["Data"]["ClusterId"].as_str().unwrap(),
    );
    let b_secret = b["Data"]["PasswordSecretArn"].as_str().unwrap().to_string();
    let b_key = w.rds.tags_of(b_id)[tags::CREATED_KEY].clone();
    let b_policy = |w: &World| {
        w.secrets
            .all()
            .values()
            .find(|s| s.arn == b_secret)
            .and_then(|s| s.policy.clone())
    };
    let (b_secret_policy, b_key_policy) = (b_policy(&w), w.keys.all()[&b_key].0.clone());
    let a_arn = a["PhysicalResourceId"].as_str().unwrap();
    let forged = [
        (tags::PASSWORD_SECRET.to_string(), b_secret.clone()),
        (tags::CREATED_KEY.to_string(), b_key.clone()),
    ];
    w.rds.add_tags(a_arn, &forged.into()).await.unwrap();
    let u = w.update_of(&a, props("team-a"), props("team-a-intruder"));
    w.deliver(&u).await;
    w.ticks_until_answers(3, 30).await;
    assert_eq!(
        w.answer_for(&u)[0]["Status"],
        "SUCCESS",
        "{:?}",
        w.answer_for(&u)
    );
    assert_eq!(
        b_policy(&w),
        b_secret_policy,
        "team B's secret policy untouched"
    );
    assert_eq!(
        w.keys.all()[&b_key].0,
        b_key_policy,
        "team B's key policy untouched"
    );
    let a_secret = a["Data"]["PasswordSecretArn"].as_str().unwrap();
    let a_policy = w
        .secrets
        .all()
        .values()
        .find(|s| s.arn == a_secret)
        .and_then(|s| s.policy.clone());
    assert!(
        a_policy.unwrap_or_default().contains("team-a-intruder"),
        "team A's own secret changed"
    );
}

/// Issue 16.10: a pool copy of a root that was deleted is retired by maintenance (no clone
/// can ever be placed on it again), and only a copy the ledger holds.
#[tokio::test(start_paused = true)]
async fn copies_of_a_deleted_root_are_retired() {
    let w = World::new();
    let mut c = Cluster::new("retired-root-copy", "available");
    c.tags = copy_tags("retired-root", COPIED);
    w.put_owned(c);
    let out = invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    assert_eq!(
        out["clusters"][0]["retire"],
        json!(["retired-root-copy"]),
        "{out}"
    );
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 1);
    assert!(w
        .ledger
        .get("retired-root-copy")
        .is_some_and(|d| d.deleting));
    // The same cluster, tagged alike but without a deed, is left alone.
    let w = World::new();
    let mut forged = Cluster::new("forged-copy", "available");
    forged.tags = copy_tags("retired-root", COPIED);
    w.rds.put(forged);
    let out = invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0, "{out}");
}

/// Clones made before the ledger have no deed: nothing acts on them until an operator adopts
/// them, and `adopt --dry-run` records nothing.
#[tokio::test(start_paused = true)]
async fn clusters_made_before_the_ledger_are_adopted_only_by_the_operator() {
    let w = World::new();
    forged_clone(&w, "old-clone");
    let seen = w.flows().deeds.adopt(true).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        !seen[0].recorded && w.ledger.all().is_empty(),
        "a dry run records nothing"
    );
    invoke(
        &w,
        json!({"source": "aurora-clone-manager", "action": "expire", "cluster": "old-clone"}),
    )
    .await;
    assert_eq!(
        w.rds.count_calls("DeleteDBCluster"),
        0,
        "no deed, no authority"
    );
    let done = w.flows().deeds.adopt(false).await.unwrap();
    assert!(done[0].recorded);
    let deed = w.ledger.get("old-clone").expect("recorded");
    assert_eq!(
        (deed.logical_id.as_deref(), deed.request_id.as_deref()),
        (Some("Db"), Some("forged"))
    );
    assert!(
        w.flows().deeds.adopt(false).await.unwrap().is_empty(),
        "adopted once"
    );
    invoke(
        &w,
        json!({"source": "aurora-clone-manager", "action": "expire", "cluster": "old-clone"}),
    )
    .await;
    assert_eq!(
        w.rds.count_calls("DeleteDBCluster"),
        1,
        "adopted: its expiry is acted on"
    );
}

/// A replacement that succeeded before another resource failed gets no Update on rollback:
/// CloudFormation restores the old id and deletes the new clone during
/// `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`. The new clone goes; the one in use stays.
#[tokio::test(start_paused = true)]
async fn a_rollback_after_a_successful_replacement_deletes_only_the_new_clone() {
    let w = World::with(
        aurora_clone_manager::fakes::FakeRds::default(),
        settings_with(&[("VERIFY_STACK_REQUESTS", "true")]),
    );
    w.rds.add_source("billing", Default::default());
    let first = created(&w, "Db", json!({"SourceClusterId": "orders"})).await;
    w.cloudformation.phase(STACK_ID, "UPDATE_IN_PROGRESS");
    w.cloudformation
        .resource_phase(STACK_ID, "Db", "UPDATE_IN_PROGRESS");
    let forward = w.update_of(
        &first,
        json!({"SourceClusterId": "orders"}),
        json!({"SourceClusterId": "billing"}),
    );
    let new = w.answered(&forward, 30).await;
    assert_eq!(new["Status"], "SUCCESS", "{new}");
    // Another resource fails; CloudFormation rolls back to the old id and cleans up the new.
    w.stacks.set(
        STACK_ID,
        "Db",
        aurora_clone_manager::ports::StackResource::Found {
            resource_type: "Custom::AuroraClone".into(),
            status: "UPDATE_COMPLETE".into(),
            physical_id: first["PhysicalResourceId"].as_str().map(str::to_string),
        },
    );
    w.cloudformation
        .phase(STACK_ID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS");
    let mut cleanup = w.request("Delete", json!({"SourceClusterId": "billing"}));
    cleanup.physical_resource_id = new["PhysicalResourceId"].as_str().map(str::to_string);
    assert_eq!(w.answered(&cleanup, 10).await["Status"], "SUCCESS");
    let new_id = new["Data"]["ClusterId"].as_str().unwrap();
    let old_id = first["Data"]["ClusterId"].as_str().unwrap();
    assert!(
        w.ledger.get(new_id).is_some_and(|d| d.deleting),
        "the new clone is going"
    );
    assert!(
        w.rds.cluster_ids().contains(&old_id.to_string()),
        "the old clone stays"
    );
    assert!(w.ledger.get(old_id).is_some_and(|d| !d.deleting));
}

/// Issue 16.10: two invocations working one clone at once make one key for it (the key is
/// made only by the holder of the deed's conditional mark), and it is the one that encrypts
/// the secret and is retired with the clone.
#[tokio::test(start_paused = true)]
async fn two_invocations_at_once_make_one_key() {
    let w = World::with_rds(aurora_clone_manager::fakes::FakeRds::with_latency(
        Duration::from_millis(300),
    ));
    let props =
        json!({"SourceClusterId": "orders", "SetPassword": "true", "ForceCreateKmsKey": "true"});
    let create = w.request("Create", props);
    w.deliver(&create).await;
    let follow_up = json!({"source": "aurora-clone-manager", "action": "follow-up"});
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let _ = tokio::join!(invoke(&w, follow_up.clone()), invoke(&w, follow_up.clone()));
    }
    let a = w.answer_for(&create).pop().unwrap_or_else(|| {
        panic!(
            "unanswered: {:?} {:?}",
            w.ledger.all(),
            w.state.open_requests()
        )
    });
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    assert_eq!(w.keys.all().len(), 1, "{:?}", w.keys.all());
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    let key = w
        .ledger
        .get(id)
        .and_then(|d| d.key_id().map(str::to_string));
    let secret = w
        .secrets
        .all()
        .into_values()
        .find(|s| !s.deleted)
        .expect("a secret");
    assert_eq!(
        secret.kms_key_id, key,
        "the recorded key encrypts the secret"
    );
}

/// Someone who may tag another team's clone (but not delete it) writes its expiry tags: past,
/// action `delete`, already `expired`. The clone's deed records its properties (expiry in three
/// days, action `stop`): nothing happens before then, and then it is stopped, never deleted.
#[tokio::test(start_paused = true)]
async fn forged_expiry_tags_can_neither_hasten_nor_harden_an_expiry() {
    use aurora_clone_manager::domain::expiry::{EXPIRED, EXPIRES_AT, EXPIRY_ACTION};
    let w = World::new();
    let a = created(
        &w,
        "Db",
        json!({"SourceClusterId": "orders", "ExpiresAfter": "P3D", "ExpiryAction": "stop"}),
    )
    .await;
    let arn = a["PhysicalResourceId"].as_str().unwrap();
    let forged = [
        (EXPIRES_AT.to_string(), "2026-11-01T00:00:00Z".to_string()),
        (EXPIRY_ACTION.to_string(), "delete".to_string()),
        (EXPIRED.to_string(), "stop".to_string()),
    ];
    w.rds.add_tags(arn, &forged.into()).await.unwrap();
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    invoke(
        &w,
        json!({"source": "aurora-clone-manager", "action": "expire", "cluster": id}),
    )
    .await;
    assert_eq!(w.rds.count_calls("StopDBCluster"), 0, "not before its time");
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0);
    tokio::time::sleep(Duration::from_secs(3 * 86_400 + 120)).await;
    invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0, "never deleted");
    assert_eq!(
        w.rds.count_calls("StopDBCluster"),
        1,
        "stopped at its own expiry"
    );
}

/// A deed outlives its cluster only until the next scheduled maintenance run, which strikes it;
/// a dry run strikes nothing, and a deed entered moments ago (its restore not listed yet) stays.
#[tokio::test(start_paused = true)]
async fn deeds_of_clusters_gone_are_struck_by_maintenance_only() {
    let w = World::new();
    let mut c = Cluster::new("gone-copy", "available");
    c.tags = copy_tags("orders", COPIED);
    let mut deleting = aurora_clone_manager::domain::ledger::adopted(&c, 0).unwrap();
    deleting.deleting = true;
    w.ledger.insert(deleting);
    let now = w.flows().core.clock.now().unix_timestamp();
    let mut fresh = aurora_clone_manager::domain::ledger::adopted(&c, now).unwrap();
    fresh.cluster_id = "being-restored".into();
    w.ledger.insert(fresh);
    w.flows().deeds.observe_clusters().await.unwrap();
    let dry = w
        .flows()
        .maintain
        .maintain(true, &World::invocation())
        .await;
    assert!(dry.is_ok(), "{dry:?}");
    assert_eq!(
        w.ledger.all().len(),
        2,
        "looking and dry runs strike nothing"
    );
    invoke(&w, json!({"source": "events", "action": "maintain!"})).await;
    let left: Vec<String> = w.ledger.all().into_iter().map(|d| d.cluster_id).collect();
    assert_eq!(left, vec!["being-restored".to_string()]);
}
