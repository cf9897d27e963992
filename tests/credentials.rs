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
    w.deliver(&r).await;
    w.ticks_until_answers(w.answers().len() + 1, 40).await;
    let a = w.answer_for(&r).pop().expect("answered");
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
    let mut u = w.request("Update", with_password.clone());
    u.physical_resource_id = first["PhysicalResourceId"].as_str().map(str::to_string);
    u.old_resource_properties = Some(plain.clone());
    w.deliver(&u).await;
    w.ticks_until_answers(2, 30).await;
    let a = &w.answer_for(&u)[0];
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    assert_eq!(
        a["PhysicalResourceId"], first["PhysicalResourceId"],
        "in place, not replaced"
    );
    assert_ne!(a["Data"]["PasswordSecret"], "");
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);

    let with_reader = json!({"SourceClusterId": "orders", "SetPassword": "true", "AccessPrincipalArns": [READER]});
    let mut u2 = w.request("Update", with_reader.clone());
    u2.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    u2.old_resource_properties = Some(with_password);
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

    let mut u3 = w.request("Update", plain);
    u3.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    u3.old_resource_properties = Some(with_reader);
    w.deliver(&u3).await;
    let off = &w.answer_for(&u3)[0];
    assert_eq!(off["Status"], "SUCCESS");
    assert_eq!(off["Data"]["PasswordSecret"], "");
    assert!(w.secrets.all().values().all(|s| s.deleted));
}
