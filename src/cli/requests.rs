//! `requests`: the work in the stack's state table, most urgent first, for an operator whose
//! stack seems to wait: which request, of which stack and resource, where it stands, and how
//! long CloudFormation has left.

use super::term::Table;
use super::{json, Outcome, FAILED};
use crate::service::Flows;
use crate::state::{Phase, Work};
use serde_json::{json, Value};

pub async fn requests(m: &Flows, as_json: bool) -> Outcome {
    let mut work = m
        .follow_up
        .work()
        .await
        .map_err(|e| (FAILED, format!("could not read the state table: {e}")))?;
    work.sort_by_key(Work::urgency);
    let now = m.core.clock.now().unix_timestamp();
    let rows: Vec<Value> = work.iter().map(|w| row(w, now)).collect();
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
        table.add_row(vec![
            cell("work"),
            cell("resource"),
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
                Phase::Pending => "pending".to_string(),
                Phase::Answering(a) => format!("answering {:?}", a.outcome.status).to_lowercase(),
                Phase::Done => "done".to_string(),
            };
            json!({
                "work": format!("{:?} {}", r.request.request_type, r.request_id()),
                "resource": format!("{} / {}", r.request.stack_id, r.request.logical_resource_id),
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
    }
}
