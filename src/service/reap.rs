//! Reap work: removing a cluster this tool made, where RDS refused for now or a failed
//! request's clone may still appear; each try observes the cluster and removes it only when its
//! deed says this stack made it. Reap work is bounded: after `REAP_GIVE_UP_SECS` of refusals it
//! is given up, logged and announced (`lifecycle-event/cleanup-failed`).

use super::apply::{Applied, Applier};
use super::ledger::Deeds;
use super::rule::Rule;
use super::{Core, Invocation, Progress};
use crate::domain::events::LifecycleEvent;
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::{Action, Removal};
use crate::ports::{Deletion, Events, StateStore};
use crate::state::ReapItem;
use std::sync::Arc;

/// How long a cluster RDS refuses to delete is tried again before the work is given up.
pub const REAP_GIVE_UP_SECS: i64 = 6 * 3600;

/// Removes clusters this tool made, now or by reap work.
#[derive(Clone)]
pub struct Reaper {
    pub(super) core: Core,
    pub(super) state: Arc<dyn StateStore>,
    pub(super) deeds: Arc<Deeds>,
    pub(super) applier: Arc<Applier>,
    pub(super) events: Arc<dyn Events>,
    pub(super) rule: Arc<Rule>,
}

impl Reaper {
    /// Records reap work for a cluster RDS will not delete yet, and arms the follow-ups.
    pub(crate) async fn defer_removal(
        &self,
        cluster_id: &str,
        inv: &Invocation,
    ) -> Result<(), AwsError> {
        let reap = ReapItem {
            cluster_id: cluster_id.to_string(),
            request_id: None,
            since: self.core.now_secs(),
            watch_until: 0,
            attempts: 0,
            last_error: None,
            given_up: false,
        };
        self.state.put_reap(&reap, true).await?;
        self.rule.arm_follow_ups(inv).await
    }

    /// Removes a cluster of this manager now (the CLI's `delete`): a deletion RDS refuses for
    /// now becomes reap work.
    pub async fn remove_cluster(
        &self,
        c: &Cluster,
        inv: &Invocation,
    ) -> Result<Deletion, AwsError> {
        if !self.core.may_remove(c) {
            return Err(AwsError::permanent(
                "RemoveCluster",
                "NotOurs",
                format!("{} is not managed by this stack", c.id),
            ));
        }
        let applied = self
            .applier
            .apply(&Action::RemoveCluster(Removal::of(c)), None)
            .await?;
        Ok(match applied {
            Applied::Deferred => {
                self.defer_removal(&c.id, inv).await?;
                Deletion::NotYet
            }
            _ => Deletion::Started,
        })
    }

    /// A follow-up of reap work: remove the cluster if it is (still) ours, or give up after
    /// the limit.
    pub(super) async fn reap(&self, mut reap: ReapItem, _inv: &Invocation) -> Progress {
        let now = self.core.now_secs();
        let cluster = match self.deeds.observe_cluster(&reap.cluster_id).await {
            Ok(c) => c,
            Err(e) => return Progress::Pending(e.to_string()),
        };
        let result = match cluster {
            None if now < reap.watch_until => return Progress::Pending("watching".into()),
            None => Ok(true),
            Some(c) if !self.reapable(&c, &reap) => Ok(true),
            Some(c) => self.reap_cluster(&c, &reap).await,
        };
        match result {
            Ok(true) => match self.state.remove_reap(&reap.cluster_id).await {
                Ok(()) => Progress::Answered,
                Err(e) => Progress::Pending(e.to_string()),
            },
            Ok(false) => {
                reap.attempts += 1;
                self.refused(reap, "RDS refuses to delete it for now".into())
                    .await
            }
            Err(e) => {
                reap.attempts += 1;
                self.refused(reap, e.to_string()).await
            }
        }
    }

    /// A reap removes only a cluster of this manager, and, for a failed request's clone, only
    /// the one carrying that request's tag.
    fn reapable(&self, c: &Cluster, reap: &ReapItem) -> bool {
        let ours = self.core.may_remove(c)
            && reap
                .request_id
                .as_deref()
                .is_none_or(|r| super::made_by(c, r));
        if !ours {
            tracing::warn!(cluster = %c.id, "reap skipped: the cluster is not this manager's to remove");
        }
        ours
    }

    /// True when the deletion has started (or the cluster is gone). The deletion was announced
    /// when it began, except for a failed request's clone (which nobody announced).
    async fn reap_cluster(&self, c: &Cluster, reap: &ReapItem) -> Result<bool, AwsError> {
        let mut removal = Removal::of(c);
        // A refresh's own clusters (the new one given up, the old one retired) are no clone
        // their users know: nothing is announced.
        let helper = c.deed.as_ref().is_some_and(|d| d.refresh_of.is_some());
        if reap.request_id.is_none() || helper {
            removal.event = None;
        }
        match self
            .applier
            .apply(&Action::RemoveCluster(removal), None)
            .await?
        {
            Applied::Deferred => Ok(false),
            _ => Ok(true),
        }
    }

    /// Notes a refusal; past the limit, gives the work up, logs and announces it.
    async fn refused(&self, mut reap: ReapItem, why: String) -> Progress {
        let now = self.core.now_secs();
        if now - reap.since >= REAP_GIVE_UP_SECS {
            reap.given_up = true;
            tracing::error!(cluster = %reap.cluster_id, attempts = reap.attempts, reason = %why,
                "giving up deleting a cluster RDS keeps refusing; delete it by hand");
            let event =
                LifecycleEvent::cleanup_failed(&reap.cluster_id, &why, reap.since, reap.attempts);
            if let Err(e) = self.events.put(&event).await {
                tracing::error!(error = %e, "could not put the cleanup-failed event");
            }
        }
        reap.last_error = Some(why.clone());
        if let Err(e) = self.state.put_reap(&reap, false).await {
            tracing::warn!(error = %e, "could not note the reap attempt");
        }
        if reap.given_up {
            Progress::Ignored(format!("given up: {why}"))
        } else {
            Progress::Pending(why)
        }
    }
}
