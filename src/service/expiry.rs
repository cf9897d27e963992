//! Clone expiry: the schedules made when a clone is ready, the schedule firing (`expire`), and
//! the maintenance backstop over every clone of the stack. What is due is the planner's
//! (`planner::expiry`); a schedule that fires early finds nothing due.

use super::{Applied, Core, Invocation};
use crate::domain::expiry::{Expiry, EXTENDED};
use crate::domain::tags;
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::expiry::{due, moved, schedules};
use crate::state::Work;
use std::sync::Arc;
use time::OffsetDateTime;

pub use super::apply::schedule_target;

/// Clones' expiry: schedules, stops and deletes.
#[derive(Clone)]
pub struct Expiries {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) reaper: Arc<super::reap::Reaper>,
}

impl Expiries {
    /// Makes a ready clone's expiry schedules (best effort: maintenance is the backstop).
    pub(super) async fn schedule_expiry(&self, cluster: &Cluster) {
        let lead = self.core.settings.expiry_warning;
        for action in schedules(cluster, lead, self.core.clock.now()) {
            if let Err(e) = self.applier.apply(&action, None).await {
                tracing::warn!(error = %e, cluster = %cluster.id, "could not schedule the clone's expiry; maintenance acts on it");
            }
        }
    }

    /// An expiry schedule fired (or maintenance looks): act on what is due for the clone.
    pub async fn expire(&self, cluster_id: &str, inv: &Invocation) -> Result<usize, AwsError> {
        let Some(cluster) = self.deeds.observe_cluster(cluster_id).await? else {
            return Ok(0);
        };
        if !self.core.may_remove(&cluster) {
            tracing::warn!(cluster = %cluster_id, "an expiry about a cluster this manager does not own: ignored");
            return Ok(0);
        }
        self.act_on_expiry(&cluster, inv).await
    }

    /// Applies what the clone's expiry asks for now; returns how many actions it took.
    pub(crate) async fn act_on_expiry(
        &self,
        cluster: &Cluster,
        inv: &Invocation,
    ) -> Result<usize, AwsError> {
        let actions = due(
            cluster,
            self.core.settings.expiry_warning,
            self.core.clock.now(),
        );
        for action in &actions {
            if let Applied::Deferred = self.applier.apply(action, None).await? {
                if let Action::RemoveCluster(r) = action {
                    self.reaper.defer_removal(&r.cluster_id, inv).await?;
                }
            }
        }
        Ok(actions.len())
    }

    /// The maintenance backstop: every clone of this stack whose expiry asks for something now,
    /// except those being removed (a stopped clone is started to be deleted: not stopped again).
    pub(crate) async fn expire_due(&self, clusters: &[Cluster], inv: &Invocation) -> Vec<String> {
        let expiring = |c: &&Cluster| {
            self.core.may_remove(c) && c.tags.contains_key(crate::domain::expiry::EXPIRES_AT)
        };
        if !clusters.iter().any(|c| expiring(&c)) {
            return vec![];
        }
        let removing: Vec<String> = match self.state.list().await {
            Ok(work) => work
                .into_iter()
                .filter_map(|w| match w {
                    Work::Reap(r) => Some(r.cluster_id),
                    _ => None,
                })
                .collect(),
            Err(e) => return vec![format!("state table: {e}")],
        };
        let mut errors = vec![];
        for c in clusters
            .iter()
            .filter(|c| expiring(c) && !removing.contains(&c.id))
        {
            if let Err(e) = self.act_on_expiry(c, inv).await {
                errors.push(format!("{}: {e}", c.id));
            }
        }
        errors
    }
}

/// Why `extend` did not move a clone's expiry.
#[derive(Debug, thiserror::Error)]
pub enum ExtendRefused {
    #[error("{0}: no such cluster")]
    NoCluster(String),
    #[error("{0} is not a clone made by stack {1}")]
    NotOurs(String, String),
    #[error("{0} has no expiry (set ExpiresAfter or ExpiresAt on its resource)")]
    NoExpiry(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl Expiries {
    /// The operator's `extend`: moves a clone's expiry `by` later (from now, if it passed),
    /// tagged as an extension. The stack's own next change of `ExpiresAfter`/`ExpiresAt` wins
    /// over it; an Update that leaves them alone keeps it. Returns the new expiry.
    pub async fn extend(
        &self,
        cluster_id: &str,
        by: std::time::Duration,
        dry_run: bool,
    ) -> Result<OffsetDateTime, ExtendRefused> {
        let cluster = self
            .deeds
            .observe_cluster(cluster_id)
            .await?
            .ok_or_else(|| ExtendRefused::NoCluster(cluster_id.into()))?;
        let manager = &self.core.settings.stack_name;
        let ours = cluster
            .ownership()
            .is_some_and(|o| &o.managed_by == manager && o.role == crate::domain::Role::Clone);
        if !ours {
            return Err(ExtendRefused::NotOurs(cluster_id.into(), manager.clone()));
        }
        let expiry = Expiry::from_tags(&cluster.tags)
            .ok_or_else(|| ExtendRefused::NoExpiry(cluster_id.into()))?;
        let now = self.core.clock.now();
        let at = expiry.at.max(now) + by;
        if !dry_run {
            let extra = [(EXTENDED.to_string(), tags::format_time(now))].into();
            let lead = self.core.settings.expiry_warning;
            for action in moved(&cluster, at, expiry.action, extra, lead, now) {
                self.applier.apply(&action, None).await?;
            }
        }
        Ok(at)
    }
}
