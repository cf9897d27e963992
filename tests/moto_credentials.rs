//! SetPassword and lifecycle events against moto: the secret's JSON and policy, the key choice,
//! the ready event arriving in an SQS queue through a rule on a custom bus, cleanup on Delete,
//! and changes in place.

mod support;

use serde_json::{json, Value};
use support::flow::Flow;
use support::moto::{bus_to_queue, receive_all, sdk_config, unique};
use support::world::assert_in_place;

const READER: &str = "arn:aws:iam::123456789012:role/developers";

fn secrets() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&sdk_config())
}

async fn delete(f: &Flow, answer: &Value) -> Value {
    let mut d = f.request("Delete", json!({}));
    d.physical_resource_id = answer["PhysicalResourceId"].as_str().map(str::to_string);
    f.invoke(serde_json::to_value(&d).unwrap()).await;
    f.answers_for(&d).pop().unwrap()
}

#[tokio::test]
async fn a_clone_with_its_own_password_secret_and_ready_event() {
    let source = unique("acm-src");
    let (bus, queue) = bus_to_queue(&sdk_config(), &source).await;
    let f = Flow::with_settings(&[
        ("EVENT_BUS_NAME", &bus),
        ("EVENT_SOURCE", &source),
        ("DEFAULT_SECRET_PREFIX", "/clones/"),
    ])
    .await;
    let (_, a) = f.create(json!({"SourceClusterId": f.source, "SetPassword": "true", "AccessPrincipalArns": READER, "ForceCreateKmsKey": "true", "Tags": {"team": "qa"}})).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let name = a["Data"]["PasswordSecret"].as_str().unwrap().to_string();
    assert!(name.starts_with("/clones/"), "{name}");

    let sm = secrets();
    let value = sm.get_secret_value().secret_id(&name).send().await.unwrap();
    let secret: Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    assert_eq!(secret["engine"], "postgres");
    assert_eq!(secret["username"], "app");
    assert_eq!(secret["dbname"], "orders");
    assert_eq!(secret["host"], a["Data"]["Endpoint"]);
    assert_eq!(secret["dbClusterIdentifier"], a["Data"]["ClusterId"]);
    let password = secret["password"].as_str().unwrap();
    assert!((8..=41).contains(&password.len()) && password != "source-password-1");
    let described = sm.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(described.kms_key_id(), a["Data"]["KmsKeyId"].as_str());
    assert!(described.tags().iter().any(|t| t.key() == Some("team")));
    let policy = sm
        .get_resource_policy()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(policy.resource_policy().unwrap().contains(READER));

    let events = receive_all(&queue).await;
    let ready: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "lifecycle-event/instance-ready")
        .collect();
    assert_eq!(ready.len(), 1, "{events:?}");
    assert_eq!(ready[0]["source"], source.as_str());
    assert_eq!(ready[0]["detail"]["passwordSecret"], name.as_str());
    assert_eq!(ready[0]["detail"]["clusterId"], a["Data"]["ClusterId"]);

    assert_eq!(delete(&f, &a).await["Status"], "SUCCESS");
    let gone = sm.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(
        gone.deleted_date().is_some(),
        "the secret is scheduled for deletion"
    );
    let kms = aws_sdk_kms::Client::new(&sdk_config());
    let key = kms
        .describe_key()
        .key_id(a["Data"]["KmsKeyId"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let deleted: Vec<Value> = receive_all(&queue)
        .await
        .into_iter()
        .filter(|e| e["detail-type"] == "lifecycle-event/clone-deleted")
        .collect();
    assert_eq!(deleted.len(), 1);
}

#[tokio::test]
async fn the_stack_default_key_is_used_and_never_deleted() {
    let kms = aws_sdk_kms::Client::new(&sdk_config());
    let default_key = kms
        .create_key()
        .description("stack default")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let f = Flow::with_settings(&[("DEFAULT_SECRET_KEY", &default_key)]).await;
    let (_, a) = f
        .create(json!({"SourceClusterId": f.source, "SetPassword": "true"}))
        .await;
    assert_eq!(a["Data"]["KmsKeyId"], default_key.as_str());
    let name = a["Data"]["PasswordSecret"].as_str().unwrap().to_string();
    assert_eq!(
        secrets()
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .kms_key_id(),
        Some(default_key.as_str())
    );
    delete(&f, &a).await;
    let key = kms
        .describe_key()
        .key_id(&default_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("Enabled")
    );
}

#[tokio::test]
async fn set_password_turns_on_and_off_in_place() {
    let f = Flow::new().await;
    let plain = json!({"SourceClusterId": f.source});
    let (_, first) = f.create(plain.clone()).await;
    let on =
        json!({"SourceClusterId": f.source, "SetPassword": "true", "AccessPrincipalArns": READER});
    let mut u = f.request("Update", on.clone());
    u.physical_resource_id = first["PhysicalResourceId"].as_str().map(str::to_string);
    u.old_resource_properties = Some(plain.clone());
    f.invoke(serde_json::to_value(&u).unwrap()).await;
    f.run_follow_ups(10).await;
    let a = f.answers_for(&u).pop().unwrap();
    assert_in_place(&first, &a);
    let name = a["Data"]["PasswordSecret"].as_str().unwrap().to_string();
    assert!(secrets()
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .is_ok());

    let mut off = f.request("Update", plain);
    off.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    off.old_resource_properties = Some(on);
    f.invoke(serde_json::to_value(&off).unwrap()).await;
    let b = f.answers_for(&off).pop().unwrap();
    assert_eq!(b["Status"], "SUCCESS");
    assert_eq!(b["Data"]["PasswordSecret"], "");
    assert!(secrets()
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .deleted_date()
        .is_some());
}
