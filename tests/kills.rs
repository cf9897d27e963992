//! Kill at every step: a Create with SetPassword and its Delete, the process killed before its
//! N-th AWS call for every N up to the flow's length, then continued as Lambda would (the event
//! delivered again, the next follow-up tick) in a fresh process. Every time: exactly one outcome
//! per request reaches CloudFormation, one clone, one secret, and nothing is left behind.

mod support;

use serde_json::json;
use support::fault::{Fault, Faults};
use support::flow::Flow;
use support::survive::*;

struct Run {
    calls: u64,
    create: Vec<serde_json::Value>,
    delete: Vec<serde_json::Value>,
    clones_made: usize,
    leftovers: Vec<String>,
    secrets: Vec<(String, bool)>,
    keys: Vec<(String, bool)>,
    open: Vec<String>,
    restarts: i64,
    names: Vec<String>,
}

/// Create -> ready -> Delete, with the process killed at call `kill` (after setup) when given.
async fn lifecycle(kill: Option<(u64, Fault)>, own_key: bool) -> Run {
    let faults = Faults::default();
    let mut f = Flow::with_faults(&[], &faults).await;
    let start = faults.count();
    if let Some((n, how)) = kill {
        faults.set(move |i, _| if i == start + n { how } else { Fault::Pass });
    }
    let props = json!({"SourceClusterId": f.source, "SetPassword": "true",
        "ForceCreateKmsKey": own_key.to_string(),
        "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev", "Tags": {"team": "qa"}});
    let create = f.request("Create", props.clone());
    deliver(&mut f, &faults, &create).await;
    follow_ups(&mut f, &faults, 40).await;
    let create_out = outcomes(&f, &create);
    let clones_made = managed_clusters(&f).await.len();
    let mut delete = f.request("Delete", props);
    delete.physical_resource_id = create_out
        .first()
        .and_then(|a| a["PhysicalResourceId"].as_str())
        .map(str::to_string);
    deliver(&mut f, &faults, &delete).await;
    follow_ups(&mut f, &faults, 40).await;
    let mut leftovers = managed_clusters(&f).await;
    leftovers.extend(instances_of(&f, &leftovers.clone()).await);
    Run {
        calls: faults.count() - start,
        create: create_out,
        delete: outcomes(&f, &delete),
        clones_made,
        leftovers,
        secrets: managed_secrets(&f).await,
        keys: managed_keys(&f).await,
        open: open_state(&f).await,
        restarts: f.shift.load(std::sync::atomic::Ordering::SeqCst) / RESTART_SECS,
        names: faults.calls().split_off(start as usize),
    }
}

fn check(run: &Run, at: &str) {
    assert_eq!(
        run.create.len(),
        1,
        "{at}: Create outcomes {:?}",
        run.create
    );
    assert_eq!(run.create[0]["Status"], "SUCCESS", "{at}: {:?}", run.create);
    assert_eq!(
        run.delete.len(),
        1,
        "{at}: Delete outcomes {:?}",
        run.delete
    );
    assert_eq!(run.delete[0]["Status"], "SUCCESS", "{at}: {:?}", run.delete);
    assert_eq!(run.clones_made, 1, "{at}: one clone");
    assert!(
        run.leftovers.is_empty(),
        "{at}: left behind {:?}",
        run.leftovers
    );
    assert_eq!(run.secrets.len(), 1, "{at}: one secret {:?}", run.secrets);
    assert!(
        run.secrets.iter().all(|(_, gone)| *gone),
        "{at}: secret kept {:?}",
        run.secrets
    );
    assert!(run.open.is_empty(), "{at}: state left {:?}", run.open);
    assert!(run.keys.len() <= 1, "{at}: one key at most {:?}", run.keys);
    assert!(
        run.keys.iter().all(|(_, gone)| *gone),
        "{at}: key kept {:?}",
        run.keys
    );
}

async fn every_kill_point(own_key: bool) {
    let clean = lifecycle(None, own_key).await;
    check(&clean, "no kill");
    assert_eq!(clean.keys.len(), usize::from(own_key), "{:?}", clean.keys);
    let length = clean.calls;
    eprintln!("the flow's calls: {:?}", clean.names);
    assert!(length >= 20, "the flow makes {length} calls");
    let mut points = 0;
    for n in 1..=length {
        let name = &clean.names[n as usize - 1];
        // A read has no effect to kill after: killing after it is the same as before the next.
        let read = ["Describe", "Scan", "Get", "List"]
            .iter()
            .any(|r| name.contains(r));
        let ways: &[Fault] = if read {
            &[Fault::Kill]
        } else {
            &[Fault::Kill, Fault::KillAfter]
        };
        for &how in ways {
            points += 1;
            let run = lifecycle(Some((n, how)), own_key).await;
            let at = format!(
                "{how:?} at call {n} of {length} ({})",
                clean.names[n as usize - 1]
            );
            check(&run, &at);
            assert!(run.restarts >= 1, "{at}: the kill never fired");
        }
    }
    eprintln!("kill points: {points} ({length} calls; killed before each, and after each write)");
}

/// Both variants in one test, one after the other: with the AWS-managed key, and with a key
/// made for the clone alone (KMS has no idempotent CreateKey).
#[tokio::test]
async fn killed_at_every_step_each_request_gets_one_outcome_and_nothing_is_left() {
    every_kill_point(false).await;
    every_kill_point(true).await;
}
