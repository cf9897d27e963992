//! Driving a flow through kills: an invocation whose process is killed is dropped; Lambda then
//! retries the event (a CloudFormation request) or the next tick comes (a follow-up), in a fresh
//! process. Also what a test checks afterwards: one outcome per request, nothing left behind.

use super::fault::Faults;
use super::flow::Flow;
use super::moto::has_tag;
use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::domain::tags::MANAGED_BY;
use serde_json::Value;

/// Seconds a restarted process's clock moves on: past any lease the dead one held.
pub const RESTART_SECS: i64 = 61;

/// One invocation; `None` when its process was killed.
pub async fn invoke_killable(f: &Flow, faults: &Faults, event: Value) -> Option<Value> {
    tokio::select! {
        out = f.invoke(event) => Some(out),
        _ = faults.killed() => None,
    }
}

/// Delivers a request until an invocation completes, as Lambda retries an event whose
/// invocation died or erred.
pub async fn deliver(f: &mut Flow, faults: &Faults, request: &CfnRequest) -> usize {
    let event = serde_json::to_value(request).expect("request JSON");
    for attempt in 1..=4 {
        match invoke_killable(f, faults, event.clone()).await {
            Some(out) if out.get("redeliver").is_none() => return attempt,
            Some(_) => {}
            None => f.restart(RESTART_SECS),
        }
    }
    panic!("the request was never served in 4 deliveries")
}

/// Plays the scheduler while the follow-up rule is enabled; a killed tick is followed by the
/// next one in a fresh process. Returns the ticks played.
pub async fn follow_ups(f: &mut Flow, faults: &Faults, max: usize) -> usize {
    let rule = format!("{}-follow-up", f.stack);
    for tick in 0..max {
        let Ok(r) = f.events.describe_rule().name(&rule).send().await else {
            return tick;
        };
        if r.state().map(|s| s.as_str()) != Some("ENABLED") {
            return tick;
        }
        let event = serde_json::json!({"source": "aurora-clone-manager", "action": "follow-up"});
        if invoke_killable(f, faults, event).await.is_none() {
            f.restart(RESTART_SECS);
        }
    }
    panic!("follow-ups still enabled after {max} ticks")
}

/// The distinct bodies CloudFormation received for `r` (a resend of the same body is one).
pub fn outcomes(f: &Flow, r: &CfnRequest) -> Vec<Value> {
    super::values::distinct(f.answers_for(r))
}

/// Clusters whose tags say this flow's manager made them.
pub async fn managed_clusters(f: &Flow) -> Vec<String> {
    let rds = aws_sdk_rds::Client::new(&super::moto::check_config());
    let out = rds.describe_db_clusters().send().await.expect("describe");
    out.db_clusters()
        .iter()
        .filter(|c| has_tag(c, MANAGED_BY, &f.stack))
        .filter_map(|c| c.db_cluster_identifier().map(str::to_string))
        .collect()
}

/// Instances of the given clusters still there.
pub async fn instances_of(f: &Flow, clusters: &[String]) -> Vec<String> {
    let out = f
        .rds
        .describe_db_instances()
        .send()
        .await
        .expect("describe");
    out.db_instances()
        .iter()
        .filter(|i| {
            i.db_cluster_identifier()
                .is_some_and(|c| clusters.iter().any(|x| x == c))
        })
        .filter_map(|i| i.db_instance_identifier().map(str::to_string))
        .collect()
}

/// Secrets tagged as this flow's manager's: (name, scheduled for deletion).
pub async fn managed_secrets(f: &Flow) -> Vec<(String, bool)> {
    let sm = aws_sdk_secretsmanager::Client::new(&super::moto::check_config());
    let mut all = Vec::new();
    let mut pages = sm
        .list_secrets()
        .include_planned_deletion(true)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        all.extend(page.expect("list secrets").secret_list().to_vec());
    }
    all.iter()
        .filter(|s| {
            s.tags()
                .iter()
                .any(|t| t.key() == Some(MANAGED_BY) && t.value() == Some(f.stack.as_str()))
        })
        .map(|s| {
            (
                s.name().unwrap_or_default().to_string(),
                s.deleted_date().is_some(),
            )
        })
        .collect()
}

/// Request items not yet done, and reap items, in the flow's state table.
pub async fn open_state(f: &Flow) -> Vec<String> {
    let ddb = aws_sdk_dynamodb::Client::new(&super::moto::check_config());
    let out = ddb
        .scan()
        .table_name(&f.settings.state_table)
        .send()
        .await
        .expect("scan");
    out.items()
        .iter()
        .filter(|i| {
            let pk = i
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let state = i.get("state").and_then(|v| v.as_s().ok()).cloned();
            pk.starts_with("reap#")
                || pk == "maintain"
                || (pk.starts_with("request#") && state.as_deref() != Some("done"))
        })
        .map(|i| format!("{i:?}"))
        .collect()
}

/// KMS keys tagged as this flow's manager's: (id, scheduled for deletion).
pub async fn managed_keys(f: &Flow) -> Vec<(String, bool)> {
    let kms = aws_sdk_kms::Client::new(&super::moto::check_config());
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut pages = kms.list_keys().limit(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("list keys");
        ids.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
    }
    for id in &ids {
        let Ok(tags) = kms.list_resource_tags().key_id(id).send().await else {
            continue;
        };
        let ours = tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == MANAGED_BY && t.tag_value() == f.stack);
        if ours {
            let meta = kms
                .describe_key()
                .key_id(id)
                .send()
                .await
                .expect("describe key");
            let state = meta.key_metadata().and_then(|m| m.key_state().cloned());
            let gone = state == Some(aws_sdk_kms::types::KeyState::PendingDeletion);
            out.push((id.to_string(), gone));
        }
    }
    out
}
