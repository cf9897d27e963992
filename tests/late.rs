//! Issue 16, item 6: CloudFormation's clock. A request's time starts when CloudFormation sent it
//! (the ResponseURL's signing time), not when Lambda got round to delivering it, and a request
//! whose time is up is answered FAILED before anything of it is observed.

mod support;

use aurora_clone_manager::cfn::CfnRequest;
use serde_json::json;
use std::time::Duration;
use support::world::*;
use time::OffsetDateTime;

/// The request as CloudFormation would have signed it `ago` before now (SigV4 query parameters).
fn sent_ago(w: &World, mut request: CfnRequest, ago: Duration) -> (CfnRequest, OffsetDateTime) {
    let sent = w.flows().core.clock.now() - ago;
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let date = sent.format(&format).expect("X-Amz-Date");
    request.response_url = format!(
        "https://cfn-responses.example/{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires=7200&X-Amz-SignedHeaders=host&X-Amz-Signature=abc",
        request.request_id
    );
    (request, sent)
}

fn statuses(w: &World, request: &CfnRequest) -> Vec<String> {
    w.answer_for(request)
        .iter()
        .map(|a| a["Status"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_create_delivered_59m40s_after_cloudformation_sent_it_fails_in_time() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    let (create, sent) = sent_ago(&w, create, Duration::from_secs(59 * 60 + 40));
    w.deliver(&create).await;
    let hour_ends = sent + time::Duration::hours(1);
    assert_eq!(
        statuses(&w, &create),
        ["FAILED"],
        "answered FAILED at once: CloudFormation's hour ends 20 s after delivery"
    );
    assert!(
        w.flows().core.clock.now() < hour_ends,
        "answered within CloudFormation's hour"
    );
    let reason = w.answer_for(&create)[0]["Reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("timed out"), "{reason}");
    for _ in 0..30 {
        w.tick().await;
    }
    assert_eq!(
        statuses(&w, &create),
        ["FAILED"],
        "never a SUCCESS after the hour"
    );
    assert_eq!(
        w.rds.cluster_ids(),
        ["orders"],
        "nothing the late request made is left behind"
    );
    assert!(w.state.open_requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_late_create_that_cannot_be_looked_at_fails_at_cloudformations_deadline() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    // Sent 50 minutes ago: 8 minutes are left of CloudFormation's hour, less the margin.
    let (create, sent) = sent_ago(&w, create, Duration::from_secs(50 * 60));
    w.deliver(&create).await;
    assert!(w.rds.cluster_ids().len() > 1, "the clone is being made");
    // From now on every RDS call is throttled: no observation of the clone succeeds.
    w.rds.throttle_percent(100);
    let ticks = w.ticks_until_answers(1, 30).await;
    let hour_ends = sent + time::Duration::hours(1);
    assert_eq!(statuses(&w, &create), ["FAILED"], "after {ticks} ticks");
    assert!(
        w.flows().core.clock.now() < hour_ends,
        "answered FAILED before CloudFormation's hour ended, whatever RDS said"
    );
    // RDS answers again: the clone the request made is removed, and no SUCCESS follows.
    w.rds.throttle_percent(0);
    for _ in 0..30 {
        w.tick().await;
    }
    assert_eq!(statuses(&w, &create), ["FAILED"]);
    assert_eq!(w.rds.cluster_ids(), ["orders"], "the clone is removed");
}

#[tokio::test(start_paused = true)]
async fn a_request_delivered_at_once_keeps_its_whole_hour() {
    let w = World::new();
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    let (create, _) = sent_ago(&w, create, Duration::from_secs(5));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 60).await;
    assert_eq!(statuses(&w, &create), ["SUCCESS"]);
}
