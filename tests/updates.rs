//! Update over fakes: replacement never destroys the old clone; tags change in place; a no-op
//! answers with the same Data as Create.

mod support;

use aurora_clone_manager::ports::Rds;
use serde_json::{json, Value};
use support::world::*;

async fn created(w: &World, props: Value) -> Value {
    w.answered(&w.request("Create", props), 30).await
}

#[tokio::test(start_paused = true)]
async fn a_new_instance_class_replaces_the_clone_and_keeps_the_old() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders"});
    let first = created(&w, old.clone()).await;
    let u = w.update_of(
        &first,
        old,
        json!({"SourceClusterId": "orders", "InstanceClass": "db.r7g.large"}),
    );
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_eq!(a["Status"], "SUCCESS");
    assert_ne!(a["PhysicalResourceId"], first["PhysicalResourceId"]);
    let old_id = first["Data"]["ClusterId"].as_str().unwrap().to_string();
    assert!(
        w.rds.cluster_ids().contains(&old_id),
        "the old clone waits for CloudFormation's Delete"
    );
    assert_eq!(w.rds.count_calls("DeleteDBCluster"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_no_op_update_answers_with_the_same_data() {
    let w = World::new();
    let props = json!({"SourceClusterId": "orders", "Tags": {"team": "qa"}});
    let first = created(&w, props.clone()).await;
    let u = w.update_of(&first, props.clone(), props);
    w.deliver(&u).await;
    let a = &w.answer_for(&u)[0];
    assert_in_place(&first, a);
    assert_eq!(a["Data"], first["Data"]);
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

#[tokio::test(start_paused = true)]
async fn tags_change_in_place() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders", "Tags": {"team": "qa", "cost": "1"}});
    let first = created(&w, old.clone()).await;
    let u = w.update_of(
        &first,
        old,
        json!({"SourceClusterId": "orders", "Tags": {"team": "payments"}}),
    );
    w.deliver(&u).await;
    assert_eq!(
        w.answer_for(&u)[0]["PhysicalResourceId"],
        first["PhysicalResourceId"]
    );
    assert_eq!(
        w.rds.count_calls("AddTagsToResource"),
        2,
        "cluster and writer instance"
    );
    assert_eq!(w.rds.count_calls("RemoveTagsFromResource"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_replacement_cannot_reuse_the_current_cluster_id() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders", "ClusterId": "fixed-name"});
    let first = created(&w, old.clone()).await;
    let u = w.update_of(
        &first,
        old,
        json!({"SourceClusterId": "orders", "ClusterId": "fixed-name", "InstanceClass": "db.r7g.large"}),
    );
    w.deliver(&u).await;
    let a = &w.answer_for(&u)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"]
        .as_str()
        .unwrap()
        .contains("ClusterId fixed-name"));
    assert_eq!(
        a["PhysicalResourceId"], first["PhysicalResourceId"],
        "a failed update keeps the resource's id"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_replacement_removes_what_it_made() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders"});
    let first = created(&w, old.clone()).await;
    let u = w.update_of(
        &first,
        old,
        json!({"SourceClusterId": "orders", "ClusterId": "replacement"}),
    );
    w.deliver(&u).await;
    w.rds.stick("replacement", "restore-failed");
    w.tick().await;
    let a = &w.answer_for(&u)[0];
    assert_eq!(a["Status"], "FAILED");
    assert_eq!(a["PhysicalResourceId"], first["PhysicalResourceId"]);
    assert!(
        w.rds.count_calls("DeleteDBInstance") >= 1,
        "the replacement's leftovers are removed"
    );
    let first_id = first["Data"]["ClusterId"].as_str().unwrap().to_string();
    assert!(w.rds.cluster_ids().contains(&first_id));
}

/// Issue 9.5: with NoFailOnExistingCluster the clone got another id than its ClusterId; a later
/// Tags change must not read that as "ClusterId changed" and replace the clone.
#[tokio::test(start_paused = true)]
async fn a_tags_change_after_no_fail_on_existing_cluster_stays_in_place() {
    let w = World::new();
    w.rds.add_source("taken", Default::default());
    let old = json!({"SourceClusterId": "orders", "ClusterId": "taken", "NoFailOnExistingCluster": "true", "Tags": {"team": "a"}});
    let first = created(&w, old.clone()).await;
    assert_eq!(first["Status"], "SUCCESS", "{first}");
    assert_ne!(first["Data"]["ClusterId"], "taken");
    let mut new = old.clone();
    new["Tags"] = json!({"team": "b"});
    let u = w.update_of(&first, old, new);
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_in_place(&first, a);
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

/// Issue 9.5: old properties in a shape this version cannot read (an older version accepted
/// them) never replace the clone: the tags are brought in line in place.
#[tokio::test(start_paused = true)]
async fn unreadable_old_properties_never_replace_the_clone() {
    let w = World::new();
    let props = json!({"SourceClusterId": "orders", "Tags": {"team": "a"}});
    let first = created(&w, props.clone()).await;
    let mut new = props.clone();
    new["Tags"] = json!({"team": "b"});
    let u = w.update_of(
        &first,
        json!({"SourceClusterId": "orders", "CopyOk": "maybe"}),
        new,
    );
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_in_place(&first, a);
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

/// Issue 10.3: an Update naming a clone of another stack's resource (a forged request: anyone
/// who may invoke the function can send one) changes nothing.
#[tokio::test(start_paused = true)]
async fn a_forged_update_of_another_resources_clone_changes_nothing() {
    let w = World::new();
    let props = json!({"SourceClusterId": "orders", "SetPassword": "true"});
    let victim = created(&w, props.clone()).await;
    let mut forged = w.update_of(
        &victim,
        props,
        json!({"SourceClusterId": "orders", "SetPassword": "true",
        "AccessPrincipalArns": "arn:aws:iam::123456789012:role/attacker"}),
    );
    forged.stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/attacker/9".into();
    w.deliver(&forged).await;
    let a = &w.answer_for(&forged)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"]
        .as_str()
        .unwrap()
        .contains("not a clone of this stack's resource"));
    let secret = w.secrets.all().into_values().next().unwrap();
    assert!(!secret.policy.unwrap_or_default().contains("attacker"));
}

/// MinCapacity and MaxCapacity change the writer's range in place: the same clone, the new
/// range; and a rollback (CloudFormation's old properties back as the new ones) restores it.
#[tokio::test(start_paused = true)]
async fn a_capacity_change_is_made_in_place_and_rolled_back() {
    let w = World::new();
    let small = json!({"SourceClusterId": "orders", "InstanceClass": "db.serverless",
        "MinCapacity": "0.5", "MaxCapacity": "4"});
    let large = json!({"SourceClusterId": "orders", "InstanceClass": "db.serverless",
        "MinCapacity": "2", "MaxCapacity": "16"});
    let first = created(&w, small.clone()).await;
    let id = first["Data"]["ClusterId"].as_str().unwrap().to_string();
    let range = |w: &World| {
        let (rds, id) = (w.rds.clone(), id.clone());
        async move {
            let c = rds.cluster(&id).await.unwrap().expect("the clone");
            c.capacity.map(|c| (c.min, c.max))
        }
    };
    assert_eq!(range(&w).await, Some((0.5, 4.0)));
    let u = w.update_of(&first, small.clone(), large.clone());
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_in_place(&first, a);
    assert_eq!(range(&w).await, Some((2.0, 16.0)));
    // CloudFormation rolls back: the old properties arrive as the new, and the new as the old.
    let back = w.update_of(&first, large, small);
    w.deliver(&back).await;
    w.ticks_until_answers(3, 30).await;
    assert_eq!(w.answer_for(&back)[0]["Status"], "SUCCESS");
    assert_eq!(range(&w).await, Some((0.5, 4.0)));
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        1,
        "never replaced"
    );
}
