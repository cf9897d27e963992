//! The preparation step over fakes with paused time: a clone with `Prepare` is readable by its
//! preparers alone and answered only after its preparer reports `ok` with its single-use token;
//! a failed, late or forged report hands nothing out, and a failed preparation removes the clone.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::world::*;

const MASKER: &str = "arn:aws:iam::123456789012:role/masker";
const DEV: &str = "arn:aws:iam::123456789012:role/dev";

fn props() -> Value {
    json!({"SourceClusterId": "orders", "SetPassword": "true", "Prepare": "true",
        "PrepareTimeout": "PT20M", "PreparerArns": [MASKER], "AccessPrincipalArns": [DEV]})
}

/// Delivers the Create and follows up until its preparer is asked; the `clone-prepare` detail.
async fn asked(w: &World, r: &aurora_clone_manager::cfn::CfnRequest) -> Value {
    w.deliver(r).await;
    for _ in 0..40 {
        if let Some(e) = events(w, "lifecycle-event/clone-prepare").pop() {
            return e;
        }
        w.tick().await;
    }
    panic!("no clone-prepare: {:?}", w.events.sent());
}

fn report(token: &str, status: &str, reason: &str) -> Value {
    json!({"source": "aurora-clone-manager", "action": "prepared", "token": token,
        "status": status, "reason": reason})
}

/// Who may read the clone's secret, as its resource policy says.
fn readers(w: &World, secret_arn: &str) -> String {
    let secret = w
        .secrets
        .all()
        .into_values()
        .find(|s| s.arn == secret_arn)
        .expect("secret");
    secret.policy.unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_prepared_clone_is_handed_out_only_after_its_preparer_reports_ok() {
    let w = World::with_rds(quick_rds());
    let r = w.request("Create", props());
    let ask = asked(&w, &r).await;
    assert_eq!(ask["reason"], "create");
    let secret = ask["passwordSecretArn"]
        .as_str()
        .expect("the secret to read")
        .to_string();
    let token = ask["token"].as_str().unwrap().to_string();
    assert!(
        ask["endpoint"].is_string() && ask["port"].is_number(),
        "{ask}"
    );
    // Until the report: no answer, no instance-ready, the preparers alone read the secret.
    for _ in 0..5 {
        w.tick().await;
    }
    assert!(w.answer_for(&r).is_empty(), "no SUCCESS before the report");
    assert!(events(&w, "lifecycle-event/instance-ready").is_empty());
    let policy = readers(&w, &secret);
    assert!(policy.contains(MASKER) && !policy.contains(DEV), "{policy}");
    // The token is stored only as its hash.
    let stored = format!("{:?}", w.state.open_requests());
    assert!(!stored.contains(&token), "the token itself is never stored");

    let out = w.handle(report(&token, "ok", "masked")).await.unwrap();
    assert_eq!(out["ok"], true, "{out}");
    w.ticks_until_answers(1, 10).await;
    let a = w.answer_for(&r).pop().expect("answered");
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    assert_eq!(events(&w, "lifecycle-event/instance-ready").len(), 1);
    let policy = readers(&w, &secret);
    assert!(policy.contains(DEV) && !policy.contains(MASKER), "{policy}");
    // The token is spent.
    let again = w.handle(report(&token, "ok", "")).await.unwrap();
    assert!(again["ignored"].is_string(), "{again}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_preparation_fails_the_create_and_removes_the_clone() {
    let w = World::with_rds(quick_rds());
    let r = w.request("Create", props());
    let ask = asked(&w, &r).await;
    let id = ask["clusterId"].as_str().unwrap().to_string();
    let token = ask["token"].as_str().unwrap();
    w.handle(report(token, "failed", "masking job exited 3"))
        .await
        .unwrap();
    w.ticks_until_answers(1, 10).await;
    let a = w.answer_for(&r).pop().expect("answered");
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"]
            .as_str()
            .unwrap()
            .contains("masking job exited 3"),
        "{a}"
    );
    assert!(events(&w, "lifecycle-event/instance-ready").is_empty());
    for _ in 0..30 {
        w.tick().await;
    }
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(
        !w.rds.cluster_ids().contains(&id),
        "the unprepared clone is removed"
    );
}

#[tokio::test(start_paused = true)]
async fn late_and_forged_reports_hand_nothing_out() {
    let w = World::with_rds(quick_rds());
    let r = w.request("Create", props());
    let ask = asked(&w, &r).await;
    let token = ask["token"].as_str().unwrap().to_string();
    // Someone who saw no event guesses, or replays another shape.
    let forged = w.handle(report(&"0".repeat(64), "ok", "")).await.unwrap();
    assert!(forged["ignored"].is_string(), "{forged}");
    let malformed = w.handle(report(&token[..10], "ok", "")).await.unwrap();
    assert!(malformed["ignored"].is_string(), "{malformed}");
    // PrepareTimeout passes with no report: FAILED, and a report after it is refused.
    for _ in 0..25 {
        w.tick().await;
    }
    let a = w
        .answer_for(&r)
        .pop()
        .expect("answered when its time ran out");
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"].as_str().unwrap().contains("PrepareTimeout"),
        "{a}"
    );
    let late = w.handle(report(&token, "ok", "")).await.unwrap();
    assert!(late["ignored"].is_string(), "{late}");
    assert!(events(&w, "lifecycle-event/instance-ready").is_empty());
}

#[tokio::test(start_paused = true)]
async fn prepare_needs_the_clones_own_secret() {
    let w = World::new();
    let mut p = props();
    p["SetPassword"] = json!("false");
    let a = w.answered(&w.request("Create", p), 3).await;
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"].as_str().unwrap().contains("SetPassword"), "{a}");
}

/// A refresh of a prepared clone: the new clone opens only with a password of its own, in a
/// secret its preparers alone read; nothing cuts over before the report; after `ok` it takes the
/// clone's password and name, and its preparers' secret goes. A failed report leaves the clone.
#[tokio::test(start_paused = true)]
async fn a_prepared_clone_is_prepared_again_before_a_refresh_cuts_over() {
    let w = World::with_rds(quick_rds());
    let r = w.request("Create", props());
    let first = asked(&w, &r).await;
    let id = first["clusterId"].as_str().unwrap().to_string();
    let secret = first["passwordSecretArn"].as_str().unwrap().to_string();
    w.handle(report(first["token"].as_str().unwrap(), "ok", ""))
        .await
        .unwrap();
    w.ticks_until_answers(1, 10).await;
    let before = w.rds.tags_of(&id)["aurora-clone-manager:data-timestamp"].clone();

    let refresh = json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": id});
    w.handle(refresh.clone()).await.unwrap();
    let mut ask = None;
    for _ in 0..30 {
        w.tick().await;
        ask = events(&w, "lifecycle-event/clone-prepare")
            .into_iter()
            .find(|e| e["reason"] == "refresh");
        if ask.is_some() {
            break;
        }
    }
    let ask = ask.expect("the refresh asks the preparer");
    let fresh = ask["clusterId"].as_str().unwrap().to_string();
    assert_ne!(fresh, id, "the new clone, under its temporary name");
    let own = ask["passwordSecretArn"].as_str().unwrap().to_string();
    assert_ne!(own, secret, "not the clone's secret");
    let policy = readers(&w, &own);
    assert!(policy.contains(MASKER) && !policy.contains(DEV), "{policy}");
    assert_ne!(
        w.rds.password_of(&fresh),
        Some(password_in(&w, &secret)),
        "not the clone's password"
    );
    for _ in 0..5 {
        w.tick().await;
    }
    assert_eq!(
        w.rds.tags_of(&id)["aurora-clone-manager:data-timestamp"],
        before,
        "no cut-over yet"
    );

    w.handle(report(ask["token"].as_str().unwrap(), "ok", ""))
        .await
        .unwrap();
    for _ in 0..60 {
        if w.state.refreshes().is_empty() {
            break;
        }
        w.tick().await;
    }
    assert!(w.state.refreshes().is_empty(), "{:?}", w.state.refreshes());
    assert_eq!(events(&w, "lifecycle-event/clone-refreshed").len(), 1);
    assert_ne!(
        w.rds.tags_of(&id)["aurora-clone-manager:data-timestamp"],
        before,
        "newer data"
    );
    assert_eq!(
        w.rds.password_of(&id),
        Some(password_in(&w, &secret)),
        "the clone's password"
    );
    assert_eq!(
        w.rds.tags_of(&id)["aurora-clone-manager:password-secret"],
        secret
    );
    let gone = w
        .secrets
        .all()
        .into_values()
        .find(|s| s.arn == own)
        .expect("kept for recovery");
    assert!(gone.deleted, "the preparers' secret is deleted");
}
