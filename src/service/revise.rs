//! Update. Recorded first like every request; its first step decides what the Update means.
//! A replacement becomes a request for a new clone (a new ARN; the old clone is left for
//! CloudFormation's own Delete). Changes in place (tags, who may read the secret, the password
//! turned off) are applied to the current clone; turning the password on (or re-keying it)
//! continues as a request that sets a password on the current clone.
//!
//! An Update acts only on a clone whose deed in the ownership ledger names the request's stack
//! and logical id: a forged request naming another team's clone changes nothing. What the Update
//! changes is judged against the properties the clone's deed says it satisfies, never against
//! OldResourceProperties: CloudFormation's rollback sends the same id with the properties swapped,
//! and a clone that already satisfies them must be kept (a new id makes CloudFormation delete
//! the clone in use).

use super::answer::failed;
use super::Core;
use super::{Invocation, Progress};
use crate::cfn::{Outcome, PhysicalId};
use crate::domain::properties::CloneProperties;
use crate::domain::{Cluster, Deed};
use crate::error::AwsError;
use crate::planner::expiry;
use crate::planner::progress::data;
use crate::planner::revision::{decide, in_place_actions, Credentials, Revision};
use crate::state::{Answer, RequestItem};
use serde_json::Value;
use std::sync::Arc;

/// Updates of the custom resource.
#[derive(Clone)]
pub struct Revise {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) answers: Arc<super::answer::Answers>,
    pub(super) place: Arc<super::place::Place>,
}

impl Revise {
    pub(super) async fn advance_update(&self, item: RequestItem, inv: &Invocation) -> Progress {
        match self.revise_clone(&item, inv).await {
            Ok(progress) => progress,
            Err(e) if e.retryable => {
                tracing::warn!(error = %e, "update not finished; the next follow-up retries");
                Progress::Pending(e.to_string())
            }
            Err(e) => {
                let answer = failed(&item.record.request, e.to_string());
                self.answers.conclude(&item.record, answer, inv).await
            }
        }
    }

    async fn revise_clone(
        &self,
        item: &RequestItem,
        inv: &Invocation,
    ) -> Result<Progress, AwsError> {
        let request = &item.record.request;
        let props = match CloneProperties::parse(&request.resource_properties) {
            Ok(p) => p,
            Err(e) => return Ok(self.fail(item, format!("invalid property {e}"), inv).await),
        };
        if let Err(reason) = self.place.admissible(&props, &request.stack_id) {
            return Ok(self.fail(item, reason, inv).await);
        }
        let current = match PhysicalId::parse(request.physical_resource_id.as_deref()) {
            PhysicalId::Cluster(id) => {
                self.deeds.refresh_settled(&id).await?;
                self.deeds.observe_cluster(&id).await?
            }
            _ => None,
        };
        if let Some(c) = current
            .as_ref()
            .filter(|c| !self.is_resource_clone(c, item))
        {
            let reason = format!(
                "cluster {} is not a clone of this stack's resource {}; nothing was changed",
                c.id, request.logical_resource_id
            );
            return Ok(self.fail(item, reason, inv).await);
        }
        // What the clone is (its deed), never what the request says it was: a rollback swaps
        // OldResourceProperties, and a clone that already satisfies the properties is kept.
        let old = current.as_ref().and_then(satisfied);
        let revision = decide(old.as_ref(), &props, current.as_ref());
        match (revision, current) {
            (Revision::Replace(why), current) => {
                self.replace(item, &props, current, &why, inv).await
            }
            (revision, Some(cluster)) => {
                self.change_in_place(item, &props, cluster, revision, inv)
                    .await
            }
            (Revision::InPlace { .. }, None) => Ok(self
                .fail(item, "the current clone no longer exists".into(), inv)
                .await),
        }
    }

    fn is_resource_clone(&self, c: &Cluster, item: &RequestItem) -> bool {
        let r = &item.record.request;
        c.ownership().is_some_and(|o| {
            o.is_clone_of_resource(
                &self.core.settings.stack_name,
                &r.stack_id,
                &r.logical_resource_id,
            )
        })
    }

    async fn fail(&self, item: &RequestItem, reason: String, inv: &Invocation) -> Progress {
        self.answers
            .conclude(&item.record, failed(&item.record.request, reason), inv)
            .await
    }

    /// A new clone: the record takes its identifier, then it goes on as a Create would.
    async fn replace(
        &self,
        item: &RequestItem,
        props: &CloneProperties,
        current: Option<Cluster>,
        why: &str,
        inv: &Invocation,
    ) -> Result<Progress, AwsError> {
        tracing::info!(%why, "update replaces the clone");
        let (cluster_id, fallback_id) =
            self.place
                .clone_ids(props, item.record.received, &item.record.request);
        if current.as_ref().is_some_and(|c| c.id == cluster_id) && fallback_id.is_none() {
            let reason = format!(
                "this update replaces the clone ({why}), but ClusterId {cluster_id} is the current clone's: change ClusterId, remove it, or set NoFailOnExistingCluster"
            );
            return Ok(self.fail(item, reason, inv).await);
        }
        let mut record = item.record.clone();
        record.cluster_id = cluster_id;
        record.fallback_id = fallback_id;
        self.continue_as(item, record, inv).await
    }

    async fn continue_as(
        &self,
        item: &RequestItem,
        record: crate::state::RequestRecord,
        inv: &Invocation,
    ) -> Result<Progress, AwsError> {
        match self.state.revise(item, &record).await? {
            Some(revised) => Ok(self.place.advance_clone(revised, false, inv).await),
            None => Ok(Progress::Pending(
                "the request's record changed meanwhile".into(),
            )),
        }
    }

    async fn change_in_place(
        &self,
        item: &RequestItem,
        props: &CloneProperties,
        cluster: Cluster,
        revision: Revision,
        inv: &Invocation,
    ) -> Result<Progress, AwsError> {
        let old = satisfied(&cluster);
        let mut actions = in_place_actions(&revision, &cluster, &props.access_principal_arns);
        if let Some(change) = expiry::change(old.as_ref(), props, &cluster) {
            let lead = self.core.settings.expiry_warning;
            actions.extend(expiry::change_actions(
                &cluster,
                change,
                lead,
                self.core.clock.now(),
            ));
        }
        // The refresh schedule changes in place (`RefreshSchedule`, `RefreshTimezone`).
        actions.extend(crate::planner::refresh::schedule_action(
            &cluster,
            props,
            old.as_ref(),
        ));
        for action in actions {
            self.applier.apply(&action, Some(item)).await?;
        }
        if let Revision::InPlace {
            credentials: Credentials::Enable | Credentials::Renew,
            ..
        } = revision
        {
            self.note_properties(&cluster.id, &item.record.request.resource_properties)
                .await?;
            let mut record = item.record.clone();
            record.cluster_id = cluster.id.clone();
            record.adopted = true;
            return self.continue_as(item, record, inv).await;
        }
        self.note_properties(&cluster.id, &item.record.request.resource_properties)
            .await?;
        let cluster = self
            .deeds
            .observe_cluster(&cluster.id)
            .await?
            .unwrap_or(cluster);
        let writer = cluster.writer().unwrap_or_default().to_string();
        let answer = Answer {
            outcome: Outcome::success(cluster.arn.clone(), data(&cluster, &writer)),
            event: None,
            event_sent: false,
        };
        Ok(self.answers.conclude(&item.record, answer, inv).await)
    }

    /// Records in the clone's deed the properties it now satisfies.
    async fn note_properties(&self, cluster_id: &str, props: &Value) -> Result<(), AwsError> {
        let deed = self.deeds.fresh_deed(cluster_id).await?;
        if deed.properties.as_ref() != Some(props) {
            let noted = Deed {
                properties: Some(props.clone()),
                ..deed
            };
            self.deeds.amend_deed(&noted).await?;
        }
        Ok(())
    }
}

/// The properties the clone satisfies, by its deed (`None` for a clone adopted without them:
/// then the clone itself is compared, and nothing is replaced).
fn satisfied(cluster: &Cluster) -> Option<CloneProperties> {
    let props = cluster.deed.as_ref()?.properties.as_ref()?;
    CloneProperties::parse(props).ok()
}
