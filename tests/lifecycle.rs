//! The clone lifecycle through the real handler over in-memory fakes, with paused time:
//! states moto does not model (creating → available over many minutes, terminal states,
//! deadlines, Lambda timeouts, races).

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::json;
use std::time::Duration;
use support::world::*;

#[tokio::test(start_paused = true)]
async fn create_answers_success_only_when_the_clone_is_usable() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    assert!(
        w.answers().is_empty(),
        "no answer while the clone is creating"
    );
    assert!(w.follow_ups.enabled());
    assert_eq!(w.follow_ups.target().as_deref(), Some(FUNCTION_ARN));
    let ticks = w.ticks_until_answers(1, 60).await;
    assert!(
        (8..=11).contains(&ticks),
        "answered after {ticks} ticks; the clone takes 10 minutes"
    );
    let answers = w.answer_for(&create);
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!(a["Status"], "SUCCESS");
    let id = a["Data"]["ClusterId"].as_str().unwrap();
    assert_eq!(a["PhysicalResourceId"], a["Data"]["Arn"]);
    assert!(id.starts_with("orders-20261122"), "{id}");
    assert_eq!(a["Data"]["SourceClusterId"], "orders");
    assert_eq!(a["Data"]["InstanceId"], format!("{id}-writer"));
    w.tick().await;
    assert!(
        !w.follow_ups.enabled(),
        "follow-ups stop when nothing is pending"
    );
    for _ in 0..5 {
        w.tick().await;
    }
    assert_eq!(w.answers().len(), 1, "exactly one response");
}

/// Defect 3: SUCCESS came before the clone was usable.
#[tokio::test(start_paused = true)]
async fn success_waits_for_the_writer_instance_too() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(60),
        Duration::from_secs(1200),
    ));
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    for _ in 0..15 {
        w.tick().await;
    }
    assert!(
        w.answers().is_empty(),
        "cluster available but writer still creating: no answer yet"
    );
    w.ticks_until_answers(1, 10).await;
    assert_eq!(w.answers()[0]["Status"], "SUCCESS");
}

#[tokio::test(start_paused = true)]
async fn duplicate_delivery_makes_one_clone() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    tokio::time::sleep(Duration::from_secs(90)).await;
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    for _ in 0..3 {
        w.tick().await;
    }
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
    assert_eq!(w.rds.cluster_ids().len(), 2, "the source and one clone");
    assert_eq!(w.answer_for(&create).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_duplicates_make_one_clone() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    tokio::join!(w.deliver(&create), w.deliver(&create), w.deliver(&create));
    w.ticks_until_answers(1, 30).await;
    assert_eq!(w.rds.cluster_ids().len(), 2, "the source and one clone");
    assert_eq!(w.answer_for(&create).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_terminal_state_fails_at_once_and_removes_the_clone() {
    let w = World::new();
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "ClusterId": "doomed"}),
    );
    w.deliver(&create).await;
    w.rds.stick("doomed", "incompatible-network");
    w.tick().await;
    let a = &w.answer_for(&create)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"]
        .as_str()
        .unwrap()
        .contains("incompatible-network"));
    assert_eq!(
        a["PhysicalResourceId"],
        format!("aurora-clone-manager:failed:{}", create.request_id)
    );
    assert!(
        w.rds.count_calls("DeleteDBCluster") >= 1,
        "the failed clone is removed"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_fails_the_request_and_stops_follow_ups() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(7200),
        Duration::from_secs(480),
    ));
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "ServiceTimeout": "900"}),
    );
    w.deliver(&create).await;
    let ticks = w.ticks_until_answers(1, 120).await;
    assert!(
        ticks <= 14,
        "answered after {ticks} minutes, ServiceTimeout was 15"
    );
    let a = &w.answer_for(&create)[0];
    assert_eq!(a["Status"], "FAILED");
    let reason = a["Reason"].as_str().unwrap();
    assert!(
        reason.contains("timed out") && reason.contains("creating"),
        "{reason}"
    );
    w.tick().await;
    assert!(
        w.state.open_requests().is_empty(),
        "no request pending: {:?}",
        w.state.open_requests()
    );
    // The timed-out clone is removed once RDS lets it go; then the follow-ups stop.
    for _ in 0..150 {
        if w.state.reaps().is_empty() {
            break;
        }
        w.tick().await;
    }
    w.tick().await;
    assert!(w.state.reaps().is_empty());
    assert!(!w.follow_ups.enabled());
    tokio::time::sleep(Duration::from_secs(400)).await;
    assert_eq!(
        w.rds.cluster_ids(),
        vec!["orders".to_string()],
        "RDS finished the deletion it was asked for"
    );
}

#[tokio::test(start_paused = true)]
async fn the_lambda_deadline_hands_off_to_follow_ups() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    // Ten seconds is the hand-off margin: nothing can run and nothing is recorded, so the
    // invocation errs and Lambda delivers the event again (an answer now could differ from the
    // one a recorded request would later get).
    let out = w
        .deliver_with_deadline(&create, Duration::from_secs(10))
        .await;
    assert!(out["redeliver"].is_string(), "{out}");
    assert!(w.answer_for(&create).is_empty());
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    assert_eq!(w.answer_for(&create)[0]["Status"], "SUCCESS");

    // Slow AWS calls: the invocation records the request, runs out of time, and hands off.
    let slow = World::with_rds(FakeRds::with_latency(Duration::from_secs(4)));
    let create = slow.request("Create", json!({"SourceClusterId": "orders"}));
    let out = slow
        .deliver_with_deadline(&create, Duration::from_secs(20))
        .await;
    assert!(out.to_string().contains("handed"), "{out}");
    assert!(slow.answers().is_empty());
    assert!(slow.follow_ups.enabled());
    slow.ticks_until_answers(1, 30).await;
    assert_eq!(slow.answer_for(&create).len(), 1);
    assert_eq!(slow.answer_for(&create)[0]["Status"], "SUCCESS");
}

#[tokio::test(start_paused = true)]
async fn a_panic_answers_failed_once() {
    let w = World::new();
    w.rds.panic_next("DescribeDBClusters");
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    let a = w.answer_for(&create);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["Status"], "FAILED");
    assert!(a[0]["Reason"].as_str().unwrap().contains("panicked"));
    for _ in 0..15 {
        w.tick().await;
    }
    assert_eq!(
        w.answer_for(&create).len(),
        1,
        "the follow-ups do not answer again"
    );
}

#[tokio::test(start_paused = true)]
async fn bad_properties_fail_with_the_property_named() {
    let w = World::new();
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "CopyOk": "nope"}),
    );
    w.deliver(&create).await;
    let a = &w.answer_for(&create)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"].as_str().unwrap().contains("CopyOk"));
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_bad_configuration_still_answers_every_request() {
    let w = World::new();
    let bad = aurora_clone_manager::config::Settings::from_map(
        &[("STACK_NAME".to_string(), "a b".to_string())]
            .into_iter()
            .collect(),
    );
    let app = aurora_clone_manager::lambda::App {
        answering: None,
        response_hosts: vec!["cfn-responses.example".into()],
        flows: Err(bad.unwrap_err()),
        responder: w.responder.clone(),
        calls: None,
        region: None,
        stack_name: "acm".into(),
    };
    for kind in ["Create", "Update", "Delete"] {
        let r = w.request(kind, json!({"SourceClusterId": "orders"}));
        let mut inv = World::invocation();
        inv.deadline = Some(tokio::time::Instant::now() + Duration::from_secs(60));
        let _ = aurora_clone_manager::lambda::handle_request(&app, r, inv).await;
    }
    let answers = w.answers();
    assert_eq!(answers.len(), 3);
    assert!(answers
        .iter()
        .all(|a| a["Status"] == "FAILED" && a["Reason"].as_str().unwrap().contains("STACK_NAME")));
}

#[tokio::test(start_paused = true)]
async fn aws_errors_fail_clearly_and_throttling_retries() {
    let w = World::new();
    w.rds
        .fail_next("RestoreDBClusterToPointInTime", "ThrottlingException");
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    assert!(
        w.answers().is_empty(),
        "throttling is retried on the next follow-up"
    );
    w.ticks_until_answers(1, 30).await;
    assert_eq!(w.answer_for(&create)[0]["Status"], "SUCCESS");

    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.rds.fail_next(
        "RestoreDBClusterToPointInTime",
        "DBClusterQuotaExceededFault",
    );
    w.deliver(&create).await;
    let a = &w.answer_for(&create)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"]
        .as_str()
        .unwrap()
        .contains("DBClusterQuotaExceededFault"));
}

/// Lambda delivers at least once: the same Create arriving after it was answered (minutes
/// later, so a generated identifier would differ) neither clones again nor answers again.
#[tokio::test(start_paused = true)]
async fn redelivery_after_the_answer_changes_nothing() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    tokio::time::sleep(Duration::from_secs(300)).await;
    w.deliver(&create).await;
    for _ in 0..3 {
        w.tick().await;
    }
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
    assert_eq!(w.answer_for(&create).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_full_account_quota_fails_early_with_the_reason() {
    let w = World::new();
    w.rds.set_quotas(40, 40);
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 30).await;
    assert_eq!(w.answer_for(&create)[0]["Status"], "SUCCESS");
    assert_eq!(
        w.rds.count_calls("DescribeAccountAttributes"),
        0,
        "far from RDS's default quotas, they are not asked"
    );
    for i in 0..38 {
        w.rds.put(aurora_clone_manager::domain::Cluster::new(
            &format!("other-{i}"),
            "available",
        ));
    }
    let full = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&full).await;
    let a = &w.answer_for(&full)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"].as_str().unwrap().contains("40/40 DB clusters"),
        "{a}"
    );
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_follow_up_answers_that_request_failed_once() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    assert!(w.answers().is_empty());
    w.rds.panic_next("DescribeDBInstances");
    for _ in 0..5 {
        w.tick().await;
    }
    let a = w.answer_for(&create);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["Status"], "FAILED");
    assert!(a[0]["Reason"].as_str().unwrap().contains("panicked"));
}

/// Once the request is recorded only the follow-ups come back for it: if they cannot be armed,
/// the request is answered at once rather than left for CloudFormation's one-hour timeout.
#[tokio::test(start_paused = true)]
async fn follow_ups_that_cannot_be_armed_fail_the_request_now() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(600),
        Duration::from_secs(300),
    ));
    w.follow_ups.refuse_next();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    let a = w.answer_for(&create);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["Status"], "FAILED");
    assert!(a[0]["Reason"].as_str().unwrap().contains("follow-up rule"));
    assert!(
        w.state.open_requests().is_empty(),
        "the request was answered"
    );
    assert_eq!(w.rds.count_calls("RestoreDBClusterToPointInTime"), 0);
}

/// Issue 9.9: `InstanceClass: db.serverless` gets a Serverless v2 scaling range on the restore
/// (RDS refuses the writer without one), and a refusal waiting cannot lift fails at once.
#[tokio::test(start_paused = true)]
async fn serverless_clones_get_a_scaling_range() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(60),
        Duration::from_secs(60),
    ));
    let r = w.request("Create", json!({"SourceClusterId": "orders", "InstanceClass": "db.serverless", "MinCapacity": "1", "MaxCapacity": "4"}));
    w.deliver(&r).await;
    w.ticks_until_answers(1, 20).await;
    assert_eq!(
        w.answer_for(&r)[0]["Status"],
        "SUCCESS",
        "{:?}",
        w.answer_for(&r)
    );

    let paused = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "InstanceClass": "db.serverless", "MinCapacity": "0"}),
    );
    w.deliver(&paused).await;
    let a = &w.answer_for(&paused)[0];
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"].as_str().unwrap().contains("auto-pause"), "{a}");

    let stray = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "MinCapacity": "1"}),
    );
    w.deliver(&stray).await;
    assert!(w.answer_for(&stray)[0]["Reason"]
        .as_str()
        .unwrap()
        .contains("db.serverless"));
}

/// Issue 9.11: a configuration broken while requests are pending (a stack update with a bad
/// parameter) still answers them: FAILED, with the configuration error, on the next tick.
#[tokio::test(start_paused = true)]
async fn a_bad_configuration_answers_the_requests_already_pending() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    assert!(w.answer_for(&create).is_empty(), "pending");
    let bad = aurora_clone_manager::config::Settings::from_map(
        &[
            ("STACK_NAME".to_string(), "acm".to_string()),
            ("MAX_COPY_AGE".to_string(), "3 days".to_string()),
        ]
        .into_iter()
        .collect(),
    );
    let app = aurora_clone_manager::lambda::App {
        flows: Err(bad.unwrap_err()),
        answering: Some(w.flows().clone()),
        responder: w.responder.clone(),
        calls: None,
        response_hosts: vec!["cfn-responses.example".into()],
        region: None,
        stack_name: "acm".into(),
    };
    let tick = json!({"source": "aurora-clone-manager", "action": "follow-up"});
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let out = aurora_clone_manager::lambda::handle(&app, tick, World::invocation(), deadline).await;
    let a = w.answer_for(&create);
    assert_eq!(a.len(), 1, "{out:?}");
    assert_eq!(a[0]["Status"], "FAILED");
    assert!(
        a[0]["Reason"].as_str().unwrap().contains("MAX_COPY_AGE"),
        "{}",
        a[0]
    );
}
