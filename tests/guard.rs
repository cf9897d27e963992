//! The stack's security settings as the code enforces them (the template's IAM side is in
//! `tests/iam*.rs`): the cluster identifier prefix, allowed sources, reader accounts, secret
//! prefixes, ResponseURL hosts, and forged Updates.

mod support;

use serde_json::json;
use support::world::*;

#[tokio::test(start_paused = true)]
async fn every_identifier_carries_the_prefix() {
    let w = World::with(
        quick_rds(),
        settings_with(&[("CLUSTER_ID_PREFIX", "clone-")]),
    );
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    let a = &w.answer_for(&create)[0];
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    assert!(id.starts_with("clone-orders-"), "{id}");
    assert!(a["Data"]["InstanceId"]
        .as_str()
        .unwrap()
        .starts_with("clone-"));

    let named = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "ClusterId": "qa-db"}),
    );
    w.deliver(&named).await;
    let refused = &w.answer_for(&named)[0];
    assert_eq!(refused["Status"], "FAILED");
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap()
            .contains("ClusterIdPrefix"),
        "{refused}"
    );
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        1,
        "nothing made for it"
    );
}

async fn answer(w: &World, props: serde_json::Value) -> serde_json::Value {
    w.answered(&w.request("Create", props), 30).await
}

/// Issue 10.6: only the sources the stack allows are cloned (by id or by a tag on the source).
#[tokio::test(start_paused = true)]
async fn only_allowed_sources_are_cloned() {
    let w = World::with(
        quick_rds(),
        settings_with(&[("ALLOWED_SOURCES", "billing,clonable=yes")]),
    );
    let refused = answer(&w, json!({"SourceClusterId": "orders"})).await;
    assert_eq!(refused["Status"], "FAILED");
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap()
            .contains("AllowedSources"),
        "{refused}"
    );
    w.rds.add_source("billing", Default::default());
    w.rds.add_source(
        "tagged",
        [("clonable".to_string(), "yes".to_string())].into(),
    );
    for source in ["billing", "tagged"] {
        let ok = answer(&w, json!({"SourceClusterId": source})).await;
        assert_eq!(ok["Status"], "SUCCESS", "{source}: {ok}");
    }
}

/// Issue 10.6: a clone's secret is shared with principals of this account only, unless the
/// stack lists other accounts.
#[tokio::test(start_paused = true)]
async fn readers_of_other_accounts_need_the_stacks_consent() {
    let partner = "arn:aws:iam::222222222222:role/partner";
    let props =
        json!({"SourceClusterId": "orders", "SetPassword": "true", "AccessPrincipalArns": partner});
    let w = World::with(quick_rds(), settings());
    let refused = answer(&w, props.clone()).await;
    assert_eq!(refused["Status"], "FAILED");
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap()
            .contains("AllowedReaderAccounts"),
        "{refused}"
    );
    assert!(w.secrets.all().is_empty(), "nothing was made");
    let w = World::with(
        quick_rds(),
        settings_with(&[("ALLOWED_READER_ACCOUNTS", "222222222222")]),
    );
    assert_eq!(answer(&w, props).await["Status"], "SUCCESS");
}

/// Issue 10.1/10.6: secrets are made only under prefixes the stack allows (the role's secret
/// permissions are scoped to them).
#[tokio::test(start_paused = true)]
async fn secrets_only_under_allowed_prefixes() {
    let props =
        json!({"SourceClusterId": "orders", "SetPassword": "true", "SecretPrefix": "/team-a/"});
    let w = World::with(quick_rds(), settings());
    let refused = answer(&w, props.clone()).await;
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap()
            .contains("AllowedSecretPrefixes"),
        "{refused}"
    );
    let w = World::with(
        quick_rds(),
        settings_with(&[("ALLOWED_SECRET_PREFIXES", "/team-a/")]),
    );
    let ok = answer(&w, props).await;
    assert_eq!(ok["Status"], "SUCCESS", "{ok}");
    assert!(ok["Data"]["PasswordSecret"]
        .as_str()
        .unwrap()
        .starts_with("/team-a/"));
}

/// Issue 10.3: a request whose ResponseURL is neither an S3 endpoint nor a listed host is not
/// served at all (its answer would go to whoever forged it, and it could be anyone's URL).
#[tokio::test(start_paused = true)]
async fn a_response_url_off_s3_is_never_served() {
    let w = World::new();
    let mut r = w.request("Create", json!({"SourceClusterId": "orders"}));
    r.response_url = "https://attacker.example/collect".into();
    let out = w.deliver(&r).await;
    assert!(
        out["ignored"]
            .as_str()
            .unwrap()
            .contains("not an S3 endpoint"),
        "{out}"
    );
    assert!(
        w.rds.calls().is_empty() && w.state.request_ids().is_empty(),
        "nothing done"
    );
}

/// Issue 9.11: the resource type the stack serves is checked (it was read and never used).
#[tokio::test(start_paused = true)]
async fn another_resource_type_is_refused() {
    let w = World::new();
    let mut r = w.request("Create", json!({"SourceClusterId": "orders"}));
    r.resource_type = "Custom::SomethingElse".into();
    w.deliver(&r).await;
    let a = &w.answer_for(&r)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"]
        .as_str()
        .unwrap()
        .contains("serves Custom::AuroraClone"));
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 0);
}

/// Issue 10.3: with VERIFY_STACK_REQUESTS, an Update or Delete is served only while
/// CloudFormation itself is working on that resource; a forged one changes nothing.
#[tokio::test(start_paused = true)]
async fn verified_requests_must_be_cloudformations_own() {
    use aurora_clone_manager::ports::StackResource;
    let w = World::with(
        quick_rds(),
        settings_with(&[("VERIFY_STACK_REQUESTS", "true")]),
    );
    let props = json!({"SourceClusterId": "orders", "Tags": {"team": "a"}});
    let created = answer(&w, props.clone()).await;
    let arn = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let stack = created["StackId"].as_str().unwrap().to_string();
    let found = |status: &str| StackResource::Found {
        resource_type: "Custom::AuroraClone".into(),
        status: status.into(),
        physical_id: Some(arn.clone()),
    };
    let delete = || {
        let mut d = w.request("Delete", props.clone());
        d.physical_resource_id = Some(arn.clone());
        d
    };
    // Nothing in CloudFormation is deleting it: a forged Delete.
    w.stacks.set(&stack, "Db", found("UPDATE_COMPLETE"));
    let forged = delete();
    w.deliver(&forged).await;
    assert_eq!(w.answer_for(&forged)[0]["Status"], "FAILED");
    assert_eq!(
        w.rds.count_calls("DeleteDBInstance"),
        0,
        "the clone is untouched"
    );
    // An Update while the stack is updating is served.
    w.stacks.set(&stack, "Db", found("UPDATE_IN_PROGRESS"));
    let mut u = w.request(
        "Update",
        json!({"SourceClusterId": "orders", "Tags": {"team": "b"}}),
    );
    u.physical_resource_id = Some(arn.clone());
    u.old_resource_properties = Some(props.clone());
    w.deliver(&u).await;
    w.ticks_until_answers(w.answers().len(), 5).await;
    assert_eq!(
        w.answer_for(&u)[0]["Status"],
        "SUCCESS",
        "{:?}",
        w.answer_for(&u)
    );
    // The real Delete, while the stack deletes the resource.
    w.stacks.set(&stack, "Db", found("DELETE_IN_PROGRESS"));
    let real = delete();
    w.deliver(&real).await;
    assert_eq!(w.answer_for(&real)[0]["Status"], "SUCCESS");
    assert!(w.rds.count_calls("DeleteDBInstance") >= 1);
    // A stack that does not exist.
    let mut ghost = delete();
    ghost.stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/ghost/0".into();
    w.deliver(&ghost).await;
    assert!(w.answer_for(&ghost)[0]["Reason"]
        .as_str()
        .unwrap()
        .contains("has no resource"));
}

/// Issue 10.7: a clone is as locked down as its source: its cluster parameter group (TLS
/// enforced, audit), IAM authentication and log exports, its writer's parameter group and CA;
/// and its writer is never publicly accessible, even where the source's is.
#[tokio::test(start_paused = true)]
async fn clones_are_as_locked_down_as_their_source() {
    use aurora_clone_manager::domain::{ClusterSettings, InstanceSettings};
    let w = World::with(quick_rds(), settings());
    let cluster = ClusterSettings {
        parameter_group: Some("tls-and-audit".into()),
        iam_auth: true,
        log_exports: vec!["postgresql".into()],
    };
    let writer = InstanceSettings {
        parameter_group: Some("audited-instances".into()),
        ca_certificate: Some("rds-ca-rsa4096-g1".into()),
        publicly_accessible: true,
    };
    w.rds.configure("orders", cluster.clone(), writer.clone());
    let a = answer(&w, json!({"SourceClusterId": "orders"})).await;
    assert_eq!(a["Status"], "SUCCESS");
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    assert_eq!(w.rds.cluster_settings(id), Some(cluster));
    let made = w
        .rds
        .instance(a["Data"]["InstanceId"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        made.settings,
        InstanceSettings {
            publicly_accessible: false,
            ..writer
        }
    );
}
