//! Update: a replacement goes through the same path as Create (a new clone, a new ARN; the old
//! clone is left for CloudFormation's own Delete); changes in place (tags, who may read the
//! secret, the password turned on or off) are made on the current clone.

use super::answer::{failure_id, Tracker};
use super::{Invocation, Manager, Progress};
use crate::cfn::{CfnRequest, Outcome, PhysicalId};
use crate::domain::{ident, tags, Cluster, Tags};
use crate::error::Error;
use crate::planner::progress::data;
use crate::planner::revision::{decide, Credentials, Revision};
use crate::properties::CloneProperties;

impl Manager {
    pub(super) async fn update(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Error> {
        let old = request
            .old_resource_properties
            .as_ref()
            .and_then(|o| CloneProperties::parse(o).ok());
        let current = match PhysicalId::parse(request.physical_resource_id.as_deref()) {
            PhysicalId::Cluster(id) => self.ports.rds.cluster(&id).await?,
            _ => None,
        };
        match (decide(old.as_ref(), props, current.as_ref()), current) {
            (
                Revision::InPlace {
                    add,
                    remove,
                    credentials,
                },
                Some(cluster),
            ) => {
                self.retag(&cluster, &add, &remove).await?;
                self.change_credentials(request, props, cluster, credentials, inv, tracker)
                    .await
            }
            (Revision::Replace(why), current) => {
                self.replace(request, props, current.as_ref(), &why, inv, tracker)
                    .await
            }
            (Revision::InPlace { .. }, None) => {
                self.replace(
                    request,
                    props,
                    None,
                    "the current clone no longer exists",
                    inv,
                    tracker,
                )
                .await
            }
        }
    }

    async fn replace(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
        current: Option<&Cluster>,
        why: &str,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Error> {
        tracing::info!(%why, "update replaces the clone");
        if let (Some(c), Some(id)) = (current, &props.cluster_id) {
            if &c.id == id && !props.no_fail_on_existing_cluster {
                let reason = format!(
                    "this update replaces the clone ({why}), but ClusterId {id} is the current clone's: change ClusterId, remove it, or set NoFailOnExistingCluster"
                );
                self.answer_directly(
                    request,
                    Outcome::failed(failure_id(request), reason),
                    tracker,
                )
                .await;
                return Ok(Progress::Answered);
            }
        }
        self.start(request, props, inv, tracker).await
    }

    async fn change_credentials(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
        cluster: Cluster,
        change: Credentials,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Error> {
        match change {
            Credentials::Unchanged => {}
            Credentials::Readers => {
                self.set_readers(&cluster, &props.access_principal_arns)
                    .await?
            }
            Credentials::Disable => self.drop_credentials(&cluster).await?,
            Credentials::Enable | Credentials::Renew => {
                if change == Credentials::Renew {
                    self.drop_credentials(&cluster).await?;
                }
                let record = self.pending_request(request, props, cluster.id.clone(), true);
                return self.record_and_advance(record, inv, tracker).await;
            }
        }
        let cluster = self
            .ports
            .rds
            .cluster(&cluster.id)
            .await?
            .unwrap_or(cluster);
        let writer = cluster
            .writer()
            .map(str::to_string)
            .unwrap_or_else(|| ident::writer_instance_id(&cluster.id));
        let outcome = Outcome::success(cluster.arn.clone(), data(&cluster, &writer));
        self.answer_directly(request, outcome, tracker).await;
        Ok(Progress::Answered)
    }

    /// Removes the secret and a key made for the clone, and the tags that named them. The
    /// clone keeps its last password: nobody but the removed readers ever knew it.
    async fn drop_credentials(&self, cluster: &Cluster) -> Result<(), Error> {
        self.remove_credentials(cluster).await?;
        let keys: Vec<String> = [
            tags::PASSWORD_SECRET,
            tags::PASSWORD_KEY,
            tags::CREATED_KEY,
            tags::PASSWORD_STATE,
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        self.ports.rds.remove_tags(&cluster.arn, &keys).await?;
        Ok(())
    }

    async fn retag(&self, cluster: &Cluster, add: &Tags, remove: &[String]) -> Result<(), Error> {
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let instances: Vec<String> = self
            .ports
            .rds
            .instances(&cluster.id)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        let arn_prefix = cluster
            .arn
            .rsplit_once(":cluster:")
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let mut arns = vec![cluster.arn.clone()];
        arns.extend(instances.iter().map(|i| format!("{arn_prefix}:db:{i}")));
        for arn in &arns {
            if !add.is_empty() {
                self.ports.rds.add_tags(arn, add).await?;
            }
            if !remove.is_empty() {
                self.ports.rds.remove_tags(arn, remove).await?;
            }
        }
        Ok(())
    }
}
