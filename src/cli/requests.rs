//! `requests`: the work in the stack's state table, most urgent first, for an operator whose
//! stack seems to wait: which request, of which stack and resource, where it stands, and how
//! long CloudFormation has left; and `requests --fail`, which answers one pending request FAILED
//! (the runbook's way to unstick a stack without waiting for its `ServiceTimeout`).

use super::term::Table;
use super::{json, Outcome, FAILED, REFUSED};
use crate::service::{Flows, Invocation, Progress};
use crate::state::{Phase, Work};
use serde_json::{json, Value};

/// Why CloudFormation is told the request failed, unless `--reason` says.
const OPERATOR: &str = "answered FAILED by an operator (aurora-clone-manager requests --fail)";

pub async fn requests(m: &Flows, as_json: bool) -> Outcome {
    let mut work = m
        .follow_up
        .work()
        .await
        .map_err(|e| (FAILED, format!("could not read the state table: {e}")))?;
    work.sort_by_key(Work::urgency);
    let now = m.core.clock.now().unix_timestamp();
    // In the one JSON style before the table reads them too, whoever wrote a row's keys.
    let rows: Vec<Value> = work.iter().map(|w| json::camel(row(w, now))).collect();
    if as_json {
        json::print(json!({ "work": rows }));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no work in the state table");
        return Ok(());
    }
    let mut table = Table::new(&["work", "stack / resource", "state", "cluster", "time left"]);
    for r in &rows {
        let cell = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        let resource = match (r["stackId"].as_str(), r["logicalResourceId"].as_str()) {
            (Some(stack), Some(logical)) => format!("{stack} / {logical}"),
            _ => "-".into(),
        };
        table.add_row(vec![
            cell("work"),
            resource,
            cell("state"),
            cell("clusterId"),
            r["secondsLeft"]
                .as_i64()
                .map_or("-".into(), |s| format!("{}m", s.max(0) / 60)),
        ]);
    }
    println!("{table}");
    Ok(())
}

/// One item as the operator reads it (camelCase keys, as every command prints).
fn row(work: &Work, now: i64) -> Value {
    match work {
        Work::Request(item) => {
            let r = &item.record;
            let state = match &item.phase {
                Phase::Pending => match &r.preparation {
                    Some(p) if p.report.is_none() => {
                        format!("waiting for its preparer ({}s left)", p.until - now)
                    }
                    Some(p) => format!(
                        "prepared ({})",
                        if p.report.as_ref().is_some_and(|r| r.ok) {
                            "ok"
                        } else {
                            "failed"
                        }
                    ),
                    None => "pending".to_string(),
                },
                Phase::Answering(a) => format!("answering {:?}", a.outcome.status).to_lowercase(),
                Phase::Done => "done".to_string(),
            };
            json!({
                "work": format!("{:?} {}", r.request.request_type, r.request_id()),
                "requestId": r.request_id(),
                "requestType": r.request.request_type,
                "stackId": r.request.stack_id,
                "logicalResourceId": r.request.logical_resource_id,
                "state": state,
                "clusterId": (!r.cluster_id.is_empty()).then_some(&r.cluster_id),
                "secondsLeft": (item.phase != Phase::Done).then_some(r.deadline - now),
            })
        }
        Work::Reap(reap) => json!({
            "work": format!("clean-up {}", reap.cluster_id),
            "state": if reap.given_up { "given up" } else { "retrying" },
            "clusterId": reap.cluster_id,
            "lastError": reap.last_error,
        }),
        Work::Maintain(item) => json!({
            "work": "maintenance",
            "state": format!("sources {}", item.sources.join(",")),
        }),
        Work::Refresh(r) => json!({
            "work": format!("refresh {}", r.cluster_id),
            "state": format!("{:?}", r.stage).to_lowercase(),
            "cluster_id": r.cluster_id,
            "seconds_left": r.deadline - now,
            "last_error": r.reason,
        }),
    }
}

/// Answers a pending request FAILED: the decision is the same conditional write the Lambda
/// makes (so a Lambda deciding at the same moment wins or loses cleanly), and the delivery is
/// the Lambda's own: the PUT to its ResponseURL, the clean-up of the clone it was making, done.
pub async fn fail(m: &Flows, request_id: &str, reason: Option<&str>, as_json: bool) -> Outcome {
    let found = m.answers.recorded(request_id).await;
    let item = found
        .map_err(|e| (FAILED, format!("could not read the state table: {e}")))?
        .ok_or_else(|| {
            (
                REFUSED,
                format!("no request {request_id} in the state table"),
            )
        })?;
    if item.phase != Phase::Pending {
        let state = row(&Work::Request(Box::new(item)), 0)["state"].clone();
        return Err((
            REFUSED,
            format!("request {request_id} is {state} already: its answer is decided"),
        ));
    }
    let reason = reason.map_or(OPERATOR.to_string(), |r| format!("{r} ({OPERATOR})"));
    let answer = crate::state::failed(&item.record.request, reason);
    let progress = m
        .answers
        .conclude(&item.record, answer, &Invocation::default())
        .await;
    match progress {
        Progress::Answered => {}
        Progress::Pending(why) => {
            let why = format!("answered FAILED in the state table, not delivered yet ({why}): the stack's follow-ups resend it");
            return Err((FAILED, why));
        }
        Progress::Ignored(_) => {
            let why =
                format!("request {request_id} was answered meanwhile (the Lambda decided first)");
            return Err((REFUSED, why));
        }
    }
    let doc = json!({"requestId": request_id, "status": "FAILED", "delivered": true});
    match as_json {
        true => json::print(doc),
        false => println!("{request_id}: answered FAILED; CloudFormation has the answer"),
    }
    Ok(())
}
