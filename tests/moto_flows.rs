//! Whole flows through the real handler and real adapters against moto: the Lambda's handler
//! is called as the runtime calls it, responses go by HTTP PUT to a loopback server, and the
//! test plays EventBridge's scheduler by reading the follow-up rule's target and invoking it.

mod support;

use aurora_clone_manager::domain::tags;
use serde_json::json;
use support::flow::Flow;

#[tokio::test]
async fn create_clones_a_realistic_source_then_delete_removes_it() {
    let f = Flow::new().await;
    let (_, a) = f
        .create(json!({"SourceClusterId": f.source, "Tags": {"purpose": "qa"}, "CopyOk": "false"}))
        .await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    let out = f
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(&id)
        .send()
        .await
        .unwrap();
    let c = &out.db_clusters()[0];
    assert_eq!(a["PhysicalResourceId"], c.db_cluster_arn().unwrap());
    assert_eq!(a["Data"]["Endpoint"], c.endpoint().unwrap());
    assert_eq!(a["Data"]["Port"], "5432");
    assert_eq!(
        c.db_subnet_group(),
        Some(format!("{}-subnets", f.source).as_str())
    );
    let tag = |k: &str| {
        c.tag_list()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    assert_eq!(tag(tags::ROLE).as_deref(), Some("clone"));
    assert_eq!(tag(tags::MANAGED_BY), Some(f.stack.clone()));
    assert_eq!(tag(tags::LOGICAL_ID).as_deref(), Some("Db"));
    assert_eq!(tag(tags::SOURCE), Some(f.source.clone()));
    assert_eq!(tag("purpose").as_deref(), Some("qa"));
    assert_eq!(tag("team"), None, "the source's tags are not copied");
    let members = c.db_cluster_members();
    assert_eq!(members.len(), 1);
    assert_eq!(
        members[0].db_instance_identifier(),
        Some(format!("{id}-writer").as_str())
    );

    let mut d = f.request("Delete", json!({"SourceClusterId": f.source}));
    d.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    f.invoke(serde_json::to_value(&d).unwrap()).await;
    f.run_follow_ups(5).await;
    assert_eq!(f.answers_for(&d)[0]["Status"], "SUCCESS");
    assert!(!f.cluster_ids().await.contains(&id));
    assert!(f.cluster_ids().await.contains(&f.source));
}

#[tokio::test]
async fn duplicate_delivery_makes_one_clone() {
    let f = Flow::new().await;
    let r = f.request("Create", json!({"SourceClusterId": f.source}));
    f.invoke(serde_json::to_value(&r).unwrap()).await;
    f.invoke(serde_json::to_value(&r).unwrap()).await;
    f.run_follow_ups(10).await;
    f.invoke(serde_json::to_value(&r).unwrap()).await;
    let mine: Vec<String> = f
        .cluster_ids()
        .await
        .into_iter()
        .filter(|c| c.starts_with(&format!("{}-2", f.source)))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(f.answers_for(&r).len(), 1);
}

#[tokio::test]
async fn delete_of_missing_and_unowned_clusters_succeeds_without_touching_them() {
    let f = Flow::new().await;
    let source_arn = format!("arn:aws:rds:us-east-1:123456789012:cluster:{}", f.source);
    for physical in [
        source_arn.as_str(),
        "arn:aws:rds:us-east-1:123456789012:cluster:never-was",
        "app-Db-GENERATED1",
    ] {
        let mut d = f.request("Delete", json!({}));
        d.physical_resource_id = Some(physical.to_string());
        f.invoke(serde_json::to_value(&d).unwrap()).await;
        assert_eq!(f.answers_for(&d)[0]["Status"], "SUCCESS", "{physical}");
    }
    assert!(
        f.cluster_ids().await.contains(&f.source),
        "the source is never deleted"
    );
}

#[tokio::test]
async fn update_by_replacement_returns_a_new_arn_and_keeps_the_old_clone() {
    let f = Flow::new().await;
    let old = json!({"SourceClusterId": f.source});
    let (_, first) = f.create(old.clone()).await;
    let mut u = f.request(
        "Update",
        json!({"SourceClusterId": f.source, "InstanceClass": "db.r7g.large"}),
    );
    u.physical_resource_id = first["PhysicalResourceId"].as_str().map(str::to_string);
    u.old_resource_properties = Some(old);
    f.invoke(serde_json::to_value(&u).unwrap()).await;
    f.run_follow_ups(10).await;
    let a = &f.answers_for(&u)[0];
    assert_eq!(a["Status"], "SUCCESS");
    assert_ne!(a["PhysicalResourceId"], first["PhysicalResourceId"]);
    let ids = f.cluster_ids().await;
    assert!(ids.contains(&first["Data"]["ClusterId"].as_str().unwrap().to_string()));
    assert!(ids.contains(&a["Data"]["ClusterId"].as_str().unwrap().to_string()));
}
