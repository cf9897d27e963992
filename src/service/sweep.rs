//! The orphan sweep over this stack's clones: ask each clone's stack whether it still claims it
//! (one DescribeStackResource per clone made for a stack), then mark, clear or remove through the
//! one applier (`planner::sweep` decides). Run by every scheduled maintenance and by the CLI's
//! `sweep`; a dry run asks and reports, and changes nothing.

use super::Core;
use super::{Applied, Invocation, Lease};
use crate::domain::{tags, Cluster};
use crate::planner::action::Action;
use crate::planner::sweep::{self, Standing};
use crate::state::Phase;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Time kept for one clone's look-up and removal.
const CLONE_BUDGET: Duration = Duration::from_secs(5);
/// The sweep's lease outlasts the invocation that takes it (at most two minutes).
const SWEEP_LEASE_SECS: i64 = 150;

/// A clone whose owner does not (provably) claim it, with the reason.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub cluster_id: String,
    pub stack_id: String,
    pub logical_id: String,
    /// `orphan`, `unknown` (left alone) or `kept` (orphaned on purpose).
    pub standing: &'static str,
    pub reason: String,
    pub orphan_since: Option<String>,
    /// When an orphan is (or was) due for removal.
    pub remove_after: Option<String>,
    pub removed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Finding clones whose stack no longer claims them.
#[derive(Clone)]
pub struct Sweep {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) stacks: Arc<dyn crate::ports::Stacks>,
    pub(super) leases: Arc<super::lease::Leases>,
    pub(super) reaper: Arc<super::reap::Reaper>,
    pub(super) applier: Arc<super::apply::Applier>,
}

impl Sweep {
    /// Sweeps every clone of this stack in `clusters` under the `sweep` lease (a scheduled
    /// event delivered twice must not sweep twice at once: one orphan, one removal, one event);
    /// returns the clones not claimed. A busy lease sweeps nothing: the other run does.
    pub async fn sweep(
        &self,
        clusters: &[Cluster],
        dry_run: bool,
        inv: &Invocation,
    ) -> Vec<Finding> {
        let manager = &self.core.settings.stack_name;
        if !clusters.iter().any(|c| sweep::owner(c, manager).is_some()) {
            return vec![];
        }
        let lease = match self
            .leases
            .take_lease_for("sweep", SWEEP_LEASE_SECS, inv)
            .await
        {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                tracing::info!("another invocation is sweeping");
                return vec![];
            }
            Err(e) => {
                tracing::warn!(error = %e, "sweep skipped: its lease could not be taken");
                return vec![];
            }
        };
        let findings = self.sweep_leased(clusters, dry_run, inv, &lease).await;
        self.leases.release(&lease, inv).await;
        findings
    }

    async fn sweep_leased(
        &self,
        clusters: &[Cluster],
        dry_run: bool,
        inv: &Invocation,
        lease: &Lease,
    ) -> Vec<Finding> {
        let manager = &self.core.settings.stack_name;
        let mut out = vec![];
        for c in clusters {
            let Some((stack_id, logical_id)) = sweep::owner(c, manager) else {
                continue;
            };
            if !inv.has_time_for(CLONE_BUDGET) || !self.leases.lease_holds(lease) {
                tracing::info!("sweep stopped: no time left (the next run goes on)");
                break;
            }
            let standing = self.standing_of(c, &stack_id, &logical_id).await;
            let actions = sweep::actions(
                c,
                &standing,
                self.core.settings.orphan_grace,
                self.core.clock.now(),
            );
            let removes = actions
                .iter()
                .any(|a| matches!(a, Action::RemoveCluster(_)));
            // A removal only under a lease still held (its fencing number confirmed at the
            // table): a sweep whose lease was taken over meanwhile removes nothing.
            if removes && !dry_run && !self.leases.still_held(lease, inv).await {
                tracing::info!("sweep stopped: its lease was taken over");
                break;
            }
            let error = match dry_run {
                true => None,
                false => self.apply_sweep(&actions, inv).await.err(),
            };
            let removed = removes && !dry_run && error.is_none();
            if let Some(f) = self.finding(c, (stack_id, logical_id), &standing, removed, error) {
                tracing::info!(cluster = %f.cluster_id, standing = f.standing, reason = %f.reason, removed = f.removed, "sweep");
                out.push(f);
            }
        }
        out
    }

    async fn standing_of(&self, c: &Cluster, stack_id: &str, logical_id: &str) -> Standing {
        match self.stacks.resource(stack_id, logical_id).await {
            Err(e) => Standing::Unknown(format!("its stack cannot be read: {e}")),
            Ok(r) => match sweep::standing(c, &r) {
                Standing::FailedCreate => self.failed_create(c).await,
                s => s,
            },
        }
    }

    /// A clone whose Create answered FAILED: an orphan unless its request is still pending.
    async fn failed_create(&self, c: &Cluster) -> Standing {
        let failed = || Standing::Orphan("the Create that made it failed".into());
        let Some(request_id) = c.deed.as_ref().and_then(|d| d.request_id.as_ref()) else {
            return failed();
        };
        match self.state.request(request_id).await {
            Ok(Some(item)) if item.phase != Phase::Done => {
                Standing::Unknown("its Create is still being answered".into())
            }
            Ok(_) => failed(),
            Err(e) => Standing::Unknown(format!("its request cannot be read: {e}")),
        }
    }

    async fn apply_sweep(&self, actions: &[Action], inv: &Invocation) -> Result<(), String> {
        for action in actions {
            let applied = self
                .applier
                .apply(action, None)
                .await
                .map_err(|e| e.to_string())?;
            if let (Applied::Deferred, Action::RemoveCluster(r)) = (applied, action) {
                self.reaper
                    .defer_removal(&r.cluster_id, inv)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn finding(
        &self,
        c: &Cluster,
        (stack_id, logical_id): (String, String),
        standing: &Standing,
        removed: bool,
        error: Option<String>,
    ) -> Option<Finding> {
        let (kind, reason) = match standing {
            Standing::Owned => return None,
            Standing::Orphan(r) => ("orphan", r.clone()),
            Standing::Unknown(r) => ("unknown", r.clone()),
            Standing::FailedCreate => ("unknown", "its Create failed".into()),
            Standing::Kept(r) => ("kept", r.clone()),
        };
        let since = sweep::orphan_since(c).or((kind == "orphan").then(|| self.core.clock.now()));
        Some(Finding {
            cluster_id: c.id.clone(),
            stack_id,
            logical_id,
            standing: kind,
            reason,
            orphan_since: since.map(tags::format_time),
            remove_after: since.map(|t| tags::format_time(t + self.core.settings.orphan_grace)),
            removed,
            error,
        })
    }
}
