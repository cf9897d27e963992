//! SetPassword over fakes with paused time: the answer waits for the password to be in force,
//! the secret holds the RDS JSON, keys are chosen and cleaned up, the ready event goes once,
//! and a failure between steps leaks nothing.

mod support;

use aurora_clone_manager::domain::tags;
use serde_json::{json, Value};
use support::world::*;

const READER: &str = "arn:aws:iam::123456789012:role/developers";

async fn create(w: &World, props: Value) -> (aurora_clone_manager::cfn::CfnRequest, Value) {
    let r = w.request("Create", props);
    let a = w.answered(&r, 40).await;
    (r, a)
}

#[tokio::test(start_paused = true)]
async fn success_waits_for_the_new_password_to_be_in_force() {
    let w = World::new();
    let (_, a) = create(
        &w,
        json!({"SourceClusterId": "orders", "SetPassword": "true", "AccessPrincipalArns": READER}),
    )
    .await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let calls = w.rds.calls();
    let modify = calls
        .iter()
        .position(|c| c == "ModifyDBCluster")
        .expect("password set");
    let describes_after = calls[modify..]
        .iter()
        .filter(|c| *c == "DescribeDBClusters")
        .count();
    assert!(
        describes_after >= 2,
        "the answer came only after RDS applied the password"
    );

    let secrets = w.secrets.all();
    let (name, secret) = secrets.iter().next().expect("a secret");
    assert!(name.starts_with("/aurora-clone-manager/orders-"), "{name}");
    let value: Value = serde_json::from_str(&secret.value).unwrap();
    for key in [
        "engine",
        "host",
        "port",
        "username",
        "password",
        "dbname",
        "dbClusterIdentifier",
    ] {
        assert!(value.get(key).is_some(), "{key}");
    }
    assert_eq!(value["dbClusterIdentifier"], a["Data"]["ClusterId"]);
    assert!(secret.policy.as_deref().unwrap().contains(READER));
    assert_eq!(
        secret.tags.get(tags::ROLE).map(String::as_str),
        Some("clone")
    );
    assert_eq!(a["Data"]["PasswordSecret"], name.as_str());
    assert_eq!(a["Data"]["PasswordSecretArn"], secret.arn.as_str());
    assert_eq!(a["Data"]["KmsKeyId"], "aws/secretsmanager");
}

#[tokio::test(start_paused = true)]
async fn the_ready_event_goes_once_with_the_original_keys() {
    let w = World::new();
    let (r, a) = create(
        &w,
        json!({"SourceClusterId": "orders", "SetPassword": "true"}),
    )
    .await;
    w.deliver(&r).await;
    for _ in 0..5 {
        w.tick().await;
    }
    let ready: Vec<Value> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == "lifecycle-event/instance-ready")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(ready.len(), 1);
    let e = &ready[0];
    for key in [
        "instanceId",
        "clusterId",
        "host",
        "port",
        "user",
        "passwordSecret",
        "database",
        "role",
        "passwordSecretArn",
        "sourceClusterId",
        "rootClusterId",
        "dataTimestamp",
        "stackId",
        "logicalResourceId",
    ] {
        assert!(e.get(key).is_some(), "{key}");
    }
    assert_eq!(e["clusterId"], a["Data"]["ClusterId"]);
    assert_eq!(e["passwordSecret"], a["Data"]["PasswordSecret"]);
}

#[tokio::test(start_paused = true)]
async fn a_key_made_for_the_clone_is_retired_with_it_and_no_other_key_is() {
    let w = World::new();
    let (_, a) = create(&w, json!({"SourceClusterId": "orders", "SetPassword": "true", "ForceCreateKmsKey": "true", "AccessPrincipalArns": READER})).await;
    let keys = w.keys.all();
    assert_eq!(keys.len(), 1);
    let (key_id, (policy, _)) = keys.iter().next().unwrap();
    assert!(policy.contains(READER) && policy.contains("kms:ViaService"));
    assert_eq!(a["Data"]["KmsKeyId"], key_id.as_str());

    let (_, b) = create(
        &w,
        json!({"SourceClusterId": "orders", "SetPassword": "true", "KmsKeyId": "alias/team-key"}),
    )
    .await;
    assert_eq!(b["Data"]["KmsKeyId"], "alias/team-key");
    for answer in [&a, &b] {
        let mut d = w.request("Delete", json!({}));
        d.physical_resource_id = answer["PhysicalResourceId"].as_str().map(str::to_string);
        w.deliver(&d).await;
    }
    assert!(
        w.keys.all()[key_id].1,
        "the created key is scheduled for deletion"
    );
    assert_eq!(w.keys.all().len(), 1, "the caller's key was never touched");
    assert!(w.secrets.all().values().all(|s| s.deleted));
    let deleted = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == "lifecycle-event/clone-deleted")
        .count();
    assert_eq!(deleted, 2);
}

/// Defect 9: the secret and key were created before the slot check and leaked on failure.
#[tokio::test(start_paused = true)]
async fn a_failure_between_steps_leaks_nothing() {
    let w = World::new();
    let r = w.request("Create", json!({"SourceClusterId": "orders", "SetPassword": "true", "ForceCreateKmsKey": "true", "CopyOk": "false", "ClusterId": "with-secret"}));
    w.rds
        .fail_next("ModifyDBCluster", "InvalidParameterCombination");
    w.deliver(&r).await;
    w.ticks_until_answers(1, 30).await;
    assert_eq!(w.answer_for(&r)[0]["Status"], "FAILED");
    assert!(
        w.secrets.all().values().all(|s| s.deleted),
        "secret removed"
    );
    assert!(
        w.keys.all().values().all(|(_, retired)| *retired),
        "key retired"
    );
    assert!(
        w.rds.count_calls("DeleteDBCluster") + w.rds.count_calls("DeleteDBInstance") > 0,
        "clone removed"
    );

    let full = w.request(
        "Create",
        json!({"SourceClusterId": "nope", "SetPassword": "true", "ForceCreateKmsKey": "true"}),
    );
    w.deliver(&full).await;
    assert_eq!(w.answer_for(&full)[0]["Status"], "FAILED");
    assert_eq!(
        w.keys.all().len(),
        1,
        "no key made for a request that failed before its clone existed"
    );
}

#[tokio::test(start_paused = true)]
async fn set_password_and_readers_change_in_place() {
    let w = World::new();
    let plain = json!({"SourceClusterId": "orders"});
    let (_, first) = create(&w, plain.clone()).await;
    let with_password = json!({"SourceClusterId": "orders", "SetPassword": "true"});
    let u = w.update_of(&first, plain.clone(), with_password.clone());
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_in_place(&first, a);
    assert_ne!(a["Data"]["PasswordSecret"], "");
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);

    let with_reader = json!({"SourceClusterId": "orders", "SetPassword": "true", "AccessPrincipalArns": [READER]});
    let u2 = w.update_of(a, with_password, with_reader.clone());
    w.deliver(&u2).await;
    assert_eq!(w.answer_for(&u2)[0]["Status"], "SUCCESS");
    assert!(w
        .secrets
        .all()
        .values()
        .next()
        .unwrap()
        .policy
        .as_deref()
        .unwrap()
        .contains(READER));

    let u3 = w.update_of(a, with_reader, plain);
    w.deliver(&u3).await;
    let off = &w.answer_for(&u3)[0];
    assert_eq!(off["Status"], "SUCCESS");
    assert_eq!(off["Data"]["PasswordSecret"], "");
    assert!(w.secrets.all().values().all(|s| s.deleted));
}

/// Issue 9.1: RDS shows `available` while a new master password is still pending, then
/// `resetting-master-credentials`. SUCCESS (and the ready event) must wait for both to pass.
#[tokio::test(start_paused = true)]
async fn the_answer_waits_while_rds_shows_available_with_the_password_pending() {
    use aurora_clone_manager::fakes::FakeRds;
    use std::time::Duration;
    let mut rds = FakeRds::with_delays(Duration::from_secs(120), Duration::from_secs(60));
    rds.password_pending = Duration::from_secs(900);
    rds.password_delay = Duration::from_secs(300);
    let w = World::with_rds(rds);
    let r = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "SetPassword": "true"}),
    );
    w.deliver(&r).await;
    let mut ticks = 0;
    while w.rds.count_calls("ModifyDBCluster") == 0 {
        w.tick().await;
        ticks += 1;
        assert!(ticks < 30, "the password was never set");
    }
    let mut after = 0;
    while w.answer_for(&r).is_empty() {
        w.tick().await;
        after += 1;
        assert!(after < 60, "never answered");
    }
    assert!(
        after >= 20,
        "answered {after} minutes after the password change: still pending then"
    );
    assert_eq!(w.answer_for(&r)[0]["Status"], "SUCCESS");
}

/// Issue 9.10: a resource policy RDS... Secrets Manager refuses (a principal that does not
/// exist) fails the request, and the secret made for it goes with the clone.
#[tokio::test(start_paused = true)]
async fn a_refused_reader_policy_leaks_no_secret() {
    let w = World::new();
    w.secrets.refuse_policies();
    let (_, a) = create(
        &w,
        json!({"SourceClusterId": "orders", "SetPassword": "true", "AccessPrincipalArns": READER}),
    )
    .await;
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"].as_str().unwrap().contains("PutResourcePolicy"),
        "{a}"
    );
    for _ in 0..3 {
        w.tick().await;
    }
    let secrets = w.secrets.all();
    assert_eq!(secrets.len(), 1);
    assert!(
        secrets.values().all(|s| s.deleted),
        "the secret went with the clone"
    );
    assert_eq!(
        w.rds.count_calls("ModifyDBCluster"),
        0,
        "no password was set"
    );
}

/// Issue 10.4 and 9.10: a secret of the clone's name that this request did not make is never
/// adopted (its password and reader policy are not ours), and no password is set that is not
/// stored.
#[tokio::test(start_paused = true)]
async fn a_secret_of_the_same_name_made_by_someone_else_is_never_adopted() {
    let w = World::new();
    let r = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "SetPassword": "true", "ClusterId": "qa-db"}),
    );
    let name = format!(
        "/aurora-clone-manager/qa-db-{}",
        aurora_clone_manager::domain::ident::short_hash(&r.request_id)
    );
    w.secrets.put(
        &name,
        r#"{"password":"attacker-knows-this"}"#,
        [(tags::MANAGED_BY.to_string(), "acm".to_string())].into(),
    );
    w.deliver(&r).await;
    w.ticks_until_answers(1, 40).await;
    let a = &w.answer_for(&r)[0];
    assert_eq!(a["Status"], "FAILED", "{a}");
    assert!(
        a["Reason"]
            .as_str()
            .unwrap()
            .contains("was not made for clone"),
        "{a}"
    );
    assert_eq!(w.rds.count_calls("ModifyDBCluster"), 0, "no password set");
    let s = &w.secrets.all()[&name];
    assert!(
        s.policy.is_none() && !s.deleted,
        "someone else's secret is left alone"
    );
}

/// Issue 9.12: an in-place Tags update reaches the instance, the secret and a key made for the
/// clone, not only the cluster.
#[tokio::test(start_paused = true)]
async fn an_in_place_tags_update_reaches_instance_secret_and_key() {
    let w = World::new();
    let old = json!({"SourceClusterId": "orders", "SetPassword": "true", "ForceCreateKmsKey": "true", "Tags": {"team": "a"}});
    let (_, a) = create(&w, old.clone()).await;
    assert_eq!(a["Status"], "SUCCESS");
    let mut new = old.clone();
    new["Tags"] = json!({"team": "b", "cost": "qa"});
    let u = w.update_of(&a, old, new);
    w.deliver(&u).await;
    w.ticks_until_answers(2, 10).await;
    assert_eq!(
        w.answer_for(&u)[0]["PhysicalResourceId"],
        a["PhysicalResourceId"]
    );
    let instance = w.rds.instance_tags()[a["Data"]["InstanceId"].as_str().unwrap()].clone();
    assert_eq!(instance.get("team").map(String::as_str), Some("b"));
    let secret = w.secrets.all().into_values().next().unwrap();
    assert_eq!(secret.tags.get("cost").map(String::as_str), Some("qa"));
    let key = a["Data"]["KmsKeyId"].as_str().unwrap();
    assert_eq!(
        w.keys.tags_of(key).get("team").map(String::as_str),
        Some("b")
    );
}
