//! The SDK adapters against moto: every RDS, SSM and EventBridge call the tool makes, and the
//! response PUT against a loopback server.

mod support;

use aurora_clone_manager::adapters::{events::RuleFollowUps, http::HttpResponder, rds::SdkRds};
use aurora_clone_manager::cfn::{CfnRequest, Outcome, ResponseBody};
use aurora_clone_manager::domain::{
    InstanceRequest, RestoreRequest, RestoreType, StackStatus, Tags,
};
use aurora_clone_manager::ports::*;
use serde_json::json;
use std::time::Duration;
use support::moto::{realistic_source, sdk_config, unique};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
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
        cluster_id: clone_id.clone(),
        source_cluster_id: source.clone(),
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: src.subnet_group.clone(),
        security_groups: src.security_groups.clone(),
        tags: tags(&[("aurora-clone-manager:role", "clone"), ("mine", "yes")]),
        capacity: None,
        settings: Default::default(),
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
async fn follow_up_rule_is_armed_and_disarmed() {
    let events = aws_sdk_eventbridge::Client::new(&sdk_config());
    let rule = unique("acm-follow-up");
    let follow_ups = RuleFollowUps::new(events.clone(), &rule);
    follow_ups
        .stop()
        .await
        .expect("stopping a missing rule is fine");
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:acm";
    follow_ups.ensure(arn).await.unwrap();
    follow_ups.ensure(arn).await.unwrap();
    let described = events.describe_rule().name(&rule).send().await.unwrap();
    assert_eq!(described.state().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(described.schedule_expression(), Some("rate(1 minute)"));
    let targets = events
        .list_targets_by_rule()
        .rule(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets().len(), 1);
    assert_eq!(targets.targets()[0].arn(), arn);
    let input: serde_json::Value =
        serde_json::from_str(targets.targets()[0].input().unwrap()).unwrap();
    assert_eq!(input["action"], "follow-up");
    follow_ups.stop().await.unwrap();
    let described = events.describe_rule().name(&rule).send().await.unwrap();
    assert_eq!(described.state().map(|s| s.as_str()), Some("DISABLED"));
}

fn request_with_url(url: &str) -> CfnRequest {
    serde_json::from_value(
        json!({"RequestType": "Create", "ResponseURL": url, "StackId": "s", "RequestId": "r",
        "LogicalResourceId": "Db", "ResourceProperties": {}}),
    )
    .unwrap()
}

#[tokio::test]
async fn the_response_put_has_an_empty_content_type_and_a_byte_length() {
    let (base, capture) = support::http::start().await;
    let url = format!("{base}/signed?X-Amz-Signature=abc");
    let responder = HttpResponder::with_retries(4, Duration::from_millis(10));
    let reason = "雪".repeat(2000);
    let body = ResponseBody::new(&request_with_url(&url), Outcome::failed("p", reason));
    responder.send(&url, &body, None).await.unwrap();
    let got = &capture.requests()[0];
    assert!(got.head.starts_with("PUT /signed?X-Amz-Signature=abc "));
    assert_eq!(got.header("content-type").as_deref(), Some(""));
    assert_eq!(
        got.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        got.body.len()
    );
    assert!(got.body.len() <= 4096);
    assert_eq!(got.json()["Status"], "FAILED");
}

#[tokio::test]
async fn the_response_put_retries_on_errors() {
    let (base, capture) = support::http::start().await;
    capture.fail_next(&[500, 403]);
    let url = format!("{base}/r");
    let responder = HttpResponder::with_retries(4, Duration::from_millis(10));
    let body = ResponseBody::new(
        &request_with_url(&url),
        Outcome::success("p", Default::default()),
    );
    responder.send(&url, &body, None).await.unwrap();
    assert_eq!(capture.requests().len(), 3);

    capture.fail_next(&[500, 500]);
    let responder = HttpResponder::with_retries(2, Duration::from_millis(10));
    let err = responder
        .send(&url, &body, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("127.0.0.1"),
        "errors never carry the URL: {err}"
    );
    let refused = HttpResponder::with_retries(2, Duration::from_millis(10));
    let err = refused
        .send("http://127.0.0.1:9/secret-path?sig=1", &body, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("secret-path") && !err.contains("sig=1"),
        "{err}"
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
        cluster_id: id.clone(),
        source_cluster_id: source,
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: src.subnet_group,
        security_groups: src.security_groups,
        tags: tags(&[("aurora-clone-manager:role", "clone")]),
        capacity: Some(range),
        settings: Default::default(),
    })
    .await
    .unwrap();
    let made = rds.cluster(&id).await.unwrap().unwrap();
    assert_eq!(made.capacity, Some(range));
}

/// A stack made in moto holding one SNS topic under `logical_id`; its id.
async fn stack_with_topic(logical_id: &str) -> (aws_sdk_cloudformation::Client, String) {
    let cfn = aws_sdk_cloudformation::Client::new(&sdk_config());
    let template = format!(r#"{{"Resources": {{"{logical_id}": {{"Type": "AWS::SNS::Topic"}}}}}}"#);
    let made = cfn
        .create_stack()
        .stack_name(unique("app"))
        .template_body(template)
        .send()
        .await
        .expect("stack");
    let stack_id = made.stack_id().unwrap().to_string();
    (cfn, stack_id)
}

/// CloudFormation's view of a resource, for stacks made in moto: found, missing logical id,
/// and a stack that does not exist.
#[tokio::test]
async fn stacks_say_what_they_hold() {
    use aurora_clone_manager::adapters::stacks::SdkStacks;
    let (cfn, stack_id) = stack_with_topic("Topic").await;
    let stacks = SdkStacks::new(cfn);
    let StackResource::Found {
        resource_type,
        status,
        physical_id,
    } = stacks.resource(&stack_id, "Topic").await.unwrap()
    else {
        panic!("found")
    };
    assert_eq!(resource_type, "AWS::SNS::Topic");
    // Parsed at the adapter into a state the code names, not left as `Other`.
    assert!(
        matches!(
            status,
            StackStatus::CreateComplete | StackStatus::CreateInProgress
        ),
        "{status}"
    );
    assert!(physical_id.is_some());
    assert_eq!(
        stacks.resource(&stack_id, "Nothing").await.unwrap(),
        StackResource::Missing
    );
    assert_eq!(
        stacks
            .resource(
                "arn:aws:cloudformation:us-east-1:123456789012:stack/gone/1",
                "Topic"
            )
            .await
            .unwrap(),
        StackResource::Missing
    );
}

/// DescribeStacks as the Delete check reads it: a stack's own status, a deleted stack's (by its
/// ARN) `DELETE_COMPLETE` or nothing, and nothing for a name that never was.
#[tokio::test]
async fn stacks_say_their_status() {
    use aurora_clone_manager::adapters::stacks::SdkStacks;
    let (cfn, stack_id) = stack_with_topic("Topic").await;
    let stacks = SdkStacks::new(cfn.clone());
    let status = stacks.stack_status(&stack_id).await.unwrap();
    assert!(
        matches!(
            status,
            Some(StackStatus::CreateComplete | StackStatus::CreateInProgress)
        ),
        "{status:?}"
    );
    assert_eq!(
        stacks.stack_status("never-was-a-stack").await.unwrap(),
        None
    );
    cfn.delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .expect("delete");
    let gone = stacks.stack_status(&stack_id).await.unwrap();
    assert!(
        matches!(
            gone,
            None | Some(StackStatus::DeleteComplete | StackStatus::DeleteInProgress)
        ),
        "{gone:?}"
    );
}

/// The sweep's question against moto: once the clone's stack is deleted, what CloudFormation
/// says of the resource (by stack ARN) reads as an orphan; while the stack holds another
/// resource under that logical id, so does that.
#[tokio::test]
async fn a_deleted_stack_makes_its_clones_orphans() {
    use aurora_clone_manager::adapters::stacks::SdkStacks;
    use aurora_clone_manager::domain::Cluster;
    use aurora_clone_manager::planner::sweep::{standing, Standing};
    let (cfn, stack_id) = stack_with_topic("Db").await;
    let stacks = SdkStacks::new(cfn.clone());
    let clone = Cluster::new("qa-clone", "available");
    let held = stacks.resource(&stack_id, "Db").await.unwrap();
    assert!(
        matches!(standing(&clone, &held), Standing::Orphan(_)),
        "the stack's Db is a topic, not this clone: {held:?}"
    );
    cfn.delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .expect("delete");
    let after = stacks.resource(&stack_id, "Db").await.unwrap();
    assert!(
        matches!(standing(&clone, &after), Standing::Orphan(_)),
        "a deleted stack: {after:?}"
    );
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
        cluster_id: id.clone(),
        source_cluster_id: source,
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: src.subnet_group,
        security_groups: src.security_groups,
        tags: tags(&[("aurora-clone-manager:role", "clone")]),
        capacity: None,
        settings: cluster.clone(),
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

/// Expiry against moto: a one-time schedule in the stack's group (moto stores it; it never
/// fires it), removed twice; a clone stopped and started.
#[tokio::test]
async fn expiry_schedules_and_stopping() {
    use aurora_clone_manager::adapters::schedules::SdkSchedules;
    let conf = sdk_config();
    let scheduler = aws_sdk_scheduler::Client::new(&conf);
    let group = unique("acm-expiry");
    scheduler
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .expect("group");
    let schedules = SdkSchedules::new(scheduler.clone(), &group);
    let target = ScheduleTarget {
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:acm-clone-manager".into(),
        role_arn: "arn:aws:iam::123456789012:role/acm-expiry-us-east-1".into(),
    };
    let at = time::macros::datetime!(2030-01-02 03:04:05 UTC);
    let input = r#"{"source":"aurora-clone-manager","action":"expire","cluster":"qa"}"#;
    assert_eq!(
        schedules.once("qa-x", at, &target, input).await.unwrap(),
        Created::New(())
    );
    assert_eq!(
        schedules.once("qa-x", at, &target, input).await.unwrap(),
        Created::Exists
    );
    let stored = scheduler
        .get_schedule()
        .name("qa-x")
        .group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.schedule_expression(),
        Some("at(2030-01-02T03:04:05)")
    );
    assert_eq!(stored.target().map(|t| t.input()), Some(Some(input)));
    schedules.remove("qa-x").await.unwrap();
    schedules.remove("qa-x").await.unwrap();

    let rds = SdkRds::new(aws_sdk_rds::Client::new(&conf));
    let source = unique("src");
    realistic_source(&conf, &source).await;
    stop_retrying(&rds, &source).await;
    assert_eq!(
        rds.cluster(&source).await.unwrap().unwrap().status,
        "stopped"
    );
    stop_retrying(&rds, &source).await;
    rds.start_cluster(&source).await.unwrap();
}

/// StopDBCluster, tried again on a retryable error. moto deep-copies the cluster while other
/// tests write to the same server, and then answers 500 ("OrderedDict mutated during
/// iteration"); a 5xx from AWS is what the SDK's own retries (off in these tests) take care of.
async fn stop_retrying(rds: &SdkRds, id: &str) {
    for attempt in 1..=5 {
        match rds.stop_cluster(id).await {
            Ok(()) => return,
            Err(e) if e.retryable && attempt < 5 => {
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await
            }
            Err(e) => panic!("StopDBCluster: {e}"),
        }
    }
}
