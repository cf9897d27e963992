//! The stack's security settings as the code enforces them (the template's IAM side is in
//! `tests/iam.rs`): the cluster identifier prefix, allowed sources, reader accounts, secret
//! prefixes, ResponseURL hosts, and forged Updates.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::json;
use std::time::Duration;
use support::world::*;

fn fast() -> FakeRds {
    FakeRds::with_delays(Duration::from_secs(60), Duration::from_secs(60))
}

#[tokio::test(start_paused = true)]
async fn every_identifier_carries_the_prefix() {
    let w = World::with(fast(), settings_with(&[("CLUSTER_ID_PREFIX", "clone-")]));
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
    let r = w.request("Create", props);
    w.deliver(&r).await;
    w.ticks_until_answers(w.answers().len() + 1, 30).await;
    w.answer_for(&r).pop().expect("answered")
}

/// Issue 10.6: only the sources the stack allows are cloned (by id or by a tag on the source).
#[tokio::test(start_paused = true)]
async fn only_allowed_sources_are_cloned() {
    let w = World::with(
        fast(),
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
    let w = World::with(fast(), settings());
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
        fast(),
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
    let w = World::with(fast(), settings());
    let refused = answer(&w, props.clone()).await;
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap()
            .contains("AllowedSecretPrefixes"),
        "{refused}"
    );
    let w = World::with(
        fast(),
        settings_with(&[("ALLOWED_SECRET_PREFIXES", "/team-a/")]),
    );
    let ok = answer(&w, props).await;
    assert_eq!(ok["Status"], "SUCCESS", "{ok}");
    assert!(ok["Data"]["PasswordSecret"]
        .as_str()
        .unwrap()
        .starts_with("/team-a/"));
}
