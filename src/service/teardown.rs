//! Delete, and removing the clusters this tool made. Deleting never waits for RDS: instances and
//! cluster deletions are started, and a cluster RDS will not delete yet is left as pending reap
//! work for the follow-ups.

use super::answer::Tracker;
use super::{Invocation, Manager, Progress};
use crate::cfn::{CfnRequest, Outcome, PhysicalId};
use crate::domain::{ident, Cluster, Role};
use crate::error::Error;
use crate::pending::PendingWork;
use crate::planner::teardown::{plan_teardown, Resource};
use crate::ports::Deletion;

impl Manager {
    pub(super) async fn delete(
        &self,
        request: &CfnRequest,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Progress {
        let physical_id = request
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| PhysicalId::failed(&request.request_id));
        let outcome = match self.delete_resource(request, inv).await {
            Ok(()) => Outcome::success(physical_id, Default::default()),
            Err(e) => Outcome::failed(physical_id, format!("delete failed: {e}")),
        };
        self.answer_directly(request, outcome, tracker).await;
        Progress::Answered
    }

    async fn delete_resource(&self, request: &CfnRequest, inv: &Invocation) -> Result<(), Error> {
        let clusters = self.ports.rds.clusters().await?;
        let pending: Vec<_> = self
            .ports
            .pending
            .list()
            .await?
            .into_iter()
            .filter_map(|(_, w)| match w {
                PendingWork::Respond(r) => Some(*r),
                PendingWork::Reap { .. } | PendingWork::Maintain { .. } => None,
            })
            .collect();
        let resource = Resource {
            manager: &self.settings.stack_name,
            stack_id: &request.stack_id,
            logical_id: &request.logical_resource_id,
            physical: PhysicalId::parse(request.physical_resource_id.as_deref()),
        };
        let plan = plan_teardown(&resource, &clusters, &pending);
        for record in pending
            .iter()
            .filter(|p| plan.cancel.contains(&p.request.request_id))
        {
            let reason = "cancelled: CloudFormation sent Delete for this resource before the clone was ready";
            self.answer_pending(
                record,
                Outcome::failed(super::answer::failure_id(&record.request), reason),
            )
            .await;
        }
        for (id, why) in &plan.refused {
            tracing::warn!(cluster = %id, %why, "not deleting a cluster this tool cannot prove it created");
        }
        let mut deferred = false;
        for c in clusters.iter().filter(|c| plan.remove.contains(&c.id)) {
            deferred |= self.remove_cluster(c).await? == Deletion::NotYet;
            let detail = serde_json::json!({"clusterId": c.id, "role": "clone", "stackId": request.stack_id,
                "logicalResourceId": request.logical_resource_id, "sourceClusterId": c.lineage().map(|l| l.source),
                "rootClusterId": c.lineage().map(|l| l.root), "passwordSecretArn": c.tags.get(crate::domain::tags::PASSWORD_SECRET)});
            if let Err(e) = self
                .ports
                .events
                .put("lifecycle-event/clone-deleted", &detail)
                .await
            {
                tracing::error!(error = %e, "could not put the clone-deleted event");
            }
        }
        if deferred {
            if let Some(arn) = &inv.function_arn {
                self.ports.follow_ups.ensure(arn).await?;
            }
        }
        Ok(())
    }

    /// Starts deleting a cluster and its instances, without a final snapshot. When RDS refuses
    /// the cluster for now, records reap work for the follow-ups.
    pub async fn remove_cluster(&self, cluster: &Cluster) -> Result<Deletion, Error> {
        if cluster.status == "deleting" {
            return Ok(Deletion::Started);
        }
        self.remove_credentials(cluster).await?;
        let mut instances: Vec<String> = cluster
            .members
            .iter()
            .map(|m| m.instance_id.clone())
            .collect();
        let writer = ident::writer_instance_id(&cluster.id);
        if !instances.contains(&writer) {
            instances.push(writer);
        }
        for id in &instances {
            self.ports.rds.delete_instance(id).await?;
        }
        let outcome = self.ports.rds.delete_cluster(&cluster.id).await?;
        tracing::info!(cluster = %cluster.id, ?outcome, "cluster deletion");
        if outcome == Deletion::NotYet {
            let since = self.clock.now().unix_timestamp();
            self.ports
                .pending
                .add(
                    &format!("reap-{}", cluster.id),
                    &PendingWork::Reap {
                        cluster_id: cluster.id.clone(),
                        since,
                    },
                )
                .await?;
        }
        Ok(outcome)
    }

    /// A follow-up of reap work: try the cluster's deletion again, if it is still ours.
    pub(super) async fn reap(&self, key: &str, cluster_id: &str) -> Progress {
        let cluster = match self.ports.rds.cluster(cluster_id).await {
            Ok(c) => c,
            Err(e) => return Progress::Pending(e.to_string()),
        };
        let done = match cluster {
            None => true,
            Some(c) if !self.may_remove(&c) => {
                tracing::warn!(cluster = %cluster_id, "reap skipped: cluster is not a clone of this manager");
                true
            }
            Some(c) => matches!(
                self.remove_cluster(&c).await,
                Ok(Deletion::Started | Deletion::AlreadyGone)
            ),
        };
        if done {
            let _ = self.ports.pending.take(key).await;
            Progress::Answered
        } else {
            Progress::Pending(format!("cluster {cluster_id} not deletable yet"))
        }
    }

    fn may_remove(&self, c: &Cluster) -> bool {
        // Clones of this manager, or its pool copies (which maintenance retires).
        c.ownership().is_some_and(|o| {
            o.managed_by == self.settings.stack_name && matches!(o.role, Role::Clone | Role::Copy)
        })
    }
}
