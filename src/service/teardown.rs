//! Delete, and the reap work that finishes deletions RDS refused for now. A Delete is recorded
//! like any request; it cancels pending Creates of the same resource, starts deleting what this
//! tool provably made for it, and answers SUCCESS once every deletion has started (or the clone
//! is gone). A transient error leaves it for the next follow-up; only a permanent one fails it.
//! Reap work is bounded: after `REAP_GIVE_UP_SECS` of refusals it is given up, logged and
//! announced (`lifecycle-event/cleanup-failed`).

use super::answer::failed;
use super::apply::Applied;
use super::{Invocation, Manager, Progress};
use crate::cfn::{Outcome, PhysicalId};
use crate::domain::events::LifecycleEvent;
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::{Action, Removal};
use crate::planner::teardown::{plan_teardown, Named, PendingClone, Resource};
use crate::ports::Deletion;
use crate::state::{Answer, Phase, ReapItem, RequestItem, Work};

/// How long a cluster RDS refuses to delete is tried again before the work is given up.
pub const REAP_GIVE_UP_SECS: i64 = 6 * 3600;

impl Manager {
    pub(super) async fn advance_delete(&self, item: RequestItem, inv: &Invocation) -> Progress {
        let record = &item.record;
        match self.tear_down(&item, inv).await {
            Ok(()) => {
                let physical = record
                    .request
                    .physical_resource_id
                    .clone()
                    .unwrap_or_else(|| PhysicalId::failed(record.request_id()));
                let answer = Answer {
                    outcome: Outcome::success(physical, Default::default()),
                    event: None,
                    event_sent: false,
                };
                self.conclude(record, answer, inv).await
            }
            Err(e) if e.retryable => {
                tracing::warn!(error = %e, "delete not finished; the next follow-up retries");
                Progress::Pending(e.to_string())
            }
            Err(e) => {
                let answer = failed(&record.request, format!("delete failed: {e}"));
                self.conclude(record, answer, inv).await
            }
        }
    }

    /// Observes what the Delete concerns, plans, and applies.
    async fn tear_down(&self, item: &RequestItem, inv: &Invocation) -> Result<(), AwsError> {
        let request = &item.record.request;
        let physical = PhysicalId::parse(request.physical_resource_id.as_deref()).named();
        let clusters = match &physical {
            // The named clone is all a Delete of a reported clone needs to see.
            Named::Cluster(id) => self.observe_cluster(id).await?.into_iter().collect(),
            // Otherwise what the request made is found by its tags.
            Named::Failed(_) | Named::Foreign => self.observe_clusters().await?,
        };
        let pending = self.pending_clones(request.request_id.as_str()).await?;
        let resource = Resource {
            manager: &self.settings.stack_name,
            stack_id: &request.stack_id,
            logical_id: &request.logical_resource_id,
            physical,
        };
        let plan = plan_teardown(&resource, &clusters, &pending);
        for (id, why) in &plan.refused {
            tracing::warn!(cluster = %id, %why, "not deleting a cluster this tool cannot prove it created");
        }
        for action in &plan.actions {
            if let Applied::Deferred = self.apply(action, Some(item), inv).await? {
                if let Action::RemoveCluster(r) = action {
                    self.defer_removal(&r.cluster_id, inv).await?;
                }
            }
        }
        Ok(())
    }

    /// Pending requests other than `except`, as the teardown planner sees them.
    async fn pending_clones(&self, except: &str) -> Result<Vec<PendingClone>, AwsError> {
        Ok(self
            .ports
            .state
            .list()
            .await?
            .into_iter()
            .filter_map(|w| match w {
                Work::Request(r)
                    if r.phase == Phase::Pending && r.record.request_id() != except =>
                {
                    Some(PendingClone {
                        request_id: r.record.request_id().to_string(),
                        stack_id: r.record.request.stack_id.clone(),
                        logical_id: r.record.request.logical_resource_id.clone(),
                        cluster_id: r.record.cluster_id.clone(),
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// Records reap work for a cluster RDS will not delete yet, and arms the follow-ups.
    pub(crate) async fn defer_removal(
        &self,
        cluster_id: &str,
        inv: &Invocation,
    ) -> Result<(), AwsError> {
        let reap = ReapItem {
            cluster_id: cluster_id.to_string(),
            request_id: None,
            since: self.now_secs(),
            watch_until: 0,
            attempts: 0,
            last_error: None,
            given_up: false,
        };
        self.ports.state.put_reap(&reap, true).await?;
        self.arm_follow_ups(inv).await
    }

    /// Removes a cluster of this manager now (the CLI's `delete`): a deletion RDS refuses for
    /// now becomes reap work.
    pub async fn remove_cluster(
        &self,
        c: &Cluster,
        inv: &Invocation,
    ) -> Result<Deletion, AwsError> {
        if !self.may_remove(c) {
            return Err(AwsError::permanent(
                "RemoveCluster",
                "NotOurs",
                format!("{} is not managed by this stack", c.id),
            ));
        }
        let applied = self
            .apply(&Action::RemoveCluster(Removal::of(c)), None, inv)
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
    pub(super) async fn reap(&self, mut reap: ReapItem, inv: &Invocation) -> Progress {
        let now = self.now_secs();
        let cluster = match self.observe_cluster(&reap.cluster_id).await {
            Ok(c) => c,
            Err(e) => return Progress::Pending(e.to_string()),
        };
        let result = match cluster {
            None if now < reap.watch_until => return Progress::Pending("watching".into()),
            None => Ok(true),
            Some(c) if !self.reapable(&c, &reap) => Ok(true),
            Some(c) => self.reap_cluster(&c, &reap, inv).await,
        };
        match result {
            Ok(true) => match self.ports.state.remove_reap(&reap.cluster_id).await {
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
        let ours = self.may_remove(c)
            && reap
                .request_id
                .as_deref()
                .is_none_or(|r| Self::made_by(c, r));
        if !ours {
            tracing::warn!(cluster = %c.id, "reap skipped: the cluster is not this manager's to remove");
        }
        ours
    }

    /// True when the deletion has started (or the cluster is gone). The deletion was announced
    /// when it began, except for a failed request's clone (which nobody announced).
    async fn reap_cluster(
        &self,
        c: &Cluster,
        reap: &ReapItem,
        inv: &Invocation,
    ) -> Result<bool, AwsError> {
        let mut removal = Removal::of(c);
        if reap.request_id.is_none() {
            removal.event = None;
        }
        match self
            .apply(&Action::RemoveCluster(removal), None, inv)
            .await?
        {
            Applied::Deferred => Ok(false),
            _ => Ok(true),
        }
    }

    /// Notes a refusal; past the limit, gives the work up, logs and announces it.
    async fn refused(&self, mut reap: ReapItem, why: String) -> Progress {
        let now = self.now_secs();
        if now - reap.since >= REAP_GIVE_UP_SECS {
            reap.given_up = true;
            tracing::error!(cluster = %reap.cluster_id, attempts = reap.attempts, reason = %why,
                "giving up deleting a cluster RDS keeps refusing; delete it by hand");
            let event =
                LifecycleEvent::cleanup_failed(&reap.cluster_id, &why, reap.since, reap.attempts);
            if let Err(e) = self.ports.events.put(&event).await {
                tracing::error!(error = %e, "could not put the cleanup-failed event");
            }
        }
        reap.last_error = Some(why.clone());
        if let Err(e) = self.ports.state.put_reap(&reap, false).await {
            tracing::warn!(error = %e, "could not note the reap attempt");
        }
        if reap.given_up {
            Progress::Ignored(format!("given up: {why}"))
        } else {
            Progress::Pending(why)
        }
    }
}
