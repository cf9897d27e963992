//! Refresh in place over fakes that lag as RDS does (a rename takes minutes, and the old name
//! answers `NotFound` before the new one is listed), with paused time: a refresh keeps the
//! clone's identifier, endpoint, port, secret, password and PhysicalResourceId and brings newer
//! data; a refresh whose source is gone, forged, doubled or raced by a Delete leaves one serving
//! clone and no leftovers.

mod support;

use aurora_clone_manager::domain::refresh::schedule_name;
use serde_json::{json, Value};
use std::time::Duration;
use support::world::*;

const HOUR: Duration = Duration::from_secs(3600);

fn refresh_of(id: &str) -> Value {
    json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": id})
}

/// A clone with its own password and a nightly refresh, answered SUCCESS.
async fn clone(w: &World) -> Value {
    let props = json!({"SourceClusterId": "orders", "SetPassword": "true",
        "RefreshSchedule": "cron(0 5 * * ? *)", "RefreshTimezone": "Europe/Berlin",
        "Tags": [{"Key": "team", "Value": "qa"}]});
    let r = w.request("Create", props);
    let a = w.answered(&r, 40).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    a
}

/// A world with one such clone: the world, the clone's answer, its identifier.
async fn cloned() -> (World, Value, String) {
    let w = World::with_rds(quick_rds());
    let a = clone(&w).await;
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    (w, a, id)
}

/// CloudFormation's Delete of the resource whose answer was `a`.
fn delete_of(w: &World, a: &Value) -> aurora_clone_manager::cfn::CfnRequest {
    aurora_clone_manager::cfn::CfnRequest {
        request_type: aurora_clone_manager::cfn::RequestType::Delete,
        ..w.update_of(a, json!({}), json!({}))
    }
}

/// Follow-ups until no refresh is recorded (`max` minutes at most); the ticks it took.
async fn until_refreshed(w: &World, max: usize) -> usize {
    for i in 0..max {
        if w.state.refreshes().is_empty() {
            return i;
        }
        w.tick().await;
    }
    panic!(
        "the refresh was still recorded after {max} follow-ups: {:?}",
        w.state.refreshes()
    );
}

/// Follow-ups until no removal work is left, RDS has finished deleting, and the daily
/// maintenance has struck the deeds of what is gone.
async fn until_reaped(w: &World) {
    for _ in 0..90 {
        w.tick().await;
        if w.state.reaps().is_empty() {
            tokio::time::sleep(10 * 60 * Duration::from_secs(1)).await;
            let maintain = json!({"source": "events", "action": "maintain!"});
            w.handle(maintain).await.expect("maintenance");
            return;
        }
    }
    panic!("removal work left: {:?}", w.state.reaps());
}

#[tokio::test(start_paused = true)]
async fn a_refresh_keeps_the_clones_address_and_credentials_and_brings_newer_data() {
    let w = World::with_rds(quick_rds());
    let a = clone(&w).await;
    let data = &a["Data"];
    let id = data["ClusterId"].as_str().unwrap().to_string();
    let schedule = w
        .schedules
        .recurring()
        .remove(&schedule_name(&id))
        .expect("a refresh schedule");
    assert_eq!(schedule.expression, "cron(0 5 * * ? *)");
    assert_eq!(schedule.timezone.as_deref(), Some("Europe/Berlin"));
    let secret = data["PasswordSecretArn"].as_str().unwrap().to_string();
    let before = w.rds.tags_of(&id);
    tokio::time::sleep(24 * HOUR).await;
    // The schedule fires: the function is invoked with its input.
    let asked = w
        .handle(serde_json::from_str(&schedule.input).unwrap())
        .await
        .unwrap();
    assert_eq!(asked["started"], true, "{asked}");
    until_refreshed(&w, 60).await;
    until_reaped(&w).await;

    let now = w
        .flows()
        .deeds
        .observe_cluster(&id)
        .await
        .unwrap()
        .expect("the clone serves");
    assert!(now.is_available());
    assert_eq!(
        now.endpoint.as_deref(),
        data["Endpoint"].as_str(),
        "same host name"
    );
    assert_eq!(
        now.port.map(|p| p.to_string()).as_deref(),
        data["Port"].as_str()
    );
    assert_eq!(
        now.arn,
        data["Arn"].as_str().unwrap(),
        "same ARN, the PhysicalResourceId"
    );
    assert_eq!(now.secret_arn(), Some(secret.as_str()), "same secret");
    assert_eq!(
        now.writer(),
        data["InstanceId"].as_str(),
        "same writer name"
    );
    assert_eq!(
        w.rds.password_of(&id),
        Some(password_in(&w, &secret)),
        "the secret's password opens the new clone"
    );
    let (old, new) = (
        before["aurora-clone-manager:data-timestamp"].clone(),
        now.tags["aurora-clone-manager:data-timestamp"].clone(),
    );
    assert!(new > old, "newer data: {old} -> {new}");
    assert_eq!(
        now.tags.get("team").map(String::as_str),
        Some("qa"),
        "the user's tags stay"
    );
    assert_eq!(
        w.rds.cluster_ids(),
        vec!["orders".to_string(), id.clone()],
        "no leftovers"
    );
    assert_eq!(w.ledger.all().len(), 1, "one deed: the clone's");
    let refreshed = events(&w, "lifecycle-event/clone-refreshed");
    assert_eq!(refreshed.len(), 1, "{refreshed:?}");
    assert_eq!(refreshed[0]["clusterId"], id.as_str());
    assert_eq!(refreshed[0]["previousDataTimestamp"], old.as_str());
    assert_eq!(events(&w, "lifecycle-event/clone-refresh-started").len(), 1);
    assert!(
        events(&w, "lifecycle-event/clone-deleted").is_empty(),
        "the retired cluster is no clone users know"
    );
}

#[tokio::test(start_paused = true)]
async fn forged_and_stale_refreshes_change_nothing() {
    let (w, a, id) = cloned().await;
    let restores = w.rds.count_calls("RestoreDBClusterToPointInTime");
    // The source, a cluster nobody made, a name never made: the ledger has no clone of them.
    for forged in ["orders", "someone-elses", "clone-never"] {
        let out = w.handle(refresh_of(forged)).await.unwrap();
        assert!(out["ignored"].is_string(), "{forged}: {out}");
    }
    // A refresh's own helper names are no clone either.
    let out = w
        .handle(refresh_of(&format!("{id}-rabc123")))
        .await
        .unwrap();
    assert!(out["ignored"].is_string(), "{out}");
    // After the clone is deleted, its schedule's last firing does nothing.
    let delete = delete_of(&w, &a);
    w.answered(&delete, 5).await;
    assert!(
        w.schedules.recurring().is_empty(),
        "the refresh schedule went with the clone"
    );
    let out = w.handle(refresh_of(&id)).await.unwrap();
    assert!(out["ignored"].is_string(), "{out}");
    assert!(w.state.refreshes().is_empty());
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        restores,
        "nothing restored"
    );
}

#[tokio::test(start_paused = true)]
async fn two_refreshes_at_once_make_one() {
    let (w, _, id) = cloned().await;
    let restores = w.rds.count_calls("RestoreDBClusterToPointInTime");
    let (one, two) = tokio::join!(w.handle(refresh_of(&id)), w.handle(refresh_of(&id)));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one["attempt"], two["attempt"], "one attempt: {one} {two}");
    assert_ne!(one["started"], two["started"], "one started, one joined");
    until_refreshed(&w, 60).await;
    assert_eq!(
        w.rds.count_calls("RestoreDBClusterToPointInTime"),
        restores + 1
    );
    assert_eq!(events(&w, "lifecycle-event/clone-refreshed").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_whose_source_is_gone_leaves_the_clone_serving() {
    let (w, _, id) = cloned().await;
    w.rds.vanish("orders");
    w.handle(refresh_of(&id)).await.unwrap();
    until_refreshed(&w, 30).await;
    let failed = events(&w, "lifecycle-event/clone-refresh-failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("orders"),
        "{}",
        failed[0]
    );
    let now = w
        .flows()
        .deeds
        .observe_cluster(&id)
        .await
        .unwrap()
        .expect("still serving");
    assert!(now.is_available());
    assert_eq!(
        now.deed.as_ref().and_then(|d| d.refreshing.clone()),
        None,
        "its mark cleared"
    );
    until_reaped(&w).await;
    assert_eq!(w.rds.cluster_ids(), vec![id], "no leftovers");
    assert_eq!(w.ledger.all().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_under_throttling_and_lost_replies_finishes_once() {
    let (w, a, id) = cloned().await;
    w.rds.throttle_percent(40);
    w.state.throttle_percent(20);
    w.ledger.lose_replies(3);
    w.handle(refresh_of(&id)).await.unwrap();
    until_refreshed(&w, 120).await;
    w.rds.throttle_percent(0);
    w.state.throttle_percent(0);
    until_reaped(&w).await;
    assert_eq!(events(&w, "lifecycle-event/clone-refreshed").len(), 1);
    assert!(events(&w, "lifecycle-event/clone-refresh-failed").is_empty());
    let now = w
        .flows()
        .deeds
        .observe_cluster(&id)
        .await
        .unwrap()
        .expect("serving");
    assert_eq!(now.secret_arn(), a["Data"]["PasswordSecretArn"].as_str());
    assert_eq!(w.rds.cluster_ids(), vec!["orders".to_string(), id]);
}

#[tokio::test(start_paused = true)]
async fn a_delete_during_a_refresh_waits_for_it_and_leaves_nothing() {
    let (w, a, id) = cloned().await;
    w.handle(refresh_of(&id)).await.unwrap();
    w.tick().await;
    let delete = delete_of(&w, &a);
    let answer = w.answered(&delete, 40).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    until_refreshed(&w, 30).await;
    until_reaped(&w).await;
    assert_eq!(
        w.rds.cluster_ids(),
        vec!["orders".to_string()],
        "nothing left"
    );
    assert!(
        w.ledger.all().iter().all(|d| d.deleting),
        "{:?}",
        w.ledger.all()
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_of_the_refresh_schedule_changes_it_in_place() {
    let (w, a, id) = cloned().await;
    let old = json!({"SourceClusterId": "orders", "SetPassword": "true",
        "RefreshSchedule": "cron(0 5 * * ? *)", "RefreshTimezone": "Europe/Berlin",
        "Tags": [{"Key": "team", "Value": "qa"}]});
    let mut new = old.clone();
    new["RefreshSchedule"] = json!("rate(12 hours)");
    let u = w.update_of(&a, old.clone(), new.clone());
    let answer = w.answered(&u, 10).await;
    assert_in_place(&a, &answer);
    let s = w
        .schedules
        .recurring()
        .remove(&schedule_name(&id))
        .expect("schedule");
    assert_eq!(s.expression, "rate(12 hours)");
    let mut none = new.clone();
    none.as_object_mut().unwrap().remove("RefreshSchedule");
    none.as_object_mut().unwrap().remove("RefreshTimezone");
    let u = w.update_of(&a, new, none);
    assert_in_place(&a, &w.answered(&u, 10).await);
    assert!(
        w.schedules.recurring().is_empty(),
        "no refresh asked for: no schedule"
    );
}

/// What one refresh costs, over the fake that lags as RDS does (restore and writer a minute
/// each here, a rename four minutes): RDS calls, state-table calls and follow-ups, held under a
/// budget so that a change that makes a refresh chattier fails here.
#[tokio::test(start_paused = true)]
async fn a_refresh_stays_within_its_call_budget() {
    let (w, _, id) = cloned().await;
    let (rds, state) = (w.rds.calls().len(), w.state.call_count());
    let started = tokio::time::Instant::now();
    w.handle(refresh_of(&id)).await.unwrap();
    let ticks = until_refreshed(&w, 60).await;
    let mut by_call = std::collections::BTreeMap::<String, usize>::new();
    for call in &w.rds.calls()[rds..] {
        *by_call.entry(call.clone()).or_default() += 1;
    }
    let (rds, state) = (w.rds.calls().len() - rds, w.state.call_count() - state);
    let minutes = started.elapsed().as_secs() / 60;
    eprintln!("refresh: {rds} RDS calls {by_call:?}, {state} state-table calls, {ticks} follow-ups, {minutes} min");
    assert!(rds <= 80, "{rds} RDS calls: {by_call:?}");
    assert_eq!(
        by_call.get("RestoreDBClusterToPointInTime"),
        Some(&1),
        "one restore"
    );
    // Two writer renames; a rename RDS refuses while the other still holds the name is tried
    // again at the next follow-up.
    let writer_renames = by_call.get("ModifyDBInstance").copied().unwrap_or(0);
    assert!((2..=8).contains(&writer_renames), "{by_call:?}");
    assert!(state <= 60, "{state} state-table calls");
    assert!(ticks <= 25, "{ticks} follow-ups");
}

/// CloudFormation's Update of a clone being refreshed: during the cut-over it waits (the names
/// are moving; a look then would find no clone and replace it), and is then made in place on
/// the refreshed clone, its id unchanged. Before the cut-over, the refresh gives way to it.
#[tokio::test(start_paused = true)]
async fn an_update_waits_for_a_cut_over_and_a_refresh_gives_way_before_one() {
    let (w, a, id) = cloned().await;
    let old = json!({"SourceClusterId": "orders", "SetPassword": "true",
        "RefreshSchedule": "cron(0 5 * * ? *)", "RefreshTimezone": "Europe/Berlin",
        "Tags": [{"Key": "team", "Value": "qa"}]});
    let mut new = old.clone();
    new["Tags"] = json!([{"Key": "team", "Value": "data"}]);
    // During the cut-over.
    w.handle(refresh_of(&id)).await.unwrap();
    for _ in 0..40 {
        if w.state.refreshes().first().is_some_and(|r| r.renamed >= 2) {
            break;
        }
        w.tick().await;
    }
    assert!(
        w.state.refreshes().first().is_some_and(|r| r.renamed >= 2),
        "cutting over"
    );
    let u = w.update_of(&a, old.clone(), new.clone());
    let answer = w.answered(&u, 40).await;
    assert_in_place(&a, &answer);
    assert!(w.state.refreshes().is_empty(), "the refresh finished first");
    assert_eq!(events(&w, "lifecycle-event/clone-refreshed").len(), 1);
    assert_eq!(
        w.rds.tags_of(&id).get("team").map(String::as_str),
        Some("data")
    );
    // Before the cut-over: the refresh gives way, the Update is made at once.
    w.handle(refresh_of(&id)).await.unwrap();
    w.tick().await;
    let u = w.update_of(&a, new.clone(), old);
    let answer = w.answered(&u, 40).await;
    assert_in_place(&a, &answer);
    until_refreshed(&w, 10).await;
    let failed = events(&w, "lifecycle-event/clone-refresh-failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    until_reaped(&w).await;
    assert_eq!(w.rds.cluster_ids(), vec!["orders".to_string(), id]);
}
