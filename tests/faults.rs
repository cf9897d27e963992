//! The real adapters against moto through a fault layer: throttling in the services' own error
//! shapes, replies lost after the write took effect, and a ResponseURL that refuses or hangs.
//! Each flow still ends with one outcome per request and nothing left behind.

mod support;

use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use support::fault::{Fault, Faults};
use support::flow::Flow;
use support::survive::*;

/// Create (with SetPassword) -> ready -> Delete under the faults already set.
async fn lifecycle(f: &mut Flow, faults: &Faults) {
    let props = json!({"SourceClusterId": f.source, "SetPassword": "true"});
    let create = f.request("Create", props.clone());
    deliver(f, faults, &create).await;
    follow_ups(f, faults, 60).await;
    let out = outcomes(f, &create);
    assert_eq!(out.len(), 1, "one outcome: {out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS", "{out:?}");
    let mut delete = f.request("Delete", props);
    delete.physical_resource_id = out[0]["PhysicalResourceId"].as_str().map(str::to_string);
    deliver(f, faults, &delete).await;
    follow_ups(f, faults, 60).await;
    let del = outcomes(f, &delete);
    assert_eq!(del.len(), 1, "one outcome: {del:?}");
    assert_eq!(del[0]["Status"], "SUCCESS", "{del:?}");
    assert!(managed_clusters(f).await.is_empty());
    let secrets = managed_secrets(f).await;
    assert!(secrets.len() == 1 && secrets[0].1, "{secrets:?}");
    assert!(open_state(f).await.is_empty());
}

#[tokio::test]
async fn forty_percent_of_rds_and_state_calls_throttled() {
    let faults = Faults::default();
    let mut f = Flow::with_faults(&[], &faults).await;
    let mut draw = 0x2545_f491_4f6c_dd1du64;
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    faults.set(move |_, op| {
        draw ^= draw << 13;
        draw ^= draw >> 7;
        draw ^= draw << 17;
        if draw % 100 < 40 && (op.starts_with("rds:") || op.starts_with("dynamodb:")) {
            h.fetch_add(1, Ordering::SeqCst);
            Fault::Throttle
        } else {
            Fault::Pass
        }
    });
    lifecycle(&mut f, &faults).await;
    let (hits, calls) = (hits.load(Ordering::SeqCst), faults.calls().len());
    eprintln!("throttled {hits} of {calls} attempts");
    assert!(hits >= 10, "throttled {hits} of {calls}");
}

#[tokio::test]
async fn every_state_write_loses_its_first_reply() {
    let faults = Faults::default();
    let mut f = Flow::with_faults(&[], &faults).await;
    let mut last = String::new();
    let lost = Arc::new(AtomicU32::new(0));
    let l = lost.clone();
    faults.set(move |_, op| {
        let write = [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ]
        .contains(&op);
        // The SDK retries the same call at once: lose only its first attempt.
        let first = last != op;
        last = op.to_string();
        if write && first {
            l.fetch_add(1, Ordering::SeqCst);
            Fault::LoseReply
        } else {
            Fault::Pass
        }
    });
    lifecycle(&mut f, &faults).await;
    let lost = lost.load(Ordering::SeqCst);
    eprintln!("state writes whose reply was lost: {lost}");
    assert!(lost >= 8, "lost {lost}");
}

#[tokio::test]
async fn a_response_url_that_refuses_or_hangs_is_answered_all_the_same() {
    let faults = Faults::default();
    let mut f = Flow::with_faults(&[], &faults).await;
    // Three 500s, then a PUT that never answers (cut at the attempt timeout), then 200s.
    f.capture.fail_next(&[500, 500, 500, 0]);
    lifecycle(&mut f, &faults).await;
    assert!(
        f.capture.requests().len() >= 6,
        "every refused PUT was resent"
    );
}

/// RDS refusing with 5xx and lost replies on RDS writes: the restore, the writer and the
/// deletions are each made once.
#[tokio::test]
async fn rds_server_errors_and_lost_replies() {
    let faults = Faults::default();
    let mut f = Flow::with_faults(&[], &faults).await;
    let mut n = 0u32;
    faults.set(move |_, op| {
        n += 1;
        match op {
            "rds:CreateDBInstance" | "rds:DeleteDBInstance" | "rds:ModifyDBCluster"
                if n.is_multiple_of(2) =>
            {
                Fault::LoseReply
            }
            o if o.starts_with("rds:Describe") && n.is_multiple_of(3) => Fault::ServerError,
            _ => Fault::Pass,
        }
    });
    lifecycle(&mut f, &faults).await;
}
