//! One contract for the `Rds` port, run against the SDK adapter on moto and against the fake
//! the lifecycle tests use, so that the fake cannot drift from the adapter: what a restore
//! returns, tags (explicit only; on clusters and on instance ARNs), members (one writer, then
//! readers), what creating twice and deleting what is gone say, and how errors are labelled.
//! Then what only the adapter does, on moto: listings with tags inline, the calls counted at
//! the SDK boundary, and what a restore and a writer carry (scaling range, security settings).
//! Renames have a contract of their own (the lag is RDS's: moto renames at once), with what
//! moto does not model held by the fake alone and the adapter's reading of RDS's refusals
//! checked against RDS's own error replies.

mod support;

use aurora_clone_manager::adapters::rds::SdkRds;
use aurora_clone_manager::domain::tags::ROLE;
use aurora_clone_manager::domain::{
    Cluster, Instance, InstanceRequest, RestoreRequest, RestoreType, Tags,
};
use aurora_clone_manager::error::AwsError;
use aurora_clone_manager::fakes::FakeRds;
use aurora_clone_manager::ports::{Created, Deletion, Rds, Renaming};
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
    let _shared = MOTO.read().await;
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
    let _shared = MOTO.read().await;
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
    let _shared = MOTO.read().await;
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
    let _shared = MOTO.read().await;
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
    let _shared = MOTO.read().await;
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

// --- Renames -----------------------------------------------------------------------------------

/// The tests of this binary share one moto server, and a rename there re-keys a cluster while
/// other tests' describes iterate over them (moto then answers 500): renames run alone.
static MOTO: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// What `look` finds, once it finds something: asked again (tokio time) for at most
/// `patience`; a retryable error reads as "not yet", as the flows read it.
async fn eventually<T, F, Fut>(what: &str, patience: Duration, look: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, AwsError>>,
{
    let since = tokio::time::Instant::now();
    loop {
        match look().await {
            Ok(Some(found)) => return found,
            Ok(None) => {}
            Err(e) if e.retryable => {}
            Err(e) => panic!("{what}: {e:?}"),
        }
        assert!(
            since.elapsed() < patience,
            "{what}: not within {patience:?}"
        );
        tokio::time::sleep(patience / 40).await;
    }
}

/// The cluster, once it is listed `available` under `id`.
async fn available(rds: &dyn Rds, id: &str, patience: Duration) -> Cluster {
    eventually(&format!("cluster {id} available"), patience, || async {
        Ok(rds.cluster(id).await?.filter(Cluster::is_available))
    })
    .await
}

/// The instance `id`, once it is listed `available` among `cluster`'s.
async fn listed(rds: &dyn Rds, cluster: &str, id: &str, patience: Duration) -> Instance {
    eventually(&format!("instance {id} of {cluster}"), patience, || async {
        let all = rds.instances(cluster).await?;
        Ok(all
            .into_iter()
            .find(|i| i.id == id && i.status.is_available()))
    })
    .await
}

/// The cluster deleted, its members first (a deletion RDS refuses for now is asked again).
async fn removed(rds: &dyn Rds, cluster: &str, members: &[&str], patience: Duration) {
    for id in members {
        assert_eq!(rds.delete_instance(id).await.unwrap(), Deletion::Started);
    }
    let outcome = eventually(&format!("cluster {cluster} deleted"), patience, || async {
        Ok(match rds.delete_cluster(cluster).await? {
            Deletion::NotYet => None,
            done => Some(done),
        })
    })
    .await;
    assert_eq!(outcome, Deletion::Started);
}

/// A clone and its writer renamed in the order a cut-over renames them: the writer, then the
/// cluster. Whatever the lag (moto renames at once; RDS, and the fake, list neither name for a
/// while, then the new one as `renaming`), the old name answers nothing at once and after, the
/// new one is listed `available` in the end, the renamed writer stays its cluster's writer, and
/// the cluster's ARN, endpoint host and tags follow its name. A missing instance is `Missing`.
async fn rename_contract(rds: &dyn Rds, source: &str, patience: Duration) {
    let src = rds.cluster(source).await.unwrap().expect("the source");
    let id = unique("tomove").to_ascii_lowercase();
    rds.restore(&restore_of(&src, &id)).await.unwrap();
    let writer = format!("{id}-writer");
    rds.create_instance(&instance(&writer, &id, &src.engine))
        .await
        .unwrap();
    available(rds, &id, patience).await;
    listed(rds, &id, &writer, patience).await;

    let new_writer = format!("{id}-w2");
    let started = rds.rename_instance(&writer, &new_writer).await.unwrap();
    assert_eq!(started, Renaming::Started);
    let renamed = listed(rds, &id, &new_writer, patience).await;
    assert_eq!(renamed.cluster_id.as_deref(), Some(id.as_str()));
    let names = instance_ids(rds, &id).await;
    assert_eq!(names, std::slice::from_ref(&new_writer), "the old is gone");
    let cluster = available(rds, &id, patience).await;
    assert_eq!(
        cluster.writer(),
        Some(new_writer.as_str()),
        "still the writer"
    );

    let new_id = unique("moved").to_ascii_lowercase();
    let started = rds.rename_cluster(&id, &new_id).await.unwrap();
    assert_eq!(started, Renaming::Started);
    assert_eq!(
        rds.cluster(&id).await.unwrap(),
        None,
        "the old name is gone at once"
    );
    let moved = available(rds, &new_id, patience).await;
    assert_eq!(rds.cluster(&id).await.unwrap(), None, "and stays gone");
    assert_eq!(moved.id, new_id);
    assert!(
        moved.arn.ends_with(&format!(":cluster:{new_id}")),
        "{}",
        moved.arn
    );
    // The host's first label is the identifier; the rest is the account's (AWS, the fake) or
    // the cluster's (moto, moto.md item 12).
    let host = moved.endpoint.as_deref().expect("an endpoint");
    assert_eq!(host.split('.').next(), Some(new_id.as_str()), "{host}");
    assert_eq!(moved.tags.get(ROLE).map(String::as_str), Some("clone"));

    let missing = rds
        .rename_instance(&unique("missing"), &unique("any"))
        .await;
    assert_eq!(missing.unwrap(), Renaming::Missing);
    removed(rds, &new_id, &[&new_writer], patience).await;
}

#[tokio::test]
async fn the_sdk_adapter_on_moto_keeps_the_rename_contract() {
    let _alone = MOTO.write().await;
    let conf = sdk_config();
    let source = unique("src");
    realistic_source(&conf, &source).await;
    let rds = SdkRds::new(aws_sdk_rds::Client::new(&conf));
    rename_contract(&rds, &source, Duration::from_secs(5)).await;
}

/// The fake with RDS's own lag (a minute listed under neither name, four in all), in paused
/// time.
#[tokio::test(start_paused = true)]
async fn the_fake_keeps_the_same_rename_contract() {
    let fake = FakeRds::with_delays(Duration::ZERO, Duration::ZERO);
    let source = unique("src");
    fake.add_source(&source, tags(&[("team", "orders")]));
    rename_contract(&fake, &source, Duration::from_secs(1800)).await;
}

/// The ids of `cluster`'s instances, as listed.
async fn instance_ids(rds: &dyn Rds, cluster: &str) -> Vec<String> {
    let all = rds.instances(cluster).await.unwrap();
    all.into_iter().map(|i| i.id).collect()
}

/// Fake only: what RDS does and moto does not model (moto.md items 4, 5 and 14). Renaming a
/// missing cluster is `Missing` (moto: HTTP 500); onto a name taken, `Taken` (moto overwrites
/// the holder), and so onto a name a rename in flight holds, old or new; a cluster or instance
/// that is renaming is `NotYet`. The renamed cluster keeps its members (moto: none), its master
/// password and its deletion protection; a cluster rename holds no instance name (RDS keeps the
/// two apart); the old name is free once the rename is done.
#[tokio::test(start_paused = true)]
async fn the_fake_renames_as_rds_does_where_moto_cannot_show_it() {
    let fake = FakeRds::with_delays(Duration::ZERO, Duration::ZERO);
    fake.add_source("orders", Tags::new());
    let src = fake.cluster("orders").await.unwrap().unwrap();
    for id in ["qa", "other"] {
        fake.restore(&restore_of(&src, id)).await.unwrap();
        let writer = instance(&format!("{id}-writer"), id, &src.engine);
        fake.create_instance(&writer).await.unwrap();
    }
    let rename = |from: &'static str, to: &'static str| fake.rename_cluster(from, to);
    assert_eq!(rename("gone", "x").await.unwrap(), Renaming::Missing);
    assert_eq!(rename("qa", "other").await.unwrap(), Renaming::Taken);
    let onto_taken = fake.rename_instance("qa-writer", "other-writer").await;
    assert_eq!(onto_taken.unwrap(), Renaming::Taken);
    fake.set_master_password("qa", "the-clones-password")
        .await
        .unwrap();
    fake.protect("qa");
    tokio::time::sleep(fake.password_pending + fake.password_delay).await;
    assert_eq!(rename("qa", "qa-new").await.unwrap(), Renaming::Started);

    // The gap: listed under neither name, both names held.
    assert_eq!(fake.cluster("qa").await.unwrap(), None);
    assert_eq!(fake.cluster("qa-new").await.unwrap(), None);
    assert_eq!(rename("qa-new", "qa-3").await.unwrap(), Renaming::Missing);
    assert_eq!(rename("other", "qa").await.unwrap(), Renaming::Taken);
    let restore = fake.restore(&restore_of(&src, "qa")).await.unwrap();
    assert!(matches!(restore, Created::Exists), "{restore:?}");
    let instance_onto_it = fake.rename_instance("other-writer", "qa").await;
    assert_eq!(
        instance_onto_it.unwrap(),
        Renaming::Started,
        "two namespaces"
    );

    tokio::time::sleep(fake.rename_gap).await;
    let renaming = fake
        .cluster("qa-new")
        .await
        .unwrap()
        .expect("listed after the gap");
    assert_eq!(renaming.status, "renaming");
    assert_eq!(rename("qa-new", "qa-3").await.unwrap(), Renaming::NotYet);
    let instance_renaming = fake.rename_instance("qa", "other-1").await;
    assert_eq!(instance_renaming.unwrap(), Renaming::NotYet);

    tokio::time::sleep(fake.rename_delay - fake.rename_gap).await;
    let moved = fake.cluster("qa-new").await.unwrap().expect("renamed");
    assert!(moved.is_available(), "{}", moved.status);
    assert_eq!(moved.writer(), Some("qa-writer"), "its members follow it");
    assert_eq!(instance_ids(&fake, "qa-new").await, ["qa-writer"]);
    assert!(instance_ids(&fake, "qa").await.is_empty());
    assert!(moved.deletion_protection, "protection is the cluster's");
    let password = fake.password_of("qa-new");
    assert_eq!(password.as_deref(), Some("the-clones-password"));
    assert_eq!(fake.password_of("qa"), None);
    let anew = fake.restore(&restore_of(&src, "qa")).await.unwrap();
    assert!(
        matches!(anew, Created::New(_)),
        "the old name is free: {anew:?}"
    );
}

/// RDS's reply to a rename, as a stand-in sends it: the Query protocol's XML, a refusal with
/// its HTTP status and code.
fn rds_reply(operation: &str, refusal: Option<(u16, &str)>) -> support::http::Reply {
    let (status, body) = match refusal {
        Some((status, code)) => (
            status,
            format!(
                r#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>{code}</Code><Message>refused</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
            ),
        ),
        None => (
            200,
            format!(
                r#"<{operation}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><{operation}Result></{operation}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{operation}Response>"#
            ),
        ),
    };
    support::http::Reply {
        status,
        content_type: "text/xml",
        body,
        close: false,
    }
}

/// The adapter against a stand-in that answers as RDS does, with the refusals the API
/// reference lists for ModifyDBCluster and ModifyDBInstance (and the SDK parses): moto sends
/// none of them but DBInstanceNotFound. Each is read as the port says; any other is an error;
/// the request asks for the new identifier, applied at once.
#[tokio::test]
async fn the_adapter_reads_rdss_refusals_of_a_rename() {
    use std::sync::{Arc, Mutex};
    type Next = Option<(u16, &'static str)>;
    let next: Arc<Mutex<Next>> = Arc::default();
    let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
    let (answer, seen) = (next.clone(), bodies.clone());
    let url = support::http::serve(move |request| {
        let body = String::from_utf8_lossy(&request.body).to_string();
        let op = if body.contains("Action=ModifyDBInstance") {
            "ModifyDBInstance"
        } else {
            "ModifyDBCluster"
        };
        seen.lock().unwrap().push(body);
        Some(rds_reply(op, *answer.lock().unwrap()))
    })
    .await;
    let conf = aws_sdk_rds::config::Builder::new()
        .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_rds::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_rds::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .retry_config(aws_sdk_rds::config::retry::RetryConfig::disabled())
        .build();
    let rds = SdkRds::new(aws_sdk_rds::Client::from_conf(conf));
    let cases: [(bool, Next, Renaming); 9] = [
        (true, None, Renaming::Started),
        (
            true,
            Some((404, "DBClusterNotFoundFault")),
            Renaming::Missing,
        ),
        (
            true,
            Some((400, "DBClusterAlreadyExistsFault")),
            Renaming::Taken,
        ),
        (
            true,
            Some((400, "InvalidDBClusterStateFault")),
            Renaming::NotYet,
        ),
        (false, None, Renaming::Started),
        (false, Some((404, "DBInstanceNotFound")), Renaming::Missing),
        (
            false,
            Some((400, "DBInstanceAlreadyExists")),
            Renaming::Taken,
        ),
        (
            false,
            Some((400, "InvalidDBInstanceState")),
            Renaming::NotYet,
        ),
        (
            false,
            Some((400, "InvalidDBClusterStateFault")),
            Renaming::NotYet,
        ),
    ];
    for (cluster, refusal, want) in cases {
        *next.lock().unwrap() = refusal;
        let got = match cluster {
            true => rds.rename_cluster("clone-a", "clone-b").await,
            false => {
                rds.rename_instance("clone-a-writer", "clone-b-writer")
                    .await
            }
        };
        assert_eq!(got.unwrap(), want, "{refusal:?}");
    }
    *next.lock().unwrap() = Some((400, "InvalidParameterValue"));
    let other = rds
        .rename_cluster("clone-a", "Not Valid")
        .await
        .unwrap_err();
    assert_eq!(
        (other.operation, other.code.as_str()),
        ("ModifyDBCluster", "InvalidParameterValue")
    );
    let sent = bodies.lock().unwrap().clone();
    assert!(
        sent[0].contains("DBClusterIdentifier=clone-a&"),
        "{}",
        sent[0]
    );
    assert!(
        sent[0].contains("NewDBClusterIdentifier=clone-b"),
        "{}",
        sent[0]
    );
    assert!(
        sent[4].contains("NewDBInstanceIdentifier=clone-b-writer"),
        "{}",
        sent[4]
    );
    assert!(sent.iter().all(|b| b.contains("ApplyImmediately=true")));
}
