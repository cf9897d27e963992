//! Clusters in the fake RDS: how one looks at an instant (its state driven by tokio time), and
//! what restores, deletions, stops, starts and master password changes do to them, refused
//! where RDS refuses them.

use super::{not_found, rds_error, FakeRds, RdsState};
use crate::domain::{capacity, Cluster, ClusterStatus, RestoreRequest, RestoreType};
use crate::error::AwsError;
use crate::ports::{Created, Deletion};
use std::time::Duration;
use tokio::time::Instant;

pub(super) const RESTORE: &str = "RestoreDBClusterToPointInTime";

/// How long stopping takes, and when RDS starts a stopped cluster again by itself.
const STOPPING: Duration = Duration::from_secs(60);
const AUTO_START: Duration = Duration::from_secs(7 * 86_400);
/// How long a started cluster stays `starting`.
const STARTING: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub(super) struct FakeCluster {
    pub(super) cluster: Cluster,
    available_at: Instant,
    gone_at: Option<Instant>,
    /// A master password change: pending (cluster still `available`) until the first instant,
    /// `resetting-master-credentials` until the second.
    password: Option<(Instant, Instant)>,
    /// Stopped then (`stopping` for a minute before); RDS starts it again seven days later.
    stopped_at: Option<Instant>,
    /// Started again: `starting` until then.
    starting_until: Option<Instant>,
    /// A rename in flight.
    pub(super) lag: super::rename::Lag,
}

impl FakeCluster {
    /// A cluster that becomes available at `available_at`.
    pub(super) fn new(cluster: Cluster, available_at: Instant) -> Self {
        FakeCluster {
            cluster,
            available_at,
            gone_at: None,
            password: None,
            stopped_at: None,
            starting_until: None,
            lag: Default::default(),
        }
    }

    pub(super) fn is_gone(&self, now: Instant) -> bool {
        self.gone_at.is_some_and(|g| g <= now)
    }

    /// Its state at `now`: deleting, stuck (as a test keeps it), starting, stopping, stopped,
    /// creating, resetting its password, or as stored.
    fn status_at(&self, stuck: Option<&ClusterStatus>, now: Instant) -> ClusterStatus {
        let stopped = self.stopped_at.map(|at| now.saturating_duration_since(at));
        let resetting = self.password.is_some_and(|(p, r)| now >= p && now < r);
        match (&self.gone_at, stuck) {
            (Some(_), _) => ClusterStatus::Deleting,
            (None, Some(s)) => s.clone(),
            _ if self.starting_until.is_some_and(|t| t > now) => ClusterStatus::Starting,
            _ if stopped.is_some_and(|d| d < STOPPING) => ClusterStatus::Stopping,
            _ if stopped.is_some_and(|d| d < AUTO_START) => ClusterStatus::Stopped,
            _ if self.available_at > now => ClusterStatus::Creating,
            _ if self.lag.renaming(now) => super::rename::renaming_status(),
            _ if resetting => ClusterStatus::ResettingMasterCredentials,
            _ => self.cluster.status.clone(),
        }
    }
}

/// As RDS: nothing in a stopped (or stopping, or starting) cluster is deleted.
pub(super) fn refuse_unless_running(
    op: &'static str,
    status: &ClusterStatus,
) -> Result<(), AwsError> {
    match status.is_deletable() {
        true => Ok(()),
        false => Err(rds_error(
            op,
            "InvalidDBClusterStateFault",
            &format!("DbCluster is in {status} state: start it before deleting it"),
        )),
    }
}

impl RdsState {
    /// The cluster as it looks at `now`, or `None` once gone.
    pub(super) fn view(&self, id: &str, now: Instant) -> Option<Cluster> {
        let fc = self.clusters.get(id).filter(|fc| !fc.is_gone(now))?;
        if fc.lag.hidden(now) {
            return None;
        }
        let mut c = fc.cluster.clone();
        c.status = fc.status_at(self.stuck.get(id), now);
        c.password_pending = fc.password.is_some_and(|(p, _)| now < p);
        c.deletion_protection = self.protected.contains(id);
        c.members = self.members(id, now);
        Some(c)
    }

    /// The clone group of `id`'s volume, given one on its first clone.
    fn group_of(&mut self, id: &str) -> String {
        let fresh = format!("cg-{}", self.next_group);
        let Some(c) = self.clusters.get_mut(id) else {
            return fresh;
        };
        if c.cluster.clone_group_id.is_none() {
            c.cluster.clone_group_id = Some(fresh);
            self.next_group += 1;
        }
        c.cluster.clone_group_id.clone().unwrap_or_default()
    }

    /// A copy-on-write clone joins its source's clone group; beyond `limit` members Aurora
    /// silently makes a full copy instead.
    fn join_clone_group(&mut self, c: &mut Cluster, source: &str, now: Instant, limit: usize) {
        let group = self.group_of(source);
        let members = self
            .clusters
            .values()
            .filter(|x| x.gone_at.is_none_or(|g| g > now))
            .filter(|x| x.cluster.clone_group_id.as_deref() == Some(&group))
            .count();
        if members > limit {
            self.silent_full_copies += 1;
        } else {
            c.clone_group_id = Some(group);
        }
    }

    pub(super) fn stop(&mut self, id: &str, now: Instant) -> Result<(), AwsError> {
        match self.view(id, now).map(|c| c.status) {
            None => Err(not_found("StopDBCluster", id)),
            Some(s) if s.is_stopped_or_stopping() => Ok(()),
            Some(s) if !s.is_available() => Err(rds_error(
                "StopDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = self.clusters.get_mut(id) {
                    c.stopped_at = Some(now);
                }
                Ok(())
            }
        }
    }

    /// RDS modifies only an available cluster; the range shows at once (the writer rescales
    /// in place, with no state of its own worth modelling).
    pub(super) fn set_capacity(
        &mut self,
        id: &str,
        capacity: capacity::Capacity,
        now: Instant,
    ) -> Result<(), AwsError> {
        match self.view(id, now).map(|c| c.status) {
            None => Err(not_found("ModifyDBCluster", id)),
            Some(s) if !s.is_available() => Err(rds_error(
                "ModifyDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = self.clusters.get_mut(id) {
                    c.cluster.capacity = Some(capacity);
                }
                Ok(())
            }
        }
    }

    pub(super) fn start(&mut self, id: &str, now: Instant) -> Result<(), AwsError> {
        match self.view(id, now).map(|c| c.status) {
            None => Err(not_found("StartDBCluster", id)),
            // Starting or running already: what was asked for (the adapter reads RDS's
            // InvalidDBClusterStateFault so).
            Some(ClusterStatus::Starting | ClusterStatus::Available) => Ok(()),
            Some(s) if !s.is_stopped() => Err(rds_error(
                "StartDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = self.clusters.get_mut(id) {
                    c.stopped_at = None;
                    c.starting_until = Some(now + STARTING);
                }
                Ok(())
            }
        }
    }
}

/// As RDS: a source without an instance cannot be restored, nor a minimum of 0 ACUs asked for
/// on an engine version that cannot pause.
fn admits_restore(source: &Cluster, r: &RestoreRequest) -> Result<(), AwsError> {
    if source.members.is_empty() {
        return Err(rds_error(
            RESTORE,
            "InvalidDBClusterStateFault",
            "source has no instance",
        ));
    }
    let version = source.engine_version.clone().unwrap_or_default();
    if r.capacity.is_some_and(|c| c.min == 0.0)
        && !capacity::auto_pause_supported(&source.engine, &version)
    {
        return Err(rds_error(
            RESTORE,
            "InvalidParameterCombination",
            "MinCapacity 0 is not supported by this engine version",
        ));
    }
    Ok(())
}

/// The cluster a restore of `source` makes, named `id`: the source's engine, port, user and
/// database; the request's network, tags, capacity and settings.
fn restored(source: &Cluster, r: &RestoreRequest, id: &str) -> Cluster {
    let mut c = Cluster::new(id, ClusterStatus::Available);
    c.arn = source.arn.replace(
        &format!(":cluster:{}", source.id),
        &format!(":cluster:{id}"),
    );
    c.engine = source.engine.clone();
    c.tags = r.tags.clone();
    c.subnet_group = r.subnet_group.clone();
    c.security_groups = r.security_groups.clone();
    c.endpoint = Some(format!("{id}.cluster-x.rds.local"));
    c.reader_endpoint = Some(format!("{id}.cluster-ro-x.rds.local"));
    c.port = source.port;
    c.master_username = source.master_username.clone();
    c.database_name = source.database_name.clone();
    c.engine_version = source.engine_version.clone();
    c.capacity = r.capacity;
    c.settings = r.settings.clone();
    c
}

impl FakeRds {
    pub(super) fn restore_in(
        &self,
        st: &mut RdsState,
        r: &RestoreRequest,
        now: Instant,
    ) -> Result<Created<Cluster>, AwsError> {
        let id = r.cluster_id.to_ascii_lowercase();
        if st.view(&id, now).is_some() || st.cluster_held(&id, now) {
            return Ok(Created::Exists);
        }
        let source = st
            .view(&r.source_cluster_id, now)
            .ok_or_else(|| not_found(RESTORE, &r.source_cluster_id))?;
        admits_restore(&source, r)?;
        let mut c = restored(&source, r, &id);
        if r.restore_type == RestoreType::CopyOnWrite {
            st.join_clone_group(&mut c, &r.source_cluster_id, now, self.clone_limit);
        }
        let fake = FakeCluster::new(c.clone(), now + self.create_delay);
        st.clusters.insert(id.clone(), fake);
        Ok(Created::New(st.view(&id, now).unwrap_or(c)))
    }

    pub(super) fn delete_cluster_in(
        &self,
        st: &mut RdsState,
        id: &str,
        now: Instant,
    ) -> Result<Deletion, AwsError> {
        let Some(view) = st.view(id, now) else {
            return Ok(Deletion::AlreadyGone);
        };
        if st.protected.contains(id) {
            return Err(rds_error(
                "DeleteDBCluster",
                "InvalidParameterCombination",
                "Cannot delete protected Cluster, please disable deletion protection and try again.",
            ));
        }
        refuse_unless_running("DeleteDBCluster", &view.status)?;
        if !view.members.is_empty() || view.status.is_creating() {
            return Ok(Deletion::NotYet);
        }
        if let Some(c) = st.clusters.get_mut(id) {
            c.gone_at.get_or_insert(now + self.delete_delay);
        }
        Ok(Deletion::Started)
    }

    pub(super) fn set_password_in(
        &self,
        st: &mut RdsState,
        cluster_id: &str,
        password: &str,
        now: Instant,
    ) -> Result<(), AwsError> {
        let pending_until = now + self.password_pending;
        if st.view(cluster_id, now).is_none() {
            return Err(not_found("ModifyDBCluster", cluster_id));
        }
        match st.clusters.get_mut(cluster_id) {
            Some(c) => {
                c.password = Some((pending_until, pending_until + self.password_delay));
                st.passwords
                    .insert(cluster_id.to_string(), password.to_string());
                Ok(())
            }
            None => Err(not_found("ModifyDBCluster", cluster_id)),
        }
    }
}
