//! Maintenance end to end against moto: the config from a real SSM parameter (JSON and EDN),
//! copies created with their writer, an obsolete copy retired, a dry run that changes nothing,
//! and a bad config that changes nothing.

mod support;

use aurora_clone_manager::domain::tags;
use aws_sdk_rds::types::Tag;
use serde_json::{json, Value};
use support::flow::Flow;
use support::moto::{has_tag, sdk_config};

fn scheduled_event() -> Value {
    json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
}

async fn set_config(f: &Flow, text: &str) {
    let ssm = aws_sdk_ssm::Client::new(&sdk_config());
    ssm.put_parameter()
        .name(format!("/{}/maintenance-config", f.stack))
        .value(text)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

async fn copies(f: &Flow) -> Vec<aws_sdk_rds::types::DbCluster> {
    let out = f.rds.describe_db_clusters().send().await.unwrap();
    out.db_clusters()
        .iter()
        .filter(|c| has_tag(c, tags::MANAGED_BY, &f.stack) && has_tag(c, tags::ROLE, "copy"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn maintenance_from_a_json_config_makes_copies_with_writers() {
    let f = Flow::new().await;
    set_config(&f, &format!(r#"{{"clusters":[{{"cluster-id":"{}","target-clone-slots":20,"instance-class":"db.t4g.medium"}}]}}"#, f.source)).await;
    let report = f.invoke(scheduled_event()).await;
    assert_eq!(report["clusters"][0]["applied"], true, "{report}");
    let made = copies(&f).await;
    assert_eq!(made.len(), 1, "⌈(20 - 15) / 15⌉ = 1");
    let copy = &made[0];
    assert_eq!(
        copy.db_cluster_members().len(),
        1,
        "the copy has its writer"
    );
    let id = copy.db_cluster_identifier().unwrap();
    let inst = f
        .rds
        .describe_db_instances()
        .db_instance_identifier(format!("{id}-writer"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        inst.db_instances()[0].db_instance_class(),
        Some("db.t4g.medium")
    );
    let again = f.invoke(scheduled_event()).await;
    assert!(
        again["clusters"][0]["create_ids"]
            .as_array()
            .unwrap()
            .is_empty(),
        "idempotent: {again}"
    );
    assert_eq!(copies(&f).await.len(), 1);
}

#[tokio::test]
async fn edn_config_dry_run_changes_nothing() {
    let f = Flow::new().await;
    set_config(
        &f,
        &format!(
            r#"{{:clusters [{{:cluster-id "{}" :target-clone-slots 50 :dry-run? true}}]}}"#,
            f.source
        ),
    )
    .await;
    let report = f.invoke(scheduled_event()).await;
    assert_eq!(report["clusters"][0]["applied"], false, "{report}");
    assert_eq!(
        report["clusters"][0]["create_ids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(copies(&f).await.is_empty());
}

#[tokio::test]
async fn an_obsolete_empty_copy_is_retired_and_a_bad_config_changes_nothing() {
    let f = Flow::new().await;
    let old = format!("{}-copy-old", f.source);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    f.rds
        .restore_db_cluster_to_point_in_time()
        .db_cluster_identifier(&old)
        .source_db_cluster_identifier(&f.source)
        .restore_type("full-copy")
        .use_latest_restorable_time(true)
        .tags(tag(tags::MANAGED_BY, &f.stack))
        .tags(tag(tags::ROLE, "copy"))
        .tags(tag(tags::ROOT, &f.source))
        .tags(tag(tags::SOURCE, &f.source))
        .tags(tag(tags::DATA_TIMESTAMP, "2020-01-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    // Made before the ledger: the operator adopts it (recorded in the stack's table).
    let flows = f.app.flows.as_ref().expect("flows");
    let adopted = flows.deeds.adopt(false).await.unwrap();
    assert_eq!(adopted.len(), 1, "{adopted:?}");
    set_config(
        &f,
        &format!(
            r#"{{"clusters":[{{"cluster-id":"{}","target-clone-slots":"lots"}}]}}"#,
            f.source
        ),
    )
    .await;
    let bad = f.invoke(scheduled_event()).await;
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("target-clone-slots"),
        "{bad}"
    );
    assert_eq!(copies(&f).await.len(), 1, "nothing changed");

    set_config(
        &f,
        &format!(
            r#"{{"clusters":[{{"cluster-id":"{}","target-clone-slots":0}}]}}"#,
            f.source
        ),
    )
    .await;
    let report = f.invoke(scheduled_event()).await;
    assert_eq!(report["clusters"][0]["retire"][0], old.as_str(), "{report}");
    f.run_follow_ups(5).await;
    assert!(copies(&f).await.is_empty(), "the obsolete copy is retired");
    let left: Vec<String> = f
        .rds
        .describe_db_clusters()
        .send()
        .await
        .unwrap()
        .db_clusters()
        .iter()
        .filter_map(|c| c.db_cluster_identifier().map(str::to_string))
        .collect();
    assert!(left.contains(&f.source));
}
