use super::*;
use crate::domain::ledger::{self, Made};
use crate::domain::tags::{Lineage, Ownership};
use crate::domain::Member;
use time::macros::datetime;

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:1:secret:/acm/qa-db-1a2b-AbCdEf";

/// A clone of this manager with everything an event can say: writer, endpoint, lineage, deed
/// and secret.
fn clone() -> Cluster {
    let mut c = Cluster::new("qa-db", "available");
    let owner = Ownership {
        managed_by: "acm".into(),
        role: Role::Clone,
        stack_id: Some("s".into()),
        logical_id: Some("L".into()),
        request_id: Some("r-1".into()),
    };
    owner.write(&mut c.tags);
    let lineage = Lineage {
        root: "prod".into(),
        source: "prod-copy".into(),
        data_timestamp: OffsetDateTime::UNIX_EPOCH,
    };
    lineage.write(&mut c.tags);
    c.deed = ledger::adopted(&c, 0).map(|mut d| {
        d.secret = Some(Made::Made(SECRET.into()));
        d
    });
    c.endpoint = Some("qa-db.cluster-x.rds".into());
    c.port = Some(5432);
    c.master_username = Some("admin".into());
    c.database_name = Some("orders".into());
    c.members = vec![Member {
        instance_id: "qa-db-writer".into(),
        writer: true,
    }];
    c
}

fn expiry() -> Expiry {
    Expiry {
        at: datetime!(2026-12-10 12:00 UTC),
        action: ExpiryAction::Stop,
        warned: false,
        handled: None,
    }
}

/// One event of each variant.
fn examples() -> Vec<LifecycleEvent> {
    let c = clone();
    vec![
        LifecycleEvent::InstanceReady(Box::new(InstanceReady::of(&c))),
        LifecycleEvent::deleted(&c),
        LifecycleEvent::expiring(&c, &expiry()),
        LifecycleEvent::expired(&c, &expiry()),
        LifecycleEvent::orphan_removed(&c, "its stack is gone", None),
        LifecycleEvent::cleanup_failed("qa-db", "refused", 100, 7),
        LifecycleEvent::refresh_started(
            &c,
            datetime!(2026-12-10 12:20 UTC),
            datetime!(2026-12-10 18:00 UTC),
        ),
        LifecycleEvent::refreshed(&c, Some(datetime!(2026-12-09 05:00 UTC))),
        LifecycleEvent::refresh_failed(&c, "its source cluster prod no longer exists"),
        LifecycleEvent::prepare(&c, "create", "t0k3n", datetime!(2026-12-10 12:30 UTC)),
    ]
}

/// A new variant fails to compile here: number it, and give `examples` one of it.
fn ordinal(e: &LifecycleEvent) -> usize {
    match e {
        LifecycleEvent::InstanceReady(_) => 0,
        LifecycleEvent::CloneDeleted(_) => 1,
        LifecycleEvent::CloneExpiring(_) => 2,
        LifecycleEvent::CloneExpired(_) => 3,
        LifecycleEvent::OrphanRemoved(_) => 4,
        LifecycleEvent::CleanupFailed(_) => 5,
        LifecycleEvent::CloneRefreshStarted(_) => 6,
        LifecycleEvent::CloneRefreshed(_) => 7,
        LifecycleEvent::CloneRefreshFailed(_) => 8,
        LifecycleEvent::ClonePrepare(_) => 9,
    }
}

#[test]
fn the_examples_cover_every_variant_once() {
    let ordinals: Vec<usize> = examples().iter().map(ordinal).collect();
    assert_eq!(ordinals, (0..10).collect::<Vec<_>>());
}

fn keys(detail: &Value) -> Vec<String> {
    detail
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The README's table: each row's detail-type and the keys it lists.
fn documented() -> Vec<(String, Vec<String>)> {
    README
        .lines()
        .filter(|l| l.starts_with("| `lifecycle-event/"))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').collect();
            let ticked = |cell: &str| -> Vec<String> {
                cell.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(String::from)
                    .collect()
            };
            (ticked(cells[1]).concat(), ticked(cells[2]))
        })
        .collect()
}

/// Every event is in the README's table with the keys it emits, in order, and the table holds
/// nothing else.
#[test]
fn the_readme_table_is_the_enum() {
    let emitted: Vec<(String, Vec<String>)> = examples()
        .iter()
        .map(|e| (e.detail_type().to_string(), keys(&e.detail())))
        .collect();
    assert_eq!(documented(), emitted);
}

/// Every detail-type the README names anywhere is one the enum emits.
#[test]
fn the_readme_names_no_other_event() {
    let known: Vec<&str> = examples().iter().map(|e| e.detail_type()).collect();
    for mention in README.split("lifecycle-event/").skip(1) {
        let name: String = mention
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        let detail_type = format!("lifecycle-event/{name}");
        assert!(known.contains(&detail_type.as_str()), "{detail_type}");
    }
}

/// The README's example event has the keys of its detail-type, in order.
#[test]
fn the_readme_example_has_the_emitted_keys() {
    let section = README
        .split("## Lifecycle events")
        .nth(1)
        .unwrap_or_default();
    let json = section.split("```json").nth(1).unwrap_or_default();
    let json = json.split("```").next().unwrap_or_default();
    let example: Value = serde_json::from_str(json).expect("the README's example parses");
    let of_type = examples()
        .into_iter()
        .find(|e| e.detail_type() == example["detail-type"])
        .expect("a known detail-type");
    assert_eq!(keys(&example["detail"]), keys(&of_type.detail()));
}

/// The JSON each event emitted before the enum, byte for byte.
#[test]
fn details_keep_their_bytes() {
    let c = clone();
    let ready = r#"{"instanceId":"qa-db-writer","clusterId":"qa-db","host":"qa-db.cluster-x.rds","port":5432,"user":"admin","passwordSecret":"/acm/qa-db-1a2b","database":"orders","role":"clone","passwordSecretArn":"arn:aws:secretsmanager:us-east-1:1:secret:/acm/qa-db-1a2b-AbCdEf","sourceClusterId":"prod-copy","rootClusterId":"prod","dataTimestamp":"1970-01-01T00:00:00Z","stackId":"s","logicalResourceId":"L""#;
    let deleted = r#"{"clusterId":"qa-db","role":"clone","stackId":"s","logicalResourceId":"L","sourceClusterId":"prod-copy","rootClusterId":"prod","passwordSecretArn":"arn:aws:secretsmanager:us-east-1:1:secret:/acm/qa-db-1a2b-AbCdEf""#;
    let expect = [
        format!("{ready}}}"),
        format!("{deleted}}}"),
        format!(r#"{ready},"expiresAt":"2026-12-10T12:00:00Z","action":"stop"}}"#),
        format!(r#"{ready},"expiresAt":"2026-12-10T12:00:00Z","action":"stop"}}"#),
        format!(r#"{deleted},"reason":"its stack is gone","orphanSince":null}}"#),
        r#"{"clusterId":"qa-db","reason":"refused","since":100,"attempts":7}"#.to_string(),
        r#"{"clusterId":"qa-db","stackId":"s","logicalResourceId":"L","rootClusterId":"prod","expectedCutOverAt":"2026-12-10T12:20:00Z","abandonAfter":"2026-12-10T18:00:00Z","reason":null}"#.to_string(),
        format!(r#"{ready},"previousDataTimestamp":"2026-12-09T05:00:00Z"}}"#),
        r#"{"clusterId":"qa-db","stackId":"s","logicalResourceId":"L","rootClusterId":"prod","expectedCutOverAt":null,"abandonAfter":null,"reason":"its source cluster prod no longer exists"}"#.to_string(),
        r#"{"clusterId":"qa-db","endpoint":"qa-db.cluster-x.rds","port":5432,"databaseName":"orders","passwordSecretArn":"arn:aws:secretsmanager:us-east-1:1:secret:/acm/qa-db-1a2b-AbCdEf","sourceClusterId":"prod-copy","dataTimestamp":"1970-01-01T00:00:00Z","reason":"create","token":"t0k3n","prepareBy":"2026-12-10T12:30:00Z","stackId":"s","logicalResourceId":"L"}"#.to_string(),
    ];
    let emitted: Vec<String> = examples().iter().map(|e| e.detail().to_string()).collect();
    assert_eq!(emitted, expect);
    let made =
        LifecycleEvent::InstanceReady(Box::new(InstanceReady::of_clone(&c, "w", "st", "Db")));
    let made_ready = ready.replace("\"qa-db-writer\"", "\"w\"").replace(
        "\"stackId\":\"s\",\"logicalResourceId\":\"L\"",
        "\"stackId\":\"st\",\"logicalResourceId\":\"Db\"",
    );
    assert_eq!(made.detail().to_string(), format!("{made_ready}}}"));
    let copy = LifecycleEvent::copy_ready(&c);
    assert_eq!(
        copy.detail().to_string(),
        r#"{"instanceId":"qa-db-writer","clusterId":"qa-db","host":"qa-db.cluster-x.rds","port":5432,"user":"admin","passwordSecret":null,"database":"orders","role":"copy","passwordSecretArn":null,"sourceClusterId":"prod-copy","rootClusterId":"prod","dataTimestamp":"1970-01-01T00:00:00Z","stackId":null,"logicalResourceId":null}"#
    );
}

/// A clone's ready event names the request's resource and writer, whatever the tags say.
#[test]
fn a_clone_is_ready_for_the_resource_that_asked() {
    let mut c = clone();
    c.deed = None;
    let ready = InstanceReady::of_clone(&c, "w-1", "stack-1", "Db");
    assert_eq!(ready.instance_id.as_deref(), Some("w-1"));
    assert_eq!(ready.role, Some(Role::Clone));
    assert_eq!(ready.stack_id.as_deref(), Some("stack-1"));
    assert_eq!(ready.logical_resource_id.as_deref(), Some("Db"));
    assert_eq!(ready.password_secret_arn, None);
}

/// A ready event waits in the request's decided answer: it reads back what it wrote, and what
/// answers written before the enum hold (a clone without lineage had `""` as its timestamp).
#[test]
fn a_stored_ready_event_reads_back() {
    let ready = InstanceReady::of(&clone());
    let text = serde_json::to_string(&ready).unwrap_or_default();
    let back: InstanceReady = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back, ready);
    let old = serde_json::json!({"instanceId": "w", "clusterId": "c", "host": null, "port": null,
        "user": null, "passwordSecret": null, "database": null, "role": "clone",
        "passwordSecretArn": null, "sourceClusterId": null, "rootClusterId": null,
        "dataTimestamp": "", "stackId": "s", "logicalResourceId": "L"});
    let old: InstanceReady = serde_json::from_value(old).expect("an old answer reads");
    assert_eq!(old.data_timestamp, None);
    assert_eq!(old.role, Some(Role::Clone));
}
