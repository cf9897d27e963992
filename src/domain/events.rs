//! The lifecycle events the users' automation receives on the bus: one variant per
//! EventBridge detail-type, one shape each, built here and nowhere else. A variant's `detail` is
//! its fields serialised in declaration order (the order consumers have always seen); every key
//! is always present, `null` when the cluster does not say. The README's "Lifecycle events"
//! table is checked against this file by a test.

use super::access::secret_name;
use super::expiry::{Expiry, ExpiryAction};
use super::tags::{format_time, Role};
use super::Cluster;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

pub const INSTANCE_READY: &str = "lifecycle-event/instance-ready";
pub const CLONE_DELETED: &str = "lifecycle-event/clone-deleted";
pub const CLONE_EXPIRING: &str = "lifecycle-event/clone-expiring";
pub const CLONE_EXPIRED: &str = "lifecycle-event/clone-expired";
pub const ORPHAN_REMOVED: &str = "lifecycle-event/orphan-removed";
pub const CLEANUP_FAILED: &str = "lifecycle-event/cleanup-failed";
pub const CLONE_REFRESH_STARTED: &str = "lifecycle-event/clone-refresh-started";
pub const CLONE_REFRESHED: &str = "lifecycle-event/clone-refreshed";
pub const CLONE_REFRESH_FAILED: &str = "lifecycle-event/clone-refresh-failed";
pub const CLONE_PREPARE: &str = "lifecycle-event/clone-prepare";

/// One lifecycle event. Untagged: the variant travels as the detail-type, beside the detail.
/// The shapes are boxed: every planned action would otherwise be hundreds of bytes larger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LifecycleEvent {
    /// A clone (or pool copy) is usable.
    InstanceReady(Box<InstanceReady>),
    /// A clone's or pool copy's deletion has started.
    CloneDeleted(Box<CloneDeleted>),
    /// The warning a lead time before a clone's expiry.
    CloneExpiring(Box<CloneExpiry>),
    /// The clone's expiry, with the action taken.
    CloneExpired(Box<CloneExpiry>),
    /// The sweep removes a clone its owner no longer claims.
    OrphanRemoved(Box<OrphanRemoved>),
    /// Removal work that RDS kept refusing was given up.
    CleanupFailed(Box<CleanupFailed>),
    /// A refresh in place began: a new clone of the source is being made.
    CloneRefreshStarted(Box<RefreshNote>),
    /// The clone serves the new data under its own name.
    CloneRefreshed(Box<Refreshed>),
    /// A refresh was given up; the clone kept serving its old data.
    CloneRefreshFailed(Box<RefreshNote>),
    /// A new clone waits for its preparer (masking, fixtures) before anyone else may read it.
    ClonePrepare(Box<ClonePrepare>),
}

/// What a preparer needs: where the clone is, the secret it may read, where the data came from,
/// why it is asked, until when, and the single-use token it reports with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClonePrepare {
    pub cluster_id: String,
    pub endpoint: Option<String>,
    pub port: Option<i32>,
    pub database_name: Option<String>,
    pub password_secret_arn: Option<String>,
    pub source_cluster_id: Option<String>,
    #[serde(with = "rfc3339_opt")]
    pub data_timestamp: Option<OffsetDateTime>,
    /// `create` (or `refresh`).
    pub reason: String,
    pub token: String,
    #[serde(with = "rfc3339_opt")]
    pub prepare_by: Option<OffsetDateTime>,
    pub stack_id: Option<String>,
    pub logical_resource_id: Option<String>,
}

/// A refresh of a clone: which, for whom, and when the cut-over is expected (started) or why
/// it was given up (failed).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshNote {
    pub cluster_id: String,
    pub stack_id: Option<String>,
    pub logical_resource_id: Option<String>,
    pub root_cluster_id: Option<String>,
    /// When the new clone is expected to take over (its restore and writer, from now; later
    /// when a pool copy must be made first).
    #[serde(with = "rfc3339_opt")]
    pub expected_cut_over_at: Option<OffsetDateTime>,
    /// When a refresh not yet cut over is given up.
    #[serde(with = "rfc3339_opt")]
    pub abandon_after: Option<OffsetDateTime>,
    /// Why it was given up (`clone-refresh-failed`).
    pub reason: Option<String>,
}

/// The `instance-ready` keys of the refreshed clone (its new `dataTimestamp`), and the old one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refreshed {
    #[serde(flatten)]
    pub clone: InstanceReady,
    #[serde(with = "rfc3339_opt")]
    pub previous_data_timestamp: Option<OffsetDateTime>,
}

/// How to reach a usable cluster and where it came from. Also kept in the request's decided
/// answer until it is sent, so it reads back what it wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceReady {
    pub instance_id: Option<String>,
    pub cluster_id: String,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub user: Option<String>,
    /// The secret's name, read from its ARN.
    pub password_secret: Option<String>,
    pub database: Option<String>,
    pub role: Option<Role>,
    pub password_secret_arn: Option<String>,
    pub source_cluster_id: Option<String>,
    pub root_cluster_id: Option<String>,
    #[serde(default, with = "rfc3339_opt")]
    pub data_timestamp: Option<OffsetDateTime>,
    pub stack_id: Option<String>,
    pub logical_resource_id: Option<String>,
}

/// Who a deleted cluster belonged to and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneDeleted {
    pub cluster_id: String,
    pub role: Option<Role>,
    pub stack_id: Option<String>,
    pub logical_resource_id: Option<String>,
    pub source_cluster_id: Option<String>,
    pub root_cluster_id: Option<String>,
    pub password_secret_arn: Option<String>,
}

/// The `instance-ready` keys, then the expiry and its action.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneExpiry {
    #[serde(flatten)]
    pub clone: InstanceReady,
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(serialize_with = "action_str")]
    pub action: ExpiryAction,
}

/// The `clone-deleted` keys, then why and since when the clone was an orphan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanRemoved {
    #[serde(flatten)]
    pub deleted: CloneDeleted,
    pub reason: String,
    #[serde(with = "rfc3339_opt")]
    pub orphan_since: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupFailed {
    pub cluster_id: String,
    pub reason: String,
    /// Unix seconds when the removal work began.
    pub since: i64,
    pub attempts: u32,
}

impl LifecycleEvent {
    pub fn detail_type(&self) -> &'static str {
        match self {
            LifecycleEvent::InstanceReady(_) => INSTANCE_READY,
            LifecycleEvent::CloneDeleted(_) => CLONE_DELETED,
            LifecycleEvent::CloneExpiring(_) => CLONE_EXPIRING,
            LifecycleEvent::CloneExpired(_) => CLONE_EXPIRED,
            LifecycleEvent::OrphanRemoved(_) => ORPHAN_REMOVED,
            LifecycleEvent::CleanupFailed(_) => CLEANUP_FAILED,
            LifecycleEvent::CloneRefreshStarted(_) => CLONE_REFRESH_STARTED,
            LifecycleEvent::CloneRefreshed(_) => CLONE_REFRESHED,
            LifecycleEvent::CloneRefreshFailed(_) => CLONE_REFRESH_FAILED,
            LifecycleEvent::ClonePrepare(_) => CLONE_PREPARE,
        }
    }

    pub fn detail(&self) -> Value {
        // Strings, numbers and options only: serialising cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// `clone-deleted` for a clone or pool copy whose deletion starts.
    pub fn deleted(cluster: &Cluster) -> LifecycleEvent {
        LifecycleEvent::CloneDeleted(Box::new(CloneDeleted::of(cluster)))
    }

    /// `instance-ready` for a pool copy newly usable.
    pub fn copy_ready(cluster: &Cluster) -> LifecycleEvent {
        LifecycleEvent::InstanceReady(Box::new(InstanceReady::of_copy(cluster)))
    }

    /// `clone-expiring`: the warning before `expiry`.
    pub fn expiring(cluster: &Cluster, expiry: &Expiry) -> LifecycleEvent {
        LifecycleEvent::CloneExpiring(Box::new(CloneExpiry::of(cluster, expiry)))
    }

    /// `clone-expired`: the expiry, and the action it takes.
    pub fn expired(cluster: &Cluster, expiry: &Expiry) -> LifecycleEvent {
        LifecycleEvent::CloneExpired(Box::new(CloneExpiry::of(cluster, expiry)))
    }

    /// `orphan-removed`: an orphan the sweep removes, and why.
    pub fn orphan_removed(
        cluster: &Cluster,
        reason: &str,
        since: Option<OffsetDateTime>,
    ) -> LifecycleEvent {
        LifecycleEvent::OrphanRemoved(Box::new(OrphanRemoved {
            deleted: CloneDeleted::of(cluster),
            reason: reason.to_string(),
            orphan_since: since,
        }))
    }

    /// `cleanup-failed`: removal work for `cluster_id` given up after `attempts`.
    pub fn cleanup_failed(cluster_id: &str, reason: &str, since: i64, attempts: u32) -> Self {
        LifecycleEvent::CleanupFailed(Box::new(CleanupFailed {
            cluster_id: cluster_id.to_string(),
            reason: reason.to_string(),
            since,
            attempts,
        }))
    }
}

impl LifecycleEvent {
    /// `clone-refresh-started` for `cluster`, expected to cut over at `expected`, given up
    /// after `abandon_after`.
    pub fn refresh_started(
        cluster: &Cluster,
        expected: OffsetDateTime,
        abandon_after: OffsetDateTime,
    ) -> LifecycleEvent {
        LifecycleEvent::CloneRefreshStarted(Box::new(RefreshNote {
            expected_cut_over_at: Some(expected),
            abandon_after: Some(abandon_after),
            ..RefreshNote::of(cluster)
        }))
    }

    /// `clone-refresh-failed` for `cluster`, with why.
    pub fn refresh_failed(cluster: &Cluster, reason: &str) -> LifecycleEvent {
        LifecycleEvent::CloneRefreshFailed(Box::new(RefreshNote {
            reason: Some(reason.to_string()),
            ..RefreshNote::of(cluster)
        }))
    }

    /// `clone-refreshed`: the clone as it serves now, and the data timestamp it had before.
    pub fn refreshed(cluster: &Cluster, previous: Option<OffsetDateTime>) -> LifecycleEvent {
        LifecycleEvent::CloneRefreshed(Box::new(Refreshed {
            clone: InstanceReady::of(cluster),
            previous_data_timestamp: previous,
        }))
    }
}

impl LifecycleEvent {
    /// `clone-prepare` for `cluster` (observed with its deed), asked for `reason` with `token`,
    /// to report by `prepare_by`.
    pub fn prepare(
        cluster: &Cluster,
        reason: &str,
        token: &str,
        prepare_by: OffsetDateTime,
    ) -> LifecycleEvent {
        let owner = cluster.ownership();
        let lineage = cluster.lineage();
        LifecycleEvent::ClonePrepare(Box::new(ClonePrepare {
            cluster_id: cluster.id.clone(),
            endpoint: cluster.endpoint.clone(),
            port: cluster.port,
            database_name: cluster.database_name.clone(),
            password_secret_arn: cluster.secret_arn().map(str::to_string),
            source_cluster_id: lineage.as_ref().map(|l| l.source.clone()),
            data_timestamp: lineage.map(|l| l.data_timestamp),
            reason: reason.to_string(),
            token: token.to_string(),
            prepare_by: Some(prepare_by),
            stack_id: owner.as_ref().and_then(|o| o.stack_id.clone()),
            logical_resource_id: owner.and_then(|o| o.logical_id),
        }))
    }
}

impl RefreshNote {
    /// The clone and its owner, by its deed; no times, no reason.
    fn of(cluster: &Cluster) -> RefreshNote {
        let owner = cluster.ownership();
        RefreshNote {
            cluster_id: cluster.id.clone(),
            stack_id: owner.as_ref().and_then(|o| o.stack_id.clone()),
            logical_resource_id: owner.and_then(|o| o.logical_id),
            root_cluster_id: cluster.deed.as_ref().and_then(|d| d.root.clone()),
            expected_cut_over_at: None,
            abandon_after: None,
            reason: None,
        }
    }
}

impl InstanceReady {
    /// Everything as the observed cluster says: its writer, and the owner and secret its deed
    /// records (tags prove nothing).
    pub fn of(cluster: &Cluster) -> InstanceReady {
        let owner = cluster.ownership();
        let lineage = cluster.lineage();
        let secret = cluster.secret_arn();
        InstanceReady {
            instance_id: cluster.writer().map(str::to_string),
            cluster_id: cluster.id.clone(),
            host: cluster.endpoint.clone(),
            port: cluster.port,
            user: cluster.master_username.clone(),
            password_secret: secret.map(secret_name),
            database: cluster.database_name.clone(),
            role: owner.as_ref().map(|o| o.role),
            password_secret_arn: secret.map(str::to_string),
            source_cluster_id: lineage.as_ref().map(|l| l.source.clone()),
            root_cluster_id: lineage.as_ref().map(|l| l.root.clone()),
            data_timestamp: lineage.map(|l| l.data_timestamp),
            stack_id: owner.as_ref().and_then(|o| o.stack_id.clone()),
            logical_resource_id: owner.and_then(|o| o.logical_id),
        }
    }

    /// A clone a request made, ready on `writer` for the resource that asked for it.
    pub fn of_clone(cluster: &Cluster, writer: &str, stack_id: &str, logical_id: &str) -> Self {
        InstanceReady {
            instance_id: Some(writer.to_string()),
            role: Some(Role::Clone),
            stack_id: Some(stack_id.to_string()),
            logical_resource_id: Some(logical_id.to_string()),
            ..InstanceReady::of(cluster)
        }
    }

    /// A pool copy: nobody's secret, no consumer resource.
    pub fn of_copy(cluster: &Cluster) -> InstanceReady {
        InstanceReady {
            password_secret: None,
            role: Some(Role::Copy),
            password_secret_arn: None,
            stack_id: None,
            logical_resource_id: None,
            ..InstanceReady::of(cluster)
        }
    }
}

impl CloneDeleted {
    pub fn of(cluster: &Cluster) -> CloneDeleted {
        let owner = cluster.ownership();
        let lineage = cluster.lineage();
        CloneDeleted {
            cluster_id: cluster.id.clone(),
            role: owner.as_ref().map(|o| o.role),
            stack_id: owner.as_ref().and_then(|o| o.stack_id.clone()),
            logical_resource_id: owner.and_then(|o| o.logical_id),
            source_cluster_id: lineage.as_ref().map(|l| l.source.clone()),
            root_cluster_id: lineage.map(|l| l.root),
            password_secret_arn: cluster.secret_arn().map(str::to_string),
        }
    }
}

impl CloneExpiry {
    fn of(cluster: &Cluster, expiry: &Expiry) -> CloneExpiry {
        CloneExpiry {
            clone: InstanceReady::of(cluster),
            expires_at: expiry.at,
            action: expiry.action,
        }
    }
}

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

fn action_str<S: Serializer>(a: &ExpiryAction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.as_str())
}

/// A moment as the tags write it (RFC 3339, UTC, whole seconds), or `null`.
mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339(t, s),
            None => s.serialize_none(),
        }
    }

    /// An empty string reads as `null`: answers decided before events were typed wrote a
    /// clone's unknown data timestamp so.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => OffsetDateTime::parse(&s, &Rfc3339)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests;
