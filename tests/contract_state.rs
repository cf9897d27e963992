//! The contracts of the ports in the stack's state table, each run against the DynamoDB adapter
//! on moto and against the in-memory one the CLI and the fakes use: the state store (the same
//! conditional transitions settle the same way in both, lost replies included), the
//! ownership ledger (a deed entered once, amended against its version, struck) and refreshes
//! (one per clone, begun if absent, amended against their version, ended by their attempt).

mod support;

use aurora_clone_manager::adapters::dynamo::{DynamoLedger, DynamoRefreshes, DynamoState};
use aurora_clone_manager::adapters::memory::MemoryState;
use aurora_clone_manager::cfn::Outcome;
use aurora_clone_manager::domain::events::InstanceReady;
use aurora_clone_manager::domain::ledger::Made;
use aurora_clone_manager::domain::refresh::{RefreshItem, RefreshStage};
use aurora_clone_manager::domain::{Cluster, Deed, Role};
use aurora_clone_manager::fakes::FakeLedger;
use aurora_clone_manager::ports::{Entered, Ledger, Refreshes, StateStore};
use aurora_clone_manager::state::{Answer, MaintainItem, Phase, ReapItem, RequestRecord, Work};
use serde_json::json;
use support::moto::{sdk_config, state_table, unique};
use support::values::cfn_request;

fn record(id: &str, cluster: &str) -> RequestRecord {
    let props = json!({"SourceClusterId": "o"});
    RequestRecord {
        request: cfn_request("Create", "s", id, "https://example/x", props),
        cluster_id: cluster.into(),
        fallback_id: None,
        received: 1_000,
        deadline: 4_000,
        adopted: false,
        preparation: None,
    }
}

fn answer(status_ok: bool) -> Answer {
    Answer {
        outcome: if status_ok {
            Outcome::success("arn:x", Default::default())
        } else {
            Outcome::failed("f", "no")
        },
        event: status_ok.then(|| Box::new(InstanceReady::of(&Cluster::new("c", "available")))),
        event_sent: false,
    }
}

async fn contract(store: &dyn StateStore) {
    let id = unique("req-");
    // Create-if-absent: a duplicate delivery gets the first record, not its own.
    let first = store.record(&record(&id, "c-1")).await.unwrap();
    assert_eq!((first.phase.clone(), first.version), (Phase::Pending, 1));
    let dup = store.record(&record(&id, "c-2")).await.unwrap();
    assert_eq!(dup.record.cluster_id, "c-1", "the stored record wins");

    // A revision is made against the version read, once.
    let mut moved = first.record.clone();
    moved.cluster_id = "c-3".into();
    let revised = store
        .revise(&first, &moved)
        .await
        .unwrap()
        .expect("revised");
    assert_eq!(revised.version, 2);
    assert!(
        store
            .revise(&first, &record(&id, "c-4"))
            .await
            .unwrap()
            .is_none(),
        "stale version"
    );
    assert_eq!(
        store.revise(&first, &moved).await.unwrap(),
        Some(revised.clone()),
        "the same revision again (its reply lost) reads as its own"
    );

    // The outcome is decided once: a second decision gets the first one back.
    let decided = store.decide(&id, &answer(true)).await.unwrap().unwrap();
    assert!(
        matches!(&decided.phase, Phase::Answering(a) if a.outcome.status == aurora_clone_manager::cfn::Status::Success)
    );
    let again = store.decide(&id, &answer(false)).await.unwrap().unwrap();
    assert_eq!(again.phase, decided.phase, "never two different outcomes");
    assert!(
        store.revise(&again, &moved).await.unwrap().is_none(),
        "answering: no revisions"
    );

    store.event_sent(&id).await.unwrap();
    let Some(item) = store.request(&id).await.unwrap() else {
        panic!("stored")
    };
    assert!(matches!(item.phase, Phase::Answering(ref a) if a.event_sent));

    store.finish(&id, 2_000).await.unwrap();
    store.finish(&id, 2_000).await.unwrap();
    assert_eq!(
        store.request(&id).await.unwrap().unwrap().phase,
        Phase::Done
    );
    assert!(
        store.decide(&id, &answer(false)).await.unwrap().is_none(),
        "done stays done"
    );
    assert_eq!(
        store.record(&record(&id, "c-9")).await.unwrap().phase,
        Phase::Done,
        "a late redelivery finds the request done"
    );

    leases(store).await;

    // Reap work: created once, updated, removed.
    let cluster = unique("gone-");
    let reap = ReapItem {
        cluster_id: cluster.clone(),
        request_id: None,
        since: 5,
        watch_until: 0,
        attempts: 0,
        last_error: None,
        given_up: false,
    };
    store.put_reap(&reap, true).await.unwrap();
    store
        .put_reap(
            &ReapItem {
                since: 9,
                ..reap.clone()
            },
            true,
        )
        .await
        .unwrap();
    let reaps = |w: Vec<Work>| {
        w.into_iter()
            .filter_map(|w| match w {
                Work::Reap(r) if r.cluster_id == cluster => Some(r),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reaps(store.list().await.unwrap())[0].since,
        5,
        "if absent keeps the first"
    );
    store
        .put_reap(
            &ReapItem {
                attempts: 3,
                ..reap.clone()
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(reaps(store.list().await.unwrap())[0].attempts, 3);
    store.remove_reap(&cluster).await.unwrap();
    assert!(reaps(store.list().await.unwrap()).is_empty());

    // Maintenance left for a follow-up: writers add sources to one item, taken once.
    let maintain = |sources: &[&str]| MaintainItem {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        dry_run: false,
        not_before: 7,
        version: 0,
    };
    store.put_maintain(&maintain(&["o"])).await.unwrap();
    store.put_maintain(&maintain(&["p", "o"])).await.unwrap();
    let m = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .find_map(|w| match w {
            Work::Maintain(m) => Some(m),
            _ => None,
        })
        .unwrap();
    assert_eq!(m.sources, vec!["o", "p"], "sources merged, never lost");
    assert!(store.take_maintain(m.version).await.unwrap());
    assert!(!store.take_maintain(m.version).await.unwrap());
}

/// Leases: one holder at a time; taken over only once expired; released by the holder only;
/// every new take a higher fencing number, checked at the table.
async fn leases(store: &dyn StateStore) {
    let lease = unique("place-");
    let a = store.take_lease(&lease, "a", 100, 60).await.unwrap();
    assert_eq!(a, Some(1), "the first take is fence 1");
    assert_eq!(
        store.take_lease(&lease, "a", 110, 60).await.unwrap(),
        a,
        "the holder renews, with the same fence"
    );
    assert_eq!(store.take_lease(&lease, "b", 120, 60).await.unwrap(), None);
    store.release_lease(&lease, "b").await.unwrap();
    assert_eq!(
        store.take_lease(&lease, "b", 121, 60).await.unwrap(),
        None,
        "b cannot release a's lease"
    );
    assert!(store.confirm_lease(&lease, "a", 1, 125).await.unwrap());
    let b = store.take_lease(&lease, "b", 171, 60).await.unwrap();
    assert_eq!(b, Some(2), "expired: taken over, with the next fence");
    assert!(
        !store.confirm_lease(&lease, "a", 1, 172).await.unwrap(),
        "the old holder learns it lost the lease"
    );
    assert!(store.confirm_lease(&lease, "b", 2, 172).await.unwrap());
    assert!(
        !store.confirm_lease(&lease, "b", 1, 172).await.unwrap(),
        "a stale fence"
    );
    store.release_lease(&lease, "a").await.unwrap();
    assert_eq!(
        store.take_lease(&lease, "c", 172, 60).await.unwrap(),
        None,
        "a's release does not free b's"
    );
    store.release_lease(&lease, "b").await.unwrap();
    assert!(
        !store.confirm_lease(&lease, "b", 2, 173).await.unwrap(),
        "released: held no more"
    );
    assert_eq!(
        store.take_lease(&lease, "c", 173, 60).await.unwrap(),
        Some(3),
        "a release keeps the number: never handed out twice"
    );
    assert_eq!(
        store.take_lease(&lease, "c", 240, 60).await.unwrap(),
        Some(4),
        "the holder's own lease, once expired, is taken anew"
    );
    assert!(
        !store.confirm_lease(&lease, "c", 4, 301).await.unwrap(),
        "expired: held no more"
    );
}

#[tokio::test]
async fn dynamodb_state_table_keeps_the_contract() {
    let conf = sdk_config();
    let table = state_table(&conf).await;
    contract(&DynamoState::new(
        aws_sdk_dynamodb::Client::new(&conf),
        table,
    ))
    .await;
}

#[tokio::test]
async fn memory_state_keeps_the_same_contract() {
    contract(&MemoryState::default()).await;
}

/// A write whose reply is lost takes effect: asked again, the store reads its own effect.
#[tokio::test]
async fn lost_replies_are_read_as_maybe_mine() {
    let store = MemoryState::default();
    store.lose_replies_of_writes(&[1, 3]);
    let id = "r-lost";
    assert!(store.record(&record(id, "c")).await.is_err(), "reply lost");
    assert_eq!(
        store
            .record(&record(id, "other"))
            .await
            .unwrap()
            .record
            .cluster_id,
        "c"
    );
    assert!(store.decide(id, &answer(true)).await.is_err(), "reply lost");
    let stored = store.decide(id, &answer(false)).await.unwrap().unwrap();
    assert!(
        matches!(stored.phase, Phase::Answering(a) if a.outcome.status == aurora_clone_manager::cfn::Status::Success),
        "the lost decision stands"
    );
}

/// A refusal is stored straight as answering, by one create-if-absent write: a duplicate
/// delivery finds the stored item (pending work stays pending, a decided answer stays).
async fn refusal_contract(store: &dyn StateStore) {
    let id = unique("refused-");
    let writes = store
        .refuse(&record(&id, ""), &answer(false))
        .await
        .unwrap();
    assert_eq!(writes.version, 1);
    assert!(
        matches!(&writes.phase, Phase::Answering(a) if a.outcome.status == aurora_clone_manager::cfn::Status::Failed)
    );
    let stored = store.request(&id).await.unwrap().expect("stored");
    assert_eq!(stored, writes, "answering from its first write");
    let again = store
        .refuse(&record(&id, "x"), &answer(true))
        .await
        .unwrap();
    assert_eq!(again, writes, "a duplicate continues the stored item");
    assert_eq!(
        store.record(&record(&id, "y")).await.unwrap(),
        writes,
        "never pending"
    );
    let work = unique("work-");
    store.record(&record(&work, "c")).await.unwrap();
    let found = store
        .refuse(&record(&work, ""), &answer(false))
        .await
        .unwrap();
    assert_eq!(
        found.phase,
        Phase::Pending,
        "recorded work is left as it is"
    );
}

#[tokio::test]
async fn refusals_are_recorded_answering_in_dynamodb() {
    let conf = sdk_config();
    let table = state_table(&conf).await;
    refusal_contract(&DynamoState::new(
        aws_sdk_dynamodb::Client::new(&conf),
        table,
    ))
    .await;
}

#[tokio::test]
async fn refusals_are_recorded_answering_in_memory() {
    refusal_contract(&MemoryState::default()).await;
}

/// A clone's deed, for `request_id`.
fn deed(cluster_id: &str, request_id: &str) -> Deed {
    Deed {
        cluster_id: cluster_id.into(),
        manager: "acm".into(),
        role: Role::Clone,
        stack_id: Some("arn:aws:cloudformation:us-east-1:123456789012:stack/app/1".into()),
        logical_id: Some("Db".into()),
        request_id: Some(request_id.into()),
        root: Some("orders".into()),
        recorded: 1_000,
        properties: Some(json!({"SourceClusterId": "orders"})),
        secret: Some(Made::Intended("/acm/x".into())),
        key: None,
        marked: 0,
        deleting: false,
        refreshing: None,
        refresh_of: None,
        born: None,
        version: 0,
    }
}

/// Entered once: a retry of the same intent finds it held, another owner's is refused.
async fn entered(ledger: &dyn Ledger, id: &str) -> Deed {
    assert_eq!(ledger.deed(id).await.unwrap(), None, "no deed: None");
    let Entered::New(made) = ledger.enter(&deed(id, "req-1")).await.unwrap() else {
        panic!("entered anew")
    };
    assert_eq!(made.version, 1);
    assert_eq!(
        ledger.deed(id).await.unwrap().as_ref(),
        Some(&made),
        "read back"
    );
    let retry = Deed {
        recorded: 2_000,
        ..deed(id, "req-1")
    };
    assert_eq!(
        ledger.enter(&retry).await.unwrap(),
        Entered::Held(made.clone()),
        "the same intent: held, unchanged"
    );
    assert_eq!(
        ledger.enter(&deed(id, "req-2")).await.unwrap(),
        Entered::Other(made.clone()),
        "another owner's: nothing written"
    );
    made
}

/// Amended against its version, once; listed; struck (twice is fine).
async fn ledger_contract(ledger: &dyn Ledger) {
    let id = unique("deed-");
    let made = entered(ledger, &id).await;
    let deleting = Deed {
        deleting: true,
        secret: Some(Made::Made("arn:secret".into())),
        ..made.clone()
    };
    let amended = ledger.amend(&deleting).await.unwrap().expect("amended");
    assert_eq!((amended.version, amended.deleting), (2, true));
    assert_eq!(
        ledger.amend(&deleting).await.unwrap(),
        Some(amended.clone()),
        "the same amendment again (its reply lost) reads as its own"
    );
    assert_eq!(ledger.amend(&made).await.unwrap(), None, "stale version");
    assert_eq!(ledger.deed(&id).await.unwrap(), Some(amended.clone()));
    assert!(ledger.deeds().await.unwrap().contains(&amended), "listed");
    ledger.strike(&id).await.unwrap();
    ledger.strike(&id).await.unwrap();
    assert_eq!(ledger.deed(&id).await.unwrap(), None, "struck");
    assert!(!ledger
        .deeds()
        .await
        .unwrap()
        .iter()
        .any(|d| d.cluster_id == id));
    assert_eq!(ledger.amend(&amended).await.unwrap(), None, "gone: None");
}

#[tokio::test]
async fn the_dynamodb_ledger_keeps_the_contract() {
    let conf = sdk_config();
    let table = state_table(&conf).await;
    ledger_contract(&DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&conf),
        table,
    ))
    .await;
}

#[tokio::test]
async fn the_fake_ledger_keeps_the_same_contract() {
    ledger_contract(&FakeLedger::default()).await;
}

/// The refreshes of `clone` the state store lists as pending work.
async fn listed_refreshes(store: &dyn StateStore, clone: &str) -> Vec<RefreshItem> {
    let work = store.list().await.unwrap().into_iter();
    let refreshes = work.filter_map(|w| match w {
        Work::Refresh(r) if r.cluster_id == clone => Some(*r),
        _ => None,
    });
    refreshes.collect()
}

/// One refresh per clone: begun if absent (a second refresh asked for meanwhile, even at the
/// same instant, gets the first one's item); amended at the stored version once (the same
/// amendment again, its reply lost, reads as its own; a stale one is `None`); listed as
/// pending work while it exists; ended only by its own attempt (again is fine), and then a
/// new one may begin.
async fn refresh_contract(refreshes: &dyn Refreshes, store: &dyn StateStore) {
    let clone = unique("clone-qa-");
    let item = |attempt: &str| RefreshItem::new(&clone, attempt, "schedule", 1_000);
    assert_eq!(refreshes.refresh(&clone).await.unwrap(), None);
    let (a, b) = (item("a"), item("b"));
    let (first, second) = tokio::join!(refreshes.begin(&a), refreshes.begin(&b));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second, "two refreshes at once make one");
    assert_eq!(first.version, 1);
    let winner = first.attempt.clone();
    let again = refreshes.begin(&item("c")).await.unwrap();
    assert_eq!(again, first, "a later one joins it");
    assert_eq!(
        refreshes.refresh(&clone).await.unwrap(),
        Some(first.clone())
    );

    let cutting = RefreshItem {
        stage: RefreshStage::CuttingOver,
        renamed: 1,
        ..first.clone()
    };
    let amended = refreshes.amend(&cutting).await.unwrap().expect("amended");
    assert_eq!(
        (amended.version, amended.stage),
        (2, RefreshStage::CuttingOver)
    );
    assert_eq!(
        refreshes.amend(&cutting).await.unwrap(),
        Some(amended.clone()),
        "the same amendment again (its reply lost) reads as its own"
    );
    let stale = RefreshItem {
        stage: RefreshStage::Abandoning,
        ..first.clone()
    };
    assert_eq!(
        refreshes.amend(&stale).await.unwrap(),
        None,
        "stale version"
    );
    assert_eq!(
        refreshes.refresh(&clone).await.unwrap(),
        Some(amended.clone())
    );
    let listed = listed_refreshes(store, &clone).await;
    assert_eq!(
        listed,
        std::slice::from_ref(&amended),
        "listed while it exists"
    );

    let loser = if winner == "a" { "b" } else { "a" };
    refreshes.end(&clone, loser).await.unwrap();
    assert_eq!(
        refreshes.refresh(&clone).await.unwrap(),
        Some(amended.clone()),
        "another attempt's end leaves it"
    );
    refreshes.end(&clone, &winner).await.unwrap();
    assert_eq!(refreshes.refresh(&clone).await.unwrap(), None, "ended");
    assert!(listed_refreshes(store, &clone).await.is_empty());
    refreshes.end(&clone, &winner).await.unwrap();
    assert_eq!(refreshes.amend(&amended).await.unwrap(), None, "gone: None");
    let next = refreshes.begin(&item("d")).await.unwrap();
    assert_eq!(
        (next.attempt.as_str(), next.version),
        ("d", 1),
        "a new one begins"
    );
}

#[tokio::test]
async fn dynamodb_refreshes_keep_the_contract() {
    let conf = sdk_config();
    let table = state_table(&conf).await;
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let refreshes = DynamoRefreshes::new(client.clone(), table.clone());
    refresh_contract(&refreshes, &DynamoState::new(client, table)).await;
}

#[tokio::test]
async fn memory_refreshes_keep_the_same_contract() {
    let state = MemoryState::default();
    refresh_contract(&state, &state).await;
}
