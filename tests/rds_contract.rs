//! One contract for the `Rds` port, run against the SDK adapter on moto and against the fake
//! the lifecycle tests use, so that the fake cannot drift from the adapter: what a restore
//! returns, tags (explicit only; on clusters and on instance ARNs), members (one writer, then
//! readers), what creating twice and deleting what is gone say, and how errors are labelled.
//! Then what only the adapter does, on moto: listings with tags inline, the calls counted at
//! the SDK boundary, and what a restore and a writer carry (scaling range, security settings).

mod support;

use aurora_clone_manager::adapters::rds::SdkRds;
use aurora_clone_manager::domain::tags::ROLE;
use aurora_clone_manager::domain::{Cluster, InstanceRequest, RestoreRequest, RestoreType, Tags};
use aurora_clone_manager::fakes::FakeRds;
use aurora_clone_manager::ports::{Created, Deletion, Rds};
use std::time::Duration;
use support::moto::{realistic_source, sdk_config, unique};
use support::values::tags;

/// A copy-on-write restore of `src` into `id`, in its network, tagged as a clone.
fn restore_of(src: &Cluster, id: &str) -> RestoreRequest {
    RestoreRequest {
        cluster_id: id.into(),
        source_cluster_id: src.id.clone(),
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: src.subnet_group.clone(),
        security_groups: src.security_groups.clone(),
        tags: tags(&[(ROLE, "clone")]),
        capacity: None,
        settings: Default::default(),
    }
}

fn instance(id: &str, cluster: &str, engine: &str) -> InstanceRequest {
    InstanceRequest {
        instance_id: id.into(),
        cluster_id: cluster.into(),
        engine: engine.into(),
        class: "db.r6g.large".into(),
        tags: tags(&[(ROLE, "clone")]),
        settings: Default::default(),
    }
}

async fn contract(rds: &dyn Rds, source: &str) {
    let src: Cluster = rds.cluster(source).await.unwrap().expect("the source");
    assert_eq!(src.writer(), Some(format!("{source}-1").as_str()));
    assert_eq!(rds.cluster(&unique("missing")).await.unwrap(), None);

    let id = unique("Clone");
    let restore = RestoreRequest {
        tags: tags(&[(ROLE, "clone"), ("mine", "yes")]),
        ..restore_of(&src, &id)
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

#[tokio::test]
async fn rds_observes_restores_tags_and_deletes() {
    let conf = sdk_config();
    let rds = SdkRds::new(aws_sdk_rds::Client::new(&conf));
    let source = unique("src");
    realistic_source(&conf, &source).await;

    let all = rds.clusters().await.unwrap();
    let src = all.iter().find(|c| c.id == source).expect("listed");
    assert_eq!(
        src.tags.get("team").map(String::as_str),
        Some("orders"),
        "tags come inline"
    );
    assert_eq!(src.engine, "aurora-postgresql");
    assert!(src.subnet_group.is_some() && !src.security_groups.is_empty());
    assert_eq!(src.writer(), Some(format!("{source}-1").as_str()));
    assert_eq!(rds.cluster("no-such-cluster").await.unwrap(), None);

    let clone_id = unique("clone");
    let request = RestoreRequest {
        tags: tags(&[(ROLE, "clone"), ("mine", "yes")]),
        ..restore_of(src, &clone_id)
    };
    let Created::New(made) = rds.restore(&request).await.unwrap() else {
        panic!("restored anew")
    };
    assert_eq!(made.id, clone_id);
    assert!(
        !made.tags.contains_key("team"),
        "explicit tags: the source's are not copied"
    );
    rds.create_instance(&InstanceRequest {
        instance_id: format!("{clone_id}-writer"),
        cluster_id: clone_id.clone(),
        engine: made.engine.clone(),
        class: "db.r6g.large".into(),
        tags: Tags::new(),
        settings: Default::default(),
    })
    .await
    .unwrap();
    let instances = rds.instances(&clone_id).await.unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].status, "available");

    rds.add_tags(&made.arn, &tags(&[("extra", "1")]))
        .await
        .unwrap();
    rds.remove_tags(&made.arn, &["mine".to_string()])
        .await
        .unwrap();
    let after = rds.cluster(&clone_id).await.unwrap().unwrap();
    assert_eq!(after.tags.get("extra").map(String::as_str), Some("1"));
    assert!(!after.tags.contains_key("mine"));

    assert_eq!(
        rds.delete_instance(&format!("{clone_id}-writer"))
            .await
            .unwrap(),
        Deletion::Started
    );
    assert_eq!(
        rds.delete_cluster(&clone_id).await.unwrap(),
        Deletion::Started
    );
    assert_eq!(
        rds.delete_cluster(&clone_id).await.unwrap(),
        Deletion::AlreadyGone
    );
    assert_eq!(
        rds.delete_instance("no-such-instance").await.unwrap(),
        Deletion::AlreadyGone
    );
}

#[tokio::test]
async fn aws_calls_are_counted_at_the_sdk_boundary() {
    let clients = aurora_clone_manager::adapters::Clients::new(&sdk_config());
    let rds = SdkRds::new(clients.rds.clone());
    rds.clusters().await.unwrap();
    rds.cluster("missing").await.unwrap();
    let calls = clients.calls.take();
    assert_eq!(
        calls.get("RDS.DescribeDBClusters").copied(),
        Some(2),
        "{calls:?}"
    );
    assert!(clients.calls.take().is_empty(), "taking resets");
}

/// The Serverless v2 scaling range goes with the restore (RDS refuses a `db.serverless` writer
/// in a cluster without one).
#[tokio::test]
async fn a_serverless_restore_carries_its_scaling_range() {
    use aurora_clone_manager::domain::capacity::Capacity;
    let conf = sdk_config();
    let rds = SdkRds::new(aws_sdk_rds::Client::new(&conf));
    let source = unique("src");
    realistic_source(&conf, &source).await;
    let src = rds.cluster(&source).await.unwrap().unwrap();
    let id = unique("sv2");
    let range = Capacity { min: 1.0, max: 4.0 };
    rds.restore(&RestoreRequest {
        capacity: Some(range),
        ..restore_of(&src, &id)
    })
    .await
    .unwrap();
    let made = rds.cluster(&id).await.unwrap().unwrap();
    assert_eq!(made.capacity, Some(range));
}

/// What a clone inherits to be as locked down as its source reaches RDS: the cluster parameter
/// group, IAM authentication and log exports on the restore; the writer's parameter group and
/// CA, and `PubliclyAccessible=false`.
#[tokio::test]
async fn restores_and_writers_carry_the_sources_security_settings() {
    use aurora_clone_manager::domain::{ClusterSettings, InstanceSettings};
    let conf = sdk_config();
    let client = aws_sdk_rds::Client::new(&conf);
    let (cpg, pg) = (unique("tls-audit"), unique("audited"));
    client
        .create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(&cpg)
        .db_parameter_group_family("aurora-postgresql15")
        .description("rds.force_ssl=1, audit")
        .send()
        .await
        .unwrap();
    client
        .create_db_parameter_group()
        .db_parameter_group_name(&pg)
        .db_parameter_group_family("aurora-postgresql15")
        .description("audit")
        .send()
        .await
        .unwrap();
    let rds = SdkRds::new(client);
    let source = unique("src");
    realistic_source(&conf, &source).await;
    let src = rds.cluster(&source).await.unwrap().unwrap();
    let id = unique("locked");
    let cluster = ClusterSettings {
        parameter_group: Some(cpg.clone()),
        iam_auth: true,
        log_exports: vec!["postgresql".into()],
    };
    rds.restore(&RestoreRequest {
        settings: cluster.clone(),
        ..restore_of(&src, &id)
    })
    .await
    .unwrap();
    assert_eq!(rds.cluster(&id).await.unwrap().unwrap().settings, cluster);
    let writer = InstanceSettings {
        parameter_group: Some(pg),
        ca_certificate: Some("rds-ca-rsa2048-g1".into()),
        publicly_accessible: false,
    };
    rds.create_instance(&InstanceRequest {
        instance_id: format!("{id}-writer"),
        cluster_id: id.clone(),
        engine: "aurora-postgresql".into(),
        class: "db.r6g.large".into(),
        tags: Tags::new(),
        settings: writer.clone(),
    })
    .await
    .unwrap();
    let made = rds.instances(&id).await.unwrap();
    assert_eq!(made[0].settings, writer);
}
