//! Delete of the custom resource. A Delete is recorded like any request; it cancels pending
//! Creates of the same resource (and delivers their FAILED answers), starts deleting what this
//! tool provably made for it, and answers SUCCESS once every deletion has started (or the clone
//! is gone). A transient error leaves it for the next follow-up; only a permanent one fails it.
//! Deletions RDS refuses for now become reap work (`reap`).

use super::answer::failed;
use super::apply::Applied;
use super::{Core, Invocation, Progress};
use crate::cfn::{Outcome, PhysicalId};
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::teardown::{plan_teardown, Named, PendingClone, Resource};
use crate::state::{Answer, Phase, RequestItem, Work};
use std::sync::Arc;

/// Deletes of the custom resource.
#[derive(Clone)]
pub struct Teardown {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) reaper: Arc<super::reap::Reaper>,
    pub(super) answers: Arc<super::answer::Answers>,
}

impl Teardown {
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
                self.answers.conclude(record, answer, inv).await
            }
            Err(e) if e.retryable => {
                tracing::warn!(error = %e, "delete not finished; the next follow-up retries");
                Progress::Pending(e.to_string())
            }
            Err(e) => {
                let answer = failed(&record.request, format!("delete failed: {e}"));
                self.answers.conclude(record, answer, inv).await
            }
        }
    }

    /// Observes what the Delete concerns, plans, and applies.
    async fn tear_down(&self, item: &RequestItem, inv: &Invocation) -> Result<(), AwsError> {
        let request = &item.record.request;
        let physical = named(&PhysicalId::parse(request.physical_resource_id.as_deref()));
        if let Named::Cluster(id) = &physical {
            self.deeds.refresh_settled(id).await?;
        }
        let clusters = match &physical {
            // The named clone is all a Delete of a reported clone needs to see.
            Named::Cluster(id) => self.deeds.observe_cluster(id).await?.into_iter().collect(),
            // Otherwise what the request made is found by its tags.
            Named::Failed(_) | Named::Foreign => self.deeds.observe_clusters().await?,
        };
        let pending = self.pending_clones(request.request_id.as_str()).await?;
        let resource = Resource {
            manager: &self.core.settings.stack_name,
            stack_id: &request.stack_id,
            logical_id: &request.logical_resource_id,
            physical,
        };
        let plan = plan_teardown(&resource, &clusters, &pending);
        for (id, why) in &plan.refused {
            tracing::warn!(cluster = %id, %why, "not deleting a cluster this tool cannot prove it created");
        }
        for action in &plan.actions {
            match (self.applier.apply(action, Some(item)).await?, action) {
                (Applied::Deferred, Action::RemoveCluster(r)) => {
                    self.reaper.defer_removal(&r.cluster_id, inv).await?;
                }
                (Applied::Cancelled(decided), _) => {
                    Box::pin(self.answers.deliver(&decided, inv)).await;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Pending requests other than `except`, as the teardown planner sees them.
    async fn pending_clones(&self, except: &str) -> Result<Vec<PendingClone>, AwsError> {
        Ok(self
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
}

/// What a Delete's physical id says, in the teardown planner's terms.
fn named(id: &PhysicalId) -> Named {
    match id {
        PhysicalId::Cluster(id) => Named::Cluster(id.clone()),
        PhysicalId::Failed(r) => Named::Failed(r.clone()),
        PhysicalId::Foreign => Named::Foreign,
    }
}
