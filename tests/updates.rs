//! Update over fakes: replacement never destroys the old clone; tags change in place; a no-op
//! answers with the same Data as Create.

mod support;

use serde_json::{json, Value};
use support::world::*;

async fn created(w: &World, props: Value) -> Value {
    let create = w.request("Create", props);
    w.deliver(&create).await;
    w.ticks_until_answers(w.answers().len() + 1, 30).await;
    w.answer_for(&create).pop().expect("answered")
}

fn update_of(
    w: &World,
    before: &Value,
    old: Value,
    new: Value,
) -> aurora_clone_manager::cfn::CfnRequest {
    let mut u = w.request("Update", new);
    u.physical_resource_id = before["PhysicalResourceId"].as_str().map(str::to_string);
    u.old_resource_properties = Some(old);
    u
}

#[tokio::test(start_paused = true)]
async fn a_new_instance_class_replaces_the_clone_and_keeps_the_old() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders"});
    let first = created(&w, old.clone()).await;
    let u = update_of(
        &w,
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
    let u = update_of(&w, &first, props.clone(), props);
    w.deliver(&u).await;
    let a = &w.answer_for(&u)[0];
    assert_eq!(a["Status"], "SUCCESS");
    assert_eq!(a["PhysicalResourceId"], first["PhysicalResourceId"]);
    assert_eq!(a["Data"], first["Data"]);
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

#[tokio::test(start_paused = true)]
async fn tags_change_in_place() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders", "Tags": {"team": "qa", "cost": "1"}});
    let first = created(&w, old.clone()).await;
    let u = update_of(
        &w,
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
    let u = update_of(
        &w,
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
    let u = update_of(
        &w,
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
