//! What a clone's expiry asks for now: the `clone-expiring` warning a lead time before, and at
//! expiry the action (`notify`, `stop`, `delete`) with its `clone-expired` event. A stopped
//! expired clone that RDS restarted (it does after seven days) is stopped again. Called by the
//! expiry schedules (which may fire early: then nothing is due) and by every maintenance run,
//! as a backstop.

use super::action::{Action, Removal, Tagged};
use crate::domain::events::LifecycleEvent;
pub use crate::domain::expiry::schedule_names;
use crate::domain::expiry::{Expiry, ExpiryAction, EXPIRED, EXPIRING_SENT, TAG_KEYS};
use crate::domain::{Cluster, Tags};
use std::time::Duration;
use time::OffsetDateTime;

/// The input an expiry schedule sends the function.
pub fn schedule_input(cluster_id: &str) -> serde_json::Value {
    serde_json::json!({"source": "aurora-clone-manager", "action": "expire", "cluster": cluster_id})
}

/// The schedules to make for a clone with an expiry: the warning at `at - lead` (never before
/// `now`) and the expiry at `at`.
pub fn schedules(cluster: &Cluster, lead: Duration, now: OffsetDateTime) -> Vec<Action> {
    let Some(e) = Expiry::from_tags(&cluster.tags) else {
        return vec![];
    };
    let [warning, expiry] = schedule_names(&cluster.id);
    let warn_at = (e.at - lead).max(now);
    let mut out = vec![];
    if !e.warned {
        out.push(Action::Schedule {
            name: warning,
            at: warn_at,
            cluster_id: cluster.id.clone(),
            cluster_arn: cluster.arn.clone(),
        });
    }
    if e.handled.is_none() {
        out.push(Action::Schedule {
            name: expiry,
            at: e.at.max(now),
            cluster_id: cluster.id.clone(),
            cluster_arn: cluster.arn.clone(),
        });
    }
    out
}

/// What is due now for `cluster`'s expiry (nothing for a clone without one, one still being
/// made, or one deleting).
pub fn due(cluster: &Cluster, lead: Duration, now: OffsetDateTime) -> Vec<Action> {
    let Some(e) = Expiry::from_tags(&cluster.tags).and_then(|e| vouched(cluster, e)) else {
        return vec![];
    };
    // A clone still being made is acted on once it is ready (its schedules are made then).
    if cluster.status.is_deleting() || cluster.status.is_creating() {
        return vec![];
    }
    match e.handled {
        // Stopped again once RDS restarted it: only after the (vouched) expiry, whatever an
        // `expired` tag says.
        Some(ExpiryAction::Stop) if cluster.is_available() && now >= e.at => {
            return vec![Action::StopCluster(cluster.id.clone())];
        }
        Some(_) => return vec![],
        None if now >= e.at => return expire(cluster, &e),
        None => {}
    }
    if !e.warned && now + lead >= e.at {
        return vec![
            Action::Publish(LifecycleEvent::expiring(cluster, &e)),
            mark(cluster, EXPIRING_SENT, "sent"),
        ];
    }
    vec![]
}

fn expire(cluster: &Cluster, e: &Expiry) -> Vec<Action> {
    let mut out = vec![
        Action::Publish(LifecycleEvent::expired(cluster, e)),
        mark(cluster, EXPIRED, e.action.as_str()),
    ];
    match e.action {
        ExpiryAction::Notify => {}
        ExpiryAction::Stop if cluster.is_available() => {
            out.push(Action::StopCluster(cluster.id.clone()))
        }
        ExpiryAction::Stop => {}
        ExpiryAction::Delete => out.push(Action::RemoveCluster(Removal::of(cluster))),
    }
    out
}

fn mark(cluster: &Cluster, key: &str, value: &str) -> Action {
    Action::Retag {
        targets: vec![Tagged::Rds(cluster.arn.clone())],
        add: [(key.to_string(), value.to_string())].into(),
        remove: vec![],
    }
}

/// A new expiry for a clone (an Update that moved it, or `extend`): the tags, the schedules
/// moved, and a clone stopped at its old expiry started again when the new one is later.
pub fn moved(
    cluster: &Cluster,
    at: OffsetDateTime,
    action: ExpiryAction,
    extra: Tags,
    lead: Duration,
    now: OffsetDateTime,
) -> Vec<Action> {
    let mut add = Expiry::tags(at, action);
    add.extend(extra);
    let mut out = vec![];
    // The start goes first: RDS refuses it while the cluster is still stopping, and the retry
    // must still see the old expiry (the retag would otherwise hide that it was stopped by it).
    let was = Expiry::from_tags(&cluster.tags);
    let stopped_by_expiry = was.is_some_and(|e| e.handled == Some(ExpiryAction::Stop));
    if stopped_by_expiry && at > now && cluster.status.is_stopped_or_stopping() {
        out.push(Action::StartCluster(cluster.id.clone()));
    }
    out.push(Action::Retag {
        targets: vec![Tagged::Rds(cluster.arn.clone())],
        add: add.clone(),
        remove: Expiry::cleared(),
    });
    out.extend(schedule_names(&cluster.id).map(|name| Action::Unschedule { name }));
    let mut renewed = cluster.clone();
    renewed.tags.extend(add);
    for k in Expiry::cleared() {
        renewed.tags.remove(&k);
    }
    out.extend(schedules(&renewed, lead, now));
    out
}

/// What an Update does to the clone's expiry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExpiryChange {
    Move(OffsetDateTime, ExpiryAction),
    Drop,
}

/// The expiry the new properties ask for, against what the clone has (a lifetime counts from
/// the clone's creation); `None` when it is unchanged. An operator's `extend` stands until the
/// stack's properties themselves change the expiry.
pub fn change(
    old: Option<&crate::domain::properties::CloneProperties>,
    new: &crate::domain::properties::CloneProperties,
    cluster: &Cluster,
) -> Option<ExpiryChange> {
    if old.is_some_and(|o| o.expiry == new.expiry) {
        return None;
    }
    let current = Expiry::from_tags(&cluster.tags);
    let created = cluster
        .created
        .or_else(|| cluster.lineage().map(|l| l.data_timestamp))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    match (new.expiry, current) {
        (None, None) => None,
        (None, Some(_)) => Some(ExpiryChange::Drop),
        (Some(spec), Some(e)) if e.at == spec.at(created) && e.action == spec.action => None,
        (Some(spec), _) => Some(ExpiryChange::Move(spec.at(created), spec.action)),
    }
}

/// The expiry as far as the clone's deed vouches for it. Anyone who may tag the clone can write
/// the expiry tags; a tag may postpone the expiry (an operator's `extend` does) but never bring
/// it earlier than the properties the deed records, turn a stop into a delete, or give an expiry
/// to a clone whose properties have none. A clone adopted without properties keeps its tags'
/// (the operator vouched for them).
fn vouched(cluster: &Cluster, mut e: Expiry) -> Option<Expiry> {
    let deed = cluster.deed.as_ref().filter(|d| d.refresh_of.is_none())?;
    let Some(props) = deed.properties.as_ref() else {
        return Some(e);
    };
    let spec = crate::domain::properties::CloneProperties::parse(props)
        .ok()?
        .expiry?;
    // A refreshed clone's lifetime counts from its first cluster, not from the newest one.
    let born = deed
        .born
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let created = born
        .or(cluster.created)
        .or_else(|| OffsetDateTime::from_unix_timestamp(deed.recorded).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    e.at = e.at.max(spec.at(created) - time::Duration::minutes(1));
    if e.action == ExpiryAction::Delete && spec.action != ExpiryAction::Delete {
        e.action = spec.action;
    }
    Some(e)
}

/// The actions of a change (`moved` for a new moment; a dropped expiry loses its tags and
/// schedules, and a clone stopped by it starts again).
pub fn change_actions(
    cluster: &Cluster,
    change: ExpiryChange,
    lead: Duration,
    now: OffsetDateTime,
) -> Vec<Action> {
    match change {
        ExpiryChange::Move(at, action) => moved(cluster, at, action, Tags::new(), lead, now),
        ExpiryChange::Drop => {
            let mut out = vec![];
            let stopped = Expiry::from_tags(&cluster.tags)
                .is_some_and(|e| e.handled == Some(ExpiryAction::Stop));
            if stopped && cluster.status.is_stopped_or_stopping() {
                out.push(Action::StartCluster(cluster.id.clone()));
            }
            out.push(Action::Retag {
                targets: vec![Tagged::Rds(cluster.arn.clone())],
                add: Tags::new(),
                remove: TAG_KEYS.map(String::from).to_vec(),
            });
            out.extend(schedule_names(&cluster.id).map(|name| Action::Unschedule { name }));
            out
        }
    }
}

#[cfg(test)]
mod tests;
