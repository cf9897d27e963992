//! One contract for the `Rds` port, run against the SDK adapter on moto and against the fake
//! the lifecycle tests use, so that the fake cannot drift from the adapter: what a restore
//! returns, tags (explicit only; on clusters and on instance ARNs), members (one writer, then
//! readers), what creating twice and deleting what is gone say, and how errors are labelled.

mod support;

use aurora_clone_manager::adapters::rds::SdkRds;
use aurora_clone_manager::domain::{Cluster, InstanceRequest, RestoreRequest, RestoreType, Tags};
use aurora_clone_manager::fakes::FakeRds;
use aurora_clone_manager::ports::{Created, Deletion, Rds};
use std::time::Duration;
use support::moto::{realistic_source, sdk_config, unique};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn instance(id: &str, cluster: &str, engine: &str) -> InstanceRequest {
    InstanceRequest {
        instance_id: id.into(),
        cluster_id: cluster.into(),
        engine: engine.into(),
        class: "db.r6g.large".into(),
        tags: tags(&[("aurora-clone-manager:role", "clone")]),
        settings: Default::default(),
    }
}

async fn contract(rds: &dyn Rds, source: &str) {
    let src: Cluster = rds.cluster(source).await.unwrap().expect("the source");
    assert_eq!(src.writer(), Some(format!("{source}-1").as_str()));
    assert_eq!(rds.cluster(&unique("missing")).await.unwrap(), None);

    let id = unique("Clone");
    let restore = RestoreRequest {
        cluster_id: id.clone(),
        source_cluster_id: source.into(),
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: src.subnet_group.clone(),
        security_groups: src.security_groups.clone(),
        tags: tags(&[("aurora-clone-manager:role", "clone"), ("mine", "yes")]),
        capacity: None,
        settings: Default::default(),
    };
    let Created::New(made) = rds.restore(&restore).await.unwrap() else {
        panic!("restored anew")
    };
    let id = id.to_ascii_lowercase();
    assert_eq!(made.id, id, "identifiers are stored lowercase");
    assert_eq!(made.engine, src.engine);
    assert!(
        ["creating", "available"].contains(&made.status.as_str()),
        "{}",
        made.status
    );
    assert_eq!(made.tags.get("mine").map(String::as_str), Some("yes"));
    assert!(
        !made.tags.contains_key("team"),
        "the source's tags are not copied"
    );

    let writer = format!("{id}-writer");
    let reader = format!("{id}-reader");
    assert_eq!(
        rds.create_instance(&instance(&writer, &id, &made.engine))
            .await
            .unwrap(),
        Created::New(())
    );
    assert_eq!(
        rds.create_instance(&instance(&writer, &id, &made.engine))
            .await
            .unwrap(),
        Created::Exists
    );
    rds.create_instance(&instance(&reader, &id, &made.engine))
        .await
        .unwrap();
    let listed = rds.instances(&id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|i| i.cluster_id.as_deref() == Some(id.as_str())));
    let now = rds.cluster(&id).await.unwrap().unwrap();
    let writers: Vec<_> = now.members.iter().filter(|m| m.writer).collect();
    assert_eq!(writers.len(), 1, "one writer: {:?}", now.members);
    assert_eq!(writers[0].instance_id, writer);
    assert_eq!(now.writer(), Some(writer.as_str()));

    let instance_arn = made.arn.replace(":cluster:", ":db:").replace(&id, &writer);
    rds.add_tags(&instance_arn, &tags(&[("team", "qa")]))
        .await
        .unwrap();
    rds.add_tags(&made.arn, &tags(&[("extra", "1")]))
        .await
        .unwrap();
    rds.remove_tags(&made.arn, &["mine".into()]).await.unwrap();
    let retagged = rds.cluster(&id).await.unwrap().unwrap();
    assert_eq!(retagged.tags.get("extra").map(String::as_str), Some("1"));
    assert!(!retagged.tags.contains_key("mine"));

    let orphan = rds
        .create_instance(&instance(
            &unique("orphan"),
            &unique("nowhere"),
            "aurora-postgresql",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (orphan.operation, orphan.code.as_str(), orphan.retryable),
        ("CreateDBInstance", "DBClusterNotFoundFault", false),
        "{orphan:?}"
    );

    assert_eq!(
        rds.delete_cluster(&id).await.unwrap(),
        Deletion::NotYet,
        "members first"
    );
    for i in [&writer, &reader] {
        assert_eq!(rds.delete_instance(i).await.unwrap(), Deletion::Started);
    }
    let mut outcome = Deletion::NotYet;
    for _ in 0..20 {
        outcome = rds.delete_cluster(&id).await.unwrap();
        if outcome != Deletion::NotYet {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outcome, Deletion::Started);
    assert_eq!(
        rds.delete_instance(&unique("gone")).await.unwrap(),
        Deletion::AlreadyGone
    );
    assert_eq!(
        rds.delete_cluster(&unique("gone")).await.unwrap(),
        Deletion::AlreadyGone
    );
}

#[tokio::test]
async fn the_sdk_adapter_on_moto_keeps_the_contract() {
    let conf = sdk_config();
    let source = unique("src");
    realistic_source(&conf, &source).await;
    contract(&SdkRds::new(aws_sdk_rds::Client::new(&conf)), &source).await;
}

#[tokio::test]
async fn the_fake_keeps_the_same_contract() {
    let mut fake = FakeRds::with_delays(Duration::ZERO, Duration::ZERO);
    fake.delete_delay = Duration::from_millis(10);
    let source = unique("src");
    fake.add_source(&source, tags(&[("team", "orders")]));
    contract(&fake, &source).await;
}
