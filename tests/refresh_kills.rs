//! A refresh killed at every kind of step: the process dies (a panic, as a frozen or killed
//! Lambda leaves its work) at the next call of each RDS operation a refresh makes, at each point
//! in the refresh where that operation is due, and the follow-ups carry on. Also replies lost
//! after the ledger's and the state table's writes took effect. Every time: one clone serves
//! under its name with the clone's password, the refresh is over, and nothing is left behind.

mod support;

use serde_json::{json, Value};
use support::world::*;

const OPS: [&str; 6] = [
    "RestoreDBClusterToPointInTime",
    "CreateDBInstance",
    "ModifyDBCluster",
    "ModifyDBInstance",
    "DeleteDBInstance",
    "DeleteDBCluster",
];

/// A clone with its own password, refreshed, with `fault` armed once the refresh has made
/// `after` calls of `op` (`None`: no fault); the world afterwards and the clone's id.
async fn refreshed(fault: Option<(&'static str, usize)>) -> (World, String, String, Vec<usize>) {
    // `base`: each operation's calls before the refresh (the Create's).
    let w = World::with_rds(quick_rds());
    let props = json!({"SourceClusterId": "orders", "SetPassword": "true"});
    let a = w.answered(&w.request("Create", props), 40).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    let secret = a["Data"]["PasswordSecretArn"].as_str().unwrap().to_string();
    let base: Vec<usize> = OPS.iter().map(|op| w.rds.count_calls(op)).collect();
    let refresh = json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": id});
    w.handle(refresh).await.unwrap();
    let mut armed = fault.is_none();
    for _ in 0..120 {
        if let (false, Some((op, after))) = (armed, fault) {
            let i = OPS.iter().position(|o| *o == op).unwrap_or(0);
            if w.rds.count_calls(op) >= base[i] + after {
                w.rds.panic_next(op);
                armed = true;
            }
        }
        if armed && w.state.refreshes().is_empty() && w.state.reaps().is_empty() {
            break;
        }
        w.tick().await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    w.handle(json!({"source": "events", "action": "maintain!"}))
        .await
        .unwrap();
    (w, id, secret, base)
}

fn check(w: &World, id: &str, secret: &str, at: &str) {
    assert!(
        w.state.refreshes().is_empty(),
        "{at}: refresh left {:?}",
        w.state.refreshes()
    );
    assert!(
        w.state.reaps().is_empty(),
        "{at}: removal work left {:?}",
        w.state.reaps()
    );
    assert_eq!(
        w.rds.cluster_ids(),
        vec!["orders".to_string(), id.to_string()],
        "{at}: clusters"
    );
    assert_eq!(w.ledger.all().len(), 1, "{at}: deeds {:?}", w.ledger.all());
    assert_eq!(
        w.rds.password_of(id),
        Some(password_in(w, secret)),
        "{at}: the clone's password"
    );
    let outcomes = events(w, "lifecycle-event/clone-refreshed").len()
        + events(w, "lifecycle-event/clone-refresh-failed").len();
    assert_eq!(outcomes, 1, "{at}: one outcome announced");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_killed_at_every_kind_of_step_leaves_one_serving_clone() {
    let (clean, id, secret, base) = refreshed(None).await;
    check(&clean, &id, &secret, "no kill");
    assert_eq!(events(&clean, "lifecycle-event/clone-refreshed").len(), 1);
    let (mut points, mut fired) = (0, 0);
    for (i, op) in OPS.iter().enumerate() {
        // Each call of the operation the refresh made (the Create's are counted in `base`).
        for after in 0..clean.rds.count_calls(op) - base[i] {
            points += 1;
            let (w, id, secret, _) = refreshed(Some((op, after))).await;
            if w.rds.pending_panics() == 0 {
                fired += 1;
            }
            let at = format!("killed before {op} #{}", after + 1);
            check(&w, &id, &secret, &at);
        }
    }
    eprintln!("kill points: {points}, of which the kill fired at {fired}");
    assert!(fired >= 8, "{fired} of {points} kills fired");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_whose_writes_lose_their_replies_finishes_once() {
    for lost in 1..=6u32 {
        let w = World::with_rds(quick_rds());
        let props = json!({"SourceClusterId": "orders", "SetPassword": "true"});
        let a = w.answered(&w.request("Create", props), 40).await;
        let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
        let secret = a["Data"]["PasswordSecretArn"].as_str().unwrap().to_string();
        let writes = w.state.writes();
        w.state
            .lose_replies_of_writes(&[writes + u64::from(lost), writes + 2 * u64::from(lost)]);
        w.ledger.lose_replies(lost);
        let refresh: Value =
            json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": id});
        w.handle(refresh).await.unwrap();
        for _ in 0..120 {
            if w.state.refreshes().is_empty() && w.state.reaps().is_empty() {
                break;
            }
            w.tick().await;
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        w.handle(json!({"source": "events", "action": "maintain!"}))
            .await
            .unwrap();
        check(&w, &id, &secret, &format!("replies lost ({lost})"));
    }
}
