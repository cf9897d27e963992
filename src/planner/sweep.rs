//! The orphan sweep: whether a clone's owner (the stack and logical id it was made for) still
//! claims it, and what follows. A clone is an orphan when its stack says so: the stack or the
//! resource is gone, the resource now names another clone and is not in progress, or the Create
//! that made it failed and no request is pending. Anything the sweep cannot read is left alone
//! (access denied is not absence), as is a clone its stack retained on purpose. An orphan is
//! removed only a grace period after the sweep first saw it orphaned (recorded in a tag).

use super::action::{Action, Removal, Tagged};
use crate::domain::events::LifecycleEvent;
use crate::domain::ident::ClusterArn;
use crate::domain::{tags, Cluster, Role, StackResource, StackStatus, Tags};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use crate::domain::events::ORPHAN_REMOVED;
/// When the sweep first saw the clone orphaned (RFC 3339).
pub const ORPHAN_SINCE: &str = "aurora-clone-manager:orphan-since";

/// Where a clone stands with its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// Its resource still names it.
    Owned,
    /// Its owner is gone, for this reason.
    Orphan(String),
    /// Its resource reports CREATE_FAILED: an orphan unless its request is still pending.
    FailedCreate,
    /// Not known (the stack cannot be read, or the resource is in progress): left alone.
    Unknown(String),
    /// Orphaned, but kept on purpose (retained by its stack, or its Delete failed).
    Kept(String),
}

/// The stack and logical id a clone of `manager` was made for; `None` for anything else (pool
/// copies belong to the manager, CLI clones, whose stack id is no stack ARN, to their operator,
/// the clusters of a refresh to that refresh).
pub fn owner(cluster: &Cluster, manager: &str) -> Option<(String, String)> {
    // A refresh's new or retired cluster: its refresh removes it (its resource names the clone).
    if cluster
        .deed
        .as_ref()
        .is_some_and(|d| d.refresh_of.is_some())
    {
        return None;
    }
    let o = cluster.ownership()?;
    if o.managed_by != manager || o.role != Role::Clone {
        return None;
    }
    let stack_id = o.stack_id.filter(|s| s.starts_with("arn:"))?;
    Some((stack_id, o.logical_id?))
}

/// What the owner's answer means for `cluster`.
pub fn standing(cluster: &Cluster, resource: &StackResource) -> Standing {
    let StackResource::Found {
        status,
        physical_id,
        ..
    } = resource
    else {
        return Standing::Orphan("its stack or resource no longer exists".into());
    };
    match status {
        StackStatus::DeleteSkipped => {
            Standing::Kept("retained by its stack (DeletionPolicy)".into())
        }
        StackStatus::DeleteFailed => {
            Standing::Kept("its stack's Delete failed; it holds it".into())
        }
        StackStatus::DeleteComplete => Standing::Orphan("its stack deleted the resource".into()),
        StackStatus::CreateFailed => Standing::FailedCreate,
        s if s.is_in_progress() => Standing::Unknown(format!("its resource is {s}")),
        _ => named(cluster, physical_id.as_deref()),
    }
}

/// Whether the resource's settled physical id still names `cluster`: only as its ARN, spelled as
/// RDS spells it (a FAILED Create's id names no cluster).
fn named(cluster: &Cluster, physical_id: Option<&str>) -> Standing {
    match physical_id.and_then(ClusterArn::parse) {
        Some(arn) if arn.cluster_id == cluster.id => Standing::Owned,
        _ => Standing::Orphan(format!(
            "its resource now is {}",
            physical_id.unwrap_or("nothing")
        )),
    }
}

/// When the sweep first saw `cluster` orphaned, if it did.
pub fn orphan_since(cluster: &Cluster) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(cluster.tags.get(ORPHAN_SINCE)?, &Rfc3339).ok()
}

/// What the sweep does about `cluster`: mark an orphan when first seen, remove it once the grace
/// has passed, and clear the mark of a clone whose owner claims it again.
pub fn actions(
    cluster: &Cluster,
    s: &Standing,
    grace: Duration,
    now: OffsetDateTime,
) -> Vec<Action> {
    let since = orphan_since(cluster);
    match (s, since) {
        (Standing::Owned, Some(_)) => vec![retag(
            cluster,
            Default::default(),
            vec![ORPHAN_SINCE.into()],
        )],
        (Standing::Orphan(_), None) => vec![retag(
            cluster,
            [(ORPHAN_SINCE.to_string(), tags::format_time(now))].into(),
            vec![],
        )],
        (Standing::Orphan(reason), Some(t))
            if now >= t + grace && !cluster.status.is_deleting() =>
        {
            let mut removal = Removal::of(cluster);
            removal.event = Some(removed(cluster, reason));
            vec![Action::RemoveCluster(removal)]
        }
        _ => vec![],
    }
}

fn retag(cluster: &Cluster, add: Tags, remove: Vec<String>) -> Action {
    Action::Retag {
        targets: vec![Tagged::Rds(cluster.arn.clone())],
        add,
        remove,
    }
}

/// `orphan-removed`, with the reason and since when the sweep has seen the clone orphaned.
fn removed(cluster: &Cluster, reason: &str) -> LifecycleEvent {
    LifecycleEvent::orphan_removed(cluster, reason, orphan_since(cluster))
}

#[cfg(test)]
mod tests;
