//! Admission, played against a CloudFormation stand-in that keeps its own record of the stacks
//! (`support::cloudformation`) and an adversary who may invoke the function: which requests are
//! served, when the stack check runs, and that every answer given at once is recorded and armed
//! (issue 16, items 2, 5, 7 and 8).

mod support;

use async_trait::async_trait;
use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::error::AwsError;
use aurora_clone_manager::fakes::{FakeFollowUps, FakeState};
use aurora_clone_manager::ports::Ports;
use aurora_clone_manager::ports::{FollowUps, StateStore};
use aurora_clone_manager::service::Flows;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::world::*;

const TEAM_B: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/team-b/2222";

fn verifying() -> World {
    World::with(
        quick_rds(),
        settings_with(&[("VERIFY_STACK_REQUESTS", "true")]),
    )
}

/// Delivers as Lambda does an asynchronous event: an invocation that errs is retried twice,
/// about one and two minutes later.
async fn deliver_with_retries(w: &World, r: &CfnRequest) {
    for _ in 0..3 {
        if w.deliver(r).await.get("redeliver").is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// A clone made for `stack`'s resource `Db`, as CloudFormation's Create makes it: its answer.
async fn clone_for(w: &World, stack: &str, source: &str) -> (CfnRequest, Value) {
    let mut create = w.request("Create", json!({"SourceClusterId": source}));
    create.stack_id = stack.into();
    let a = w.answered(&create, 30).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    (create, a)
}

fn delete_of(w: &World, stack: &str, physical_id: &str) -> CfnRequest {
    let mut d = w.request("Delete", json!({"SourceClusterId": "orders"}));
    d.stack_id = stack.into();
    d.physical_resource_id = Some(physical_id.into());
    d
}

fn deletions(w: &World) -> usize {
    w.rds.count_calls("DeleteDBCluster") + w.rds.count_calls("DeleteDBInstance")
}

/// Item 5: DescribeStackResource throttled for 15 calls (many stacks deleted at once). The
/// Delete is recorded first and checked inside its work: it is answered once the throttle ends,
/// exactly once. (Before: the check came first, every delivery failed, nothing answered.)
#[tokio::test(start_paused = true)]
async fn a_throttled_stack_check_delays_a_delete_and_never_drops_it() {
    let w = verifying();
    let (_, created) = clone_for(&w, STACK_ID, "orders").await;
    let arn = created["PhysicalResourceId"].as_str().unwrap();
    w.cloudformation.phase(STACK_ID, "DELETE_IN_PROGRESS");
    w.cloudformation
        .resource_phase(STACK_ID, "Db", "DELETE_IN_PROGRESS");
    w.stacks.throttle(15);
    let delete = delete_of(&w, STACK_ID, arn);
    deliver_with_retries(&w, &delete).await;
    for _ in 0..40 {
        if !w.answer_for(&delete).is_empty() {
            break;
        }
        w.tick().await;
    }
    for _ in 0..5 {
        w.tick().await;
    }
    let answers = w.answer_for(&delete);
    assert_eq!(answers.len(), 1, "answered exactly once: {answers:?}");
    assert_eq!(answers[0]["Status"], "SUCCESS", "{answers:?}");
    assert!(
        w.stacks.calls() >= 16,
        "the throttle ran out before it was served"
    );
    assert!(deletions(&w) >= 1, "the clone is being deleted");
}

/// Item 2: forged Deletes of another team's current clone, in every spelling of its id, while
/// CloudFormation deletes nothing there. None deletes anything; each is answered FAILED.
#[tokio::test(start_paused = true)]
async fn forged_deletes_of_another_teams_clone_delete_nothing() {
    let w = verifying();
    let (their_create, created) = clone_for(&w, TEAM_B, "orders").await;
    let arn = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let id = created["Data"]["ClusterId"].as_str().unwrap().to_string();
    w.cloudformation.phase(TEAM_B, "UPDATE_COMPLETE");
    w.cloudformation
        .resource_phase(TEAM_B, "Db", "UPDATE_COMPLETE");
    let spellings = [
        format!("arn:aws:rds:::cluster:{id}"),
        format!("arn:aws:rds:us-east-1:210987654321:cluster:{id}"),
        format!("arn:aws-cn:rds:us-east-1:123456789012:cluster:{id}"),
        format!("arn:aws:rds:eu-west-1:123456789012:cluster:{id}"),
        format!(
            "arn:aws:rds:us-east-1:123456789012:cluster:{}",
            id.to_uppercase()
        ),
        format!("ARN:AWS:RDS:us-east-1:123456789012:cluster:{id}"),
        format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}:"),
        format!("aurora-clone-manager:failed:{}", their_create.request_id),
        arn.clone(),
    ];
    // The current id also while their stack cleans up after an update (the clone is in use).
    let phases = [
        ("UPDATE_COMPLETE", &spellings[..]),
        (
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            std::slice::from_ref(&arn),
        ),
    ];
    for (phase, ids) in phases {
        w.cloudformation.phase(TEAM_B, phase);
        for physical in ids {
            let forged = delete_of(&w, TEAM_B, physical);
            w.deliver(&forged).await;
            w.ticks_until_answers(w.answers().len() + 1, 5).await;
            let a = w.answer_for(&forged);
            assert_eq!(a.len(), 1, "{physical} in {phase}: {a:?}");
            assert_eq!(a[0]["Status"], "FAILED", "{physical} in {phase}: {a:?}");
            assert_eq!(deletions(&w), 0, "{physical} in {phase}: nothing deleted");
        }
    }
    assert!(
        w.rds.cluster_ids().contains(&id),
        "their clone is still there"
    );
}

/// Item 2: the genuine clean-up Delete of a replaced clone, during
/// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`, is served (the new clone is left alone).
#[tokio::test(start_paused = true)]
async fn the_clean_up_delete_of_a_replaced_clone_is_served() {
    let w = verifying();
    w.rds.add_source("billing", Default::default());
    let (_, old) = clone_for(&w, STACK_ID, "orders").await;
    let old_arn = old["PhysicalResourceId"].as_str().unwrap().to_string();
    w.cloudformation.phase(STACK_ID, "UPDATE_IN_PROGRESS");
    w.cloudformation
        .resource_phase(STACK_ID, "Db", "UPDATE_IN_PROGRESS");
    let mut update = w.request("Update", json!({"SourceClusterId": "billing"}));
    update.physical_resource_id = Some(old_arn.clone());
    update.old_resource_properties = Some(json!({"SourceClusterId": "orders"}));
    let replaced = w.answered(&update, 30).await;
    assert_eq!(replaced["Status"], "SUCCESS", "{replaced}");
    assert_ne!(
        replaced["PhysicalResourceId"],
        old_arn.as_str(),
        "a replacement"
    );
    w.cloudformation
        .phase(STACK_ID, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS");
    let cleanup = delete_of(&w, STACK_ID, &old_arn);
    w.deliver(&cleanup).await;
    w.ticks_until_answers(w.answers().len() + 1, 10).await;
    let a = w.answer_for(&cleanup);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["Status"], "SUCCESS", "{a:?}");
    assert!(deletions(&w) >= 1, "the old clone is being deleted");
    let new_id = replaced["Data"]["ClusterId"].as_str().unwrap().to_string();
    assert!(w.rds.cluster_ids().contains(&new_id), "the new clone stays");
}

/// Requests refused before any work: another resource type, a ClusterId outside the prefix.
fn refused_requests(w: &World) -> Vec<CfnRequest> {
    let mut other_type = w.request("Create", json!({"SourceClusterId": "orders"}));
    other_type.resource_type = "Custom::SomethingElse".into();
    let outside = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "ClusterId": "qa-db"}),
    );
    vec![other_type, outside]
}

/// Item 7: a refused request is stored as answering by its first write, so a follow-up running
/// meanwhile (here: after the write that would decide it was lost) never takes it up as work.
#[tokio::test(start_paused = true)]
async fn a_refused_request_is_never_pending_work() {
    let w = World::with(
        quick_rds(),
        settings_with(&[("CLUSTER_ID_PREFIX", "clone-")]),
    );
    for r in refused_requests(&w) {
        let next = w.state.writes() + 2;
        w.state.refuse_writes(&[next]);
        w.deliver(&r).await;
        // A follow-up running now, whatever the rule says.
        w.flows()
            .follow_up
            .follow_up(&World::invocation())
            .await
            .expect("follow-up");
        assert_eq!(w.state.first_phase(&r.request_id), Some("answering"));
        let answers = w.answer_for(&r);
        assert!(!answers.is_empty(), "answered");
        assert!(
            answers.iter().all(|a| a["Status"] == "FAILED"),
            "{answers:?}"
        );
    }
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        0,
        "nothing made"
    );
}

/// Item 8: a refusal whose PUT fails is armed: the next follow-up resends it. When even its
/// record fails, the invocation errs and Lambda's redelivery answers it.
#[tokio::test(start_paused = true)]
async fn a_refusal_whose_put_fails_is_resent() {
    let w = World::with(
        quick_rds(),
        settings_with(&[("CLUSTER_ID_PREFIX", "clone-")]),
    );
    let [first, second] = <[CfnRequest; 2]>::try_from(refused_requests(&w)).expect("two");
    w.responder.fail_next(1);
    let out = w.deliver(&first).await;
    assert!(out.get("redeliver").is_none(), "recorded: {out}");
    assert!(w.answer_for(&first).is_empty(), "the PUT failed");
    assert!(w.follow_ups.enabled(), "armed for a follow-up");
    w.ticks_until_answers(1, 3).await;
    assert_eq!(w.answer_for(&first).len(), 1, "resent by the follow-up");
    assert_eq!(w.answer_for(&first)[0]["Status"], "FAILED");

    let next = w.state.writes() + 1;
    w.state.refuse_writes(&[next]);
    w.responder.fail_next(1);
    let out = w.deliver(&second).await;
    assert!(
        out.get("redeliver").is_some(),
        "neither recorded nor sent: {out}"
    );
    deliver_with_retries(&w, &second).await;
    assert_eq!(w.answer_for(&second).len(), 1, "answered on redelivery");
}

/// Follow-ups as EventBridge, except that a request is recorded (and its rule armed) just as
/// the rule is disabled: the race `stop_follow_ups` looks a second time for.
struct RecordedOnStop {
    rule: Arc<FakeFollowUps>,
    state: Arc<FakeState>,
    flows: Flows,
    request: CfnRequest,
    /// The disable takes effect and its reply is lost.
    lose_reply: bool,
}

#[async_trait]
impl FollowUps for RecordedOnStop {
    async fn ensure(&self, function_arn: &str) -> Result<(), AwsError> {
        self.rule.ensure(function_arn).await
    }

    async fn stop(&self) -> Result<(), AwsError> {
        self.rule.ensure(FUNCTION_ARN).await?;
        self.state
            .record(&self.flows.receive.bare_record(&self.request))
            .await?;
        self.rule.stop().await?;
        if self.lose_reply {
            return Err(AwsError::transient(
                "DisableRule",
                "InternalException",
                "reply lost",
            ));
        }
        Ok(())
    }
}

/// Item 8: the rule is disabled, a request is recorded meanwhile, and the second look fails (or
/// the disable's own reply is lost): the rule is left on, and the request is answered by the
/// next ticks.
#[tokio::test(start_paused = true)]
async fn a_failed_second_look_leaves_the_rule_on() {
    for lose_reply in [false, true] {
        let w = World::new();
        let raced = w.request("Delete", json!({"SourceClusterId": "orders"}));
        let follow_ups = Arc::new(RecordedOnStop {
            rule: w.follow_ups.clone(),
            state: w.state.clone(),
            flows: w.flows().clone(),
            request: raced.clone(),
            lose_reply,
        });
        let ports = Ports {
            follow_ups,
            ..w.ports.clone()
        };
        let ticking = w.flows_with(ports);
        if !lose_reply {
            w.state.fail_scans(1, 1);
        }
        let out = ticking.follow_up.follow_up(&World::invocation()).await;
        assert!(out.is_err(), "lost reply {lose_reply}: {out:?}");
        assert!(
            w.follow_ups.enabled(),
            "lost reply {lose_reply}: the rule is on"
        );
        w.ticks_until_answers(1, 3).await;
        assert_eq!(w.answer_for(&raced).len(), 1, "followed up and answered");
    }
}

/// Item 8: a request that does not parse is answered at once, through the same recorded and
/// armed answer: its failed PUT is resent by a follow-up, once delivered never again.
#[tokio::test(start_paused = true)]
async fn a_malformed_requests_answer_is_armed() {
    let w = World::new();
    let event = json!({"RequestType": "Destroy", "ResponseURL": "https://cfn-responses.example/signed-m?X-Amz-Signature=abc",
        "StackId": STACK_ID, "RequestId": "req-malformed", "LogicalResourceId": "Db"});
    w.responder.fail_next(1);
    let out = w.handle(event).await;
    assert!(out.is_ok(), "recorded: {out:?}");
    assert!(w.answers().is_empty(), "the PUT failed");
    for _ in 0..5 {
        w.tick().await;
    }
    let answers: Vec<Value> = w
        .answers()
        .into_iter()
        .filter(|a| a["RequestId"] == "req-malformed")
        .collect();
    assert_eq!(answers.len(), 1, "resent once: {answers:?}");
    assert_eq!(answers[0]["Status"], "FAILED");
}
