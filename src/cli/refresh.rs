//! `refresh`: a clone refreshed in place from a terminal, as its schedule would. The ledger
//! decides whether it may be; the state table records it, so the Lambda's follow-ups carry it
//! on, or this terminal does with `--wait`.

use super::{Outcome, FAILED, REFUSED};
use crate::domain::refresh::{fresh_id, retired_id};
use crate::service::refresh::Asked;
use crate::service::{Flows, Invocation};
use serde_json::json;
use std::time::Duration;

/// How often `--wait` looks again: RDS takes minutes for each step (`ACM_POLL_SECONDS` sets
/// it, for a local AWS that answers at once).
fn poll() -> Duration {
    let secs = std::env::var("ACM_POLL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(secs.unwrap_or(30))
}

pub async fn refresh(m: &Flows, id: &str, wait: bool, dry_run: bool, as_json: bool) -> Outcome {
    if dry_run {
        return dry(m, id, as_json).await;
    }
    let inv = Invocation::default();
    let asked = m
        .refresh
        .ask(id, "cli", &inv)
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let item = match asked {
        Asked::Refused(why) => return Err((REFUSED, format!("not refreshing {id}: {why}"))),
        Asked::Started(item) | Asked::Joined(item) => item,
    };
    if !wait {
        print(
            as_json,
            json!({"clusterId": id, "attempt": item.attempt, "state": "recorded"}),
            &format!(
                "refresh of {id} recorded (attempt {}); the stack's follow-ups carry it on",
                item.attempt
            ),
        );
        return Ok(());
    }
    while let Some(progress) = m
        .refresh
        .carry_on(id, &inv)
        .await
        .map_err(|e| (FAILED, e.to_string()))?
    {
        tracing::info!(cluster = %id, ?progress, "refresh carried on");
        tokio::time::sleep(poll()).await;
    }
    print(as_json, json!({"clusterId": id, "attempt": item.attempt, "state": "over"}), &format!("refresh of {id} is over (see the clone-refreshed or clone-refresh-failed event, and `status`)"));
    Ok(())
}

async fn dry(m: &Flows, id: &str, as_json: bool) -> Outcome {
    let allowed = m
        .refresh
        .check(id)
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let underway = m
        .refresh
        .underway(id)
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let names = json!({"fresh": fresh_id(id, "xxxxxx"), "retired": retired_id(id, "xxxxxx")});
    let doc = json!({"clusterId": id, "dryRun": true, "refreshable": allowed.is_ok(),
        "reason": allowed.as_ref().err(), "underway": underway.map(|r| r.attempt), "names": names});
    let text = match &allowed {
        Ok(()) => format!("{id} may be refreshed: a new clone is made as {} and takes its name; the old one is renamed {} and deleted", names["fresh"], names["retired"]),
        Err(why) => format!("{id} may not be refreshed: {why}"),
    };
    print(as_json, doc, &text);
    Ok(())
}

fn print(as_json: bool, doc: serde_json::Value, text: &str) {
    match as_json {
        true => println!("{doc}"),
        false => println!("{text}"),
    }
}
