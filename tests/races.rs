//! Interleaved invocations over fakes that lag like AWS, with paused time: duplicate deliveries
//! straddling a second, a tick, an RDS event and a redelivery at once, placements contending
//! for a volume's last slot, and 40% of all calls throttled. One clone per request, one outcome
//! per request, never more than 15 clones on a volume.

mod support;

use aurora_clone_manager::fakes::FakeRds;
use serde_json::{json, Value};
use std::time::Duration;
use support::values::distinct;
use support::world::*;

fn lagging() -> FakeRds {
    FakeRds::with_delays(Duration::from_secs(120), Duration::from_secs(60))
        .and_latency(Duration::from_millis(700))
}

/// The distinct bodies sent for `r` (a resend of the same body counts once).
fn outcomes(w: &World, r: &aurora_clone_manager::cfn::CfnRequest) -> Vec<Value> {
    distinct(w.answer_for(r))
}

fn clones(w: &World) -> Vec<String> {
    w.rds
        .cluster_ids()
        .into_iter()
        .filter(|id| id != "orders")
        .collect()
}

#[tokio::test(start_paused = true)]
async fn duplicate_deliveries_straddling_a_second_make_one_clone() {
    let w = World::with_rds(lagging());
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    let late = async {
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        w.deliver(&create).await
    };
    tokio::join!(w.deliver(&create), late);
    w.ticks_until_answers(1, 30).await;
    for _ in 0..3 {
        w.tick().await;
    }
    assert_eq!(clones(&w).len(), 1, "{:?}", clones(&w));
    let out = outcomes(&w, &create);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS");
}

#[tokio::test(start_paused = true)]
async fn a_tick_an_rds_event_and_a_redelivery_at_once_settle_on_one_outcome() {
    let w = World::with_rds(lagging());
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    let rds_event = json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event",
        "detail": {"EventID": "RDS-EVENT-0005"}});
    let follow_up = json!({"source": "aurora-clone-manager", "action": "follow-up"});
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let at = |e: Value| w.handle(e);
        let _ = tokio::join!(
            at(follow_up.clone()),
            at(rds_event.clone()),
            w.deliver(&create)
        );
    }
    assert_eq!(clones(&w).len(), 1);
    let out = outcomes(&w, &create);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS");
    let ready: Vec<_> = w
        .events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == "lifecycle-event/instance-ready")
        .collect();
    assert_eq!(ready.len(), 1, "one ready event: {ready:?}");
}

#[tokio::test(start_paused = true)]
async fn placements_contending_for_the_last_slot_without_copies_fail_one() {
    let w = World::with_rds(lagging());
    for _ in 0..14 {
        let r = w.request("Create", json!({"SourceClusterId": "orders"}));
        w.deliver(&r).await;
        w.ticks_until_answers(w.answers().len() + 1, 60).await;
    }
    let racers: Vec<_> = (0..2)
        .map(|_| {
            w.request(
                "Create",
                json!({"SourceClusterId": "orders", "CopyOk": "false"}),
            )
        })
        .collect();
    tokio::join!(w.deliver(&racers[0]), w.deliver(&racers[1]));
    w.ticks_until_answers(16, 60).await;
    let statuses: Vec<Value> = racers
        .iter()
        .map(|r| outcomes(&w, r)[0]["Status"].clone())
        .collect();
    assert!(
        statuses.contains(&json!("SUCCESS")) && statuses.contains(&json!("FAILED")),
        "{statuses:?}"
    );
    assert_eq!(clones(&w).len(), 15, "never more than 15 on the volume");
    assert_eq!(w.rds.silent_full_copies(), 0);
}

/// 40% of all attempts throttled, RDS and the state table alike (the SDK's three attempts
/// still fail 6% of calls): the requests end SUCCESS, through the follow-ups.
#[tokio::test(start_paused = true)]
async fn forty_percent_throttled_still_creates_and_deletes() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(120),
        Duration::from_secs(60),
    ));
    w.rds.throttle_percent(40);
    w.state.throttle_percent(40);
    let create = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "SetPassword": "true"}),
    );
    w.deliver(&create).await;
    w.ticks_until_answers(1, 60).await;
    let out = outcomes(&w, &create);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS", "{out:?}");
    let mut delete = w.request("Delete", json!({"SourceClusterId": "orders"}));
    delete.physical_resource_id = out[0]["PhysicalResourceId"].as_str().map(str::to_string);
    w.deliver(&delete).await;
    for _ in 0..60 {
        if !w.follow_ups.enabled() && !w.answer_for(&delete).is_empty() {
            break;
        }
        w.tick().await;
    }
    let del = outcomes(&w, &delete);
    assert_eq!(del.len(), 1, "{del:?}");
    assert_eq!(del[0]["Status"], "SUCCESS", "{del:?}");
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(
        clones(&w).is_empty(),
        "RDS finished the deletion: {:?}",
        clones(&w)
    );
    assert!(w.state.open_requests().is_empty());
}

/// Every state write's reply lost once (the write took effect; the caller saw an error).
#[tokio::test(start_paused = true)]
async fn lost_state_replies_never_make_two_outcomes() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(120),
        Duration::from_secs(60),
    ));
    w.state
        .lose_replies_of_writes(&(1..=60).step_by(2).collect::<Vec<_>>());
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.ticks_until_answers(1, 60).await;
    for _ in 0..3 {
        w.tick().await;
    }
    let out = outcomes(&w, &create);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS");
    assert_eq!(clones(&w).len(), 1);
}

/// The ResponseURL refusing three PUTs: the answer is resent until delivered.
#[tokio::test(start_paused = true)]
async fn a_refused_response_is_resent_until_delivered() {
    let w = World::with_rds(FakeRds::with_delays(
        Duration::from_secs(120),
        Duration::from_secs(60),
    ));
    let create = w.request("Create", json!({"SourceClusterId": "orders"}));
    w.deliver(&create).await;
    w.responder.fail_next(3);
    w.ticks_until_answers(1, 60).await;
    assert!(w.responder.attempts() >= 4);
    assert_eq!(outcomes(&w, &create)[0]["Status"], "SUCCESS");
    for _ in 0..3 {
        w.tick().await;
    }
    assert_eq!(w.answer_for(&create).len(), 1, "delivered once, then done");
    assert!(!w.follow_ups.enabled());
}

/// Issue 9.3: two invocations advancing one record, both finding its clone absent, for the
/// volume's last slot: the second places on a view taken under the lease, sees the first's
/// clone, and neither fails the request nor makes a copy.
#[tokio::test(start_paused = true)]
async fn two_invocations_placing_one_request_never_fail_it() {
    let w = World::with_rds(lagging());
    for _ in 0..14 {
        let r = w.request("Create", json!({"SourceClusterId": "orders"}));
        w.deliver(&r).await;
        w.ticks_until_answers(w.answers().len() + 1, 60).await;
    }
    let last = w.request(
        "Create",
        json!({"SourceClusterId": "orders", "CopyOk": "false"}),
    );
    // Recorded, then out of time before its first step: it waits for the follow-ups.
    w.deliver_with_deadline(&last, Duration::from_secs(20))
        .await;
    assert!(w.answer_for(&last).is_empty());
    let tick = json!({"source": "aurora-clone-manager", "action": "follow-up"});
    let rds_event =
        json!({"source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {}});
    let at = |e: Value| w.handle(e);
    let _ = tokio::join!(at(tick.clone()), at(rds_event));
    w.ticks_until_answers(15, 60).await;
    let out = outcomes(&w, &last);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["Status"], "SUCCESS", "{out:?}");
    assert_eq!(clones(&w).len(), 15);
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        15,
        "no copy, no second restore"
    );
}
