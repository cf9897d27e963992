use super::*;
use crate::domain::expiry::{Expiry, ExpiryAction};
use time::macros::datetime;

const LEAD: Duration = Duration::from_secs(24 * 3600);
const AT: OffsetDateTime = datetime!(2026-12-10 12:00 UTC);

/// A clone of this manager (its deed holds no properties, as for an adopted clone: its expiry
/// tags are taken as they are) with an expiry.
fn clone_expiring(action: ExpiryAction, status: &str) -> Cluster {
    let mut c = crate::planner::test_support::clone_on("qa-db", "prod", "prod", status);
    c.tags.extend(Expiry::tags(AT, action));
    c
}

/// A clone whose deed records its properties: the tags can postpone its expiry, never hasten it
/// or turn a stop into a delete; a clone without a deed has no expiry at all.
#[test]
fn expiry_tags_are_bounded_by_the_deed() {
    let mut c = clone_expiring(ExpiryAction::Delete, "available");
    if let Some(d) = c.deed.as_mut() {
        d.properties = Some(serde_json::json!({"SourceClusterId": "prod",
            "ExpiresAt": "2026-12-20T12:00:00Z", "ExpiryAction": "stop"}));
    }
    let at_tags = AT + time::Duration::minutes(1);
    assert!(due(&c, LEAD, at_tags)
        .iter()
        .all(|a| !matches!(a, Action::RemoveCluster(_) | Action::StopCluster(_))));
    let at_deed = datetime!(2026-12-20 12:01 UTC);
    let actions = due(&c, LEAD, at_deed);
    assert!(
        actions.iter().any(|a| matches!(a, Action::StopCluster(_))),
        "{actions:?}"
    );
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::RemoveCluster(_))));
    c.deed = None;
    assert!(due(&c, LEAD, at_deed).is_empty());
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::Publish(e) => e.detail_type().to_string(),
            Action::Retag { add, .. } => format!("tag {}", add.keys().next().unwrap()),
            Action::StopCluster(_) => "stop".into(),
            Action::StartCluster(_) => "start".into(),
            Action::RemoveCluster(_) => "remove".into(),
            Action::Schedule { name, at, .. } => format!("schedule {name} {at}"),
            Action::Unschedule { name } => format!("unschedule {name}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn before_the_lead_time_nothing_is_due() {
    let c = clone_expiring(ExpiryAction::Stop, "available");
    assert!(due(&c, LEAD, AT - time::Duration::hours(25)).is_empty());
}

#[test]
fn within_the_lead_time_the_warning_goes_once() {
    let mut c = clone_expiring(ExpiryAction::Stop, "available");
    let now = AT - time::Duration::hours(23);
    assert_eq!(
        kinds(&due(&c, LEAD, now)),
        [
            "lifecycle-event/clone-expiring",
            "tag aurora-clone-manager:expiring-sent"
        ]
    );
    c.tags.insert(EXPIRING_SENT.into(), "sent".into());
    assert!(due(&c, LEAD, now).is_empty(), "once");
}

#[test]
fn at_expiry_the_action_is_taken_and_announced() {
    let now = AT + time::Duration::minutes(1);
    let stop = due(&clone_expiring(ExpiryAction::Stop, "available"), LEAD, now);
    assert_eq!(
        kinds(&stop),
        [
            "lifecycle-event/clone-expired",
            "tag aurora-clone-manager:expired",
            "stop"
        ]
    );
    let Action::Publish(e) = &stop[0] else {
        panic!()
    };
    assert_eq!(
        (
            e.detail()["action"].as_str(),
            e.detail()["clusterId"].as_str()
        ),
        (Some("stop"), Some("qa-db"))
    );
    let delete = due(
        &clone_expiring(ExpiryAction::Delete, "available"),
        LEAD,
        now,
    );
    assert_eq!(kinds(&delete)[2], "remove");
    let notify = due(
        &clone_expiring(ExpiryAction::Notify, "available"),
        LEAD,
        now,
    );
    assert_eq!(notify.len(), 2, "an event and its mark, nothing else");
}

/// RDS restarts a stopped cluster after seven days: the expired clone is stopped again.
#[test]
fn a_stopped_expired_clone_that_rds_restarted_is_stopped_again() {
    let mut c = clone_expiring(ExpiryAction::Stop, "available");
    c.tags.insert(EXPIRED.into(), "stop".into());
    assert_eq!(
        kinds(&due(&c, LEAD, AT + time::Duration::days(7))),
        ["stop"]
    );
    c.status = "stopped".into();
    assert!(due(&c, LEAD, AT + time::Duration::days(7)).is_empty());
}

#[test]
fn schedules_go_at_the_warning_and_at_expiry_never_in_the_past() {
    let c = clone_expiring(ExpiryAction::Stop, "available");
    let now = AT - time::Duration::hours(2);
    let s = schedules(&c, LEAD, now);
    assert_eq!(s.len(), 2);
    let Action::Schedule { at: warn, .. } = &s[0] else {
        panic!()
    };
    assert_eq!(
        *warn, now,
        "a lifetime shorter than the lead: warned at once"
    );
    let Action::Schedule { at, name, .. } = &s[1] else {
        panic!()
    };
    assert_eq!(*at, AT);
    assert!(name.len() <= 64 && name.ends_with("-x"));
}

/// An Update (or `extend`) that moves the expiry later starts a clone stopped at the old one.
#[test]
fn moving_the_expiry_later_restarts_what_it_stopped() {
    let mut c = clone_expiring(ExpiryAction::Stop, "stopped");
    c.tags.insert(EXPIRED.into(), "stop".into());
    let now = AT + time::Duration::days(1);
    let later = AT + time::Duration::days(30);
    let k = kinds(&moved(
        &c,
        later,
        ExpiryAction::Stop,
        Tags::new(),
        LEAD,
        now,
    ));
    assert!(k.contains(&"start".to_string()), "{k:?}");
    assert_eq!(k.iter().filter(|x| x.starts_with("unschedule")).count(), 2);
    assert_eq!(k.iter().filter(|x| x.starts_with("schedule")).count(), 2);
}

#[test]
fn a_clone_still_being_made_or_deleted_waits() {
    for status in ["creating", "deleting"] {
        let c = clone_expiring(ExpiryAction::Delete, status);
        assert!(
            due(&c, LEAD, AT + time::Duration::hours(1)).is_empty(),
            "{status}"
        );
    }
}
