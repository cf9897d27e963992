//! The one applier: every action any flow plans is carried out here, through the ports. What an
//! action found comes back as `Applied`; a failure is an `AwsError` that says whether trying
//! again later can help (judged by the adapters, never here).

use super::Core;
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::{Action, Removal, Renamed, Tagged};
use crate::planner::expiry::schedule_input;
use crate::ports::{Created, Deletion, ScheduleTarget};
use crate::state::{failed, Phase, RequestItem};
use std::sync::Arc;
use time::OffsetDateTime;

/// What an expiry schedule invokes, and as whom: this stack's function (the template names it
/// `<stack>-clone-manager`, unqualified: the expiry role may invoke that ARN alone) as the
/// stack's expiry role (`<stack>-expiry-<region>`), in the clone's partition, region and account.
/// `tests/template.rs` holds these names to the template's.
pub fn schedule_target(stack: &str, cluster_arn: &str) -> Option<ScheduleTarget> {
    let parts: Vec<&str> = cluster_arn.split(':').collect();
    let [_, partition, _, region, account, ..] = parts.as_slice() else {
        return None;
    };
    Some(ScheduleTarget {
        function_arn: format!(
            "arn:{partition}:lambda:{region}:{account}:function:{stack}-clone-manager"
        ),
        role_arn: format!("arn:{partition}:iam::{account}:role/{stack}-expiry-{region}"),
    })
}

/// What applying an action found.
#[derive(Debug)]
pub enum Applied {
    Done,
    /// A restore made this cluster (as RDS reported it at once, with its deed).
    Cluster(Box<Cluster>),
    /// RDS refused a deletion for now: reap work continues it.
    Deferred,
    /// The request's record after a `Retarget`.
    Retargeted(Box<RequestItem>),
    /// A `Cancel` decided this request's FAILED answer: the caller delivers it.
    Cancelled(Box<RequestItem>),
    /// What a rename call found.
    Renamed(crate::ports::Renaming),
}

/// The one applier of the planner's actions.
#[derive(Clone)]
pub struct Applier {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) secrets: Arc<dyn crate::ports::Secrets>,
    pub(super) keys: Arc<dyn crate::ports::Keys>,
    pub(super) schedules: Arc<dyn crate::ports::Schedules>,
    pub(super) events: Arc<dyn crate::ports::Events>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) credentials: Arc<super::credentials::Credentials>,
}

impl Applier {
    /// Applies one action. `item` is the request being served, for the actions that change its
    /// record.
    pub(crate) async fn apply(
        &self,
        action: &Action,
        item: Option<&RequestItem>,
    ) -> Result<Applied, AwsError> {
        match action {
            Action::Restore(r) => {
                let deed = self.deeds.enter_restore(r, item).await?;
                tracing::info!(cluster = %r.cluster_id, source = %r.source_cluster_id, kind = ?r.restore_type, "restoring");
                Ok(match self.rds.restore(r).await? {
                    Created::New(c) => Applied::Cluster(Box::new(Cluster {
                        deed: Some(deed),
                        ..c
                    })),
                    Created::Exists => {
                        self.deeds.restore_found(r).await?;
                        Applied::Done
                    }
                })
            }
            Action::CreateInstance(i) => {
                tracing::info!(instance = %i.instance_id, cluster = %i.cluster_id, class = %i.class, "creating writer instance");
                self.rds.create_instance(i).await?;
                Ok(Applied::Done)
            }
            Action::SetPassword { cluster, plan } => {
                self.credentials.set_password(cluster, plan).await?;
                Ok(Applied::Done)
            }
            Action::SetCapacity {
                cluster_id,
                capacity,
            } => {
                tracing::info!(cluster = %cluster_id, min = capacity.min, max = capacity.max, "changing the clone's capacity range");
                self.rds.set_capacity(cluster_id, *capacity).await?;
                Ok(Applied::Done)
            }
            Action::SetReaders { cluster, readers } => {
                self.credentials.set_readers(cluster, readers).await?;
                Ok(Applied::Done)
            }
            Action::DropCredentials { cluster } => {
                self.credentials.drop_credentials(cluster).await?;
                Ok(Applied::Done)
            }
            Action::Retag {
                targets,
                add,
                remove,
            } => {
                for target in targets {
                    self.retag(target, add, remove).await?;
                }
                Ok(Applied::Done)
            }
            Action::RemoveCluster(r) => self.remove(r).await,
            Action::Cancel { request_id, reason } => self.cancel(request_id, reason).await,
            Action::Publish(event) => {
                if let Err(e) = self.events.put(event).await {
                    tracing::error!(error = %e, detail_type = event.detail_type(), "could not put a lifecycle event");
                }
                Ok(Applied::Done)
            }
            Action::Ask(event) => {
                self.events.put(event).await?;
                Ok(Applied::Done)
            }
            Action::Retarget { cluster_id } => self.retarget(item, cluster_id).await,
            Action::StopCluster(id) => {
                tracing::info!(cluster = %id, "stopping a clone (its expiry)");
                self.rds.stop_cluster(id).await?;
                Ok(Applied::Done)
            }
            Action::StartCluster(id) => {
                tracing::info!(cluster = %id, "starting a clone again (its expiry moved later)");
                self.rds.start_cluster(id).await?;
                Ok(Applied::Done)
            }
            Action::Schedule {
                name,
                at,
                cluster_id,
                cluster_arn,
            } => {
                self.schedule(name, *at, cluster_id, cluster_arn).await?;
                Ok(Applied::Done)
            }
            Action::Unschedule { name } => {
                self.schedules.remove(name).await?;
                Ok(Applied::Done)
            }
            Action::ScheduleRefresh {
                name,
                expression,
                timezone,
                cluster_id,
                cluster_arn,
            } => {
                let target = schedule_target(&self.core.settings.stack_name, cluster_arn)
                    .ok_or_else(|| {
                        AwsError::permanent("CreateSchedule", "NoArn", "the clone has no ARN")
                    })?;
                let input = crate::domain::refresh::refresh_input(cluster_id);
                self.schedules
                    .recurring(name, expression, timezone.as_deref(), &target, &input)
                    .await?;
                Ok(Applied::Done)
            }
            Action::Rename {
                what,
                from,
                to,
                deed,
            } => self.rename(*what, from, to, deed.as_deref()).await,
        }
    }

    /// Renames a cluster or an instance; a cluster's new name is entered in the ledger first.
    async fn rename(
        &self,
        what: Renamed,
        from: &str,
        to: &str,
        deed: Option<&crate::domain::Deed>,
    ) -> Result<Applied, AwsError> {
        if let Some(deed) = deed {
            self.deeds.enter_deed(deed).await?;
        }
        tracing::info!(?what, %from, %to, "renaming");
        let found = match what {
            Renamed::Cluster => self.rds.rename_cluster(from, to).await?,
            Renamed::Instance => self.rds.rename_instance(from, to).await?,
        };
        Ok(Applied::Renamed(found))
    }

    async fn retag(
        &self,
        target: &Tagged,
        add: &crate::domain::Tags,
        remove: &[String],
    ) -> Result<(), AwsError> {
        match target {
            Tagged::Rds(arn) => {
                if !add.is_empty() {
                    self.rds.add_tags(arn, add).await?;
                }
                if !remove.is_empty() {
                    self.rds.remove_tags(arn, remove).await?;
                }
                Ok(())
            }
            Tagged::Secret(id) => self.secrets.retag(id, add, remove).await,
            Tagged::Key(id) => self.keys.retag(id, add, remove).await,
        }
    }

    /// Starts deleting a cluster this tool made: its secret and key (named by its tags), its
    /// actual members, then the cluster, without a final snapshot and without waiting.
    async fn remove(&self, r: &Removal) -> Result<Applied, AwsError> {
        if r.status.is_deleting() {
            return Ok(Applied::Done);
        }
        if r.protected {
            return Err(AwsError::permanent(
                "DeleteDBCluster",
                "DeletionProtection",
                format!(
                    "{} has deletion protection on: turn it off to delete it (nothing was touched)",
                    r.cluster_id
                ),
            ));
        }
        if !r.status.is_deletable() {
            // RDS deletes nothing in a stopped cluster (an expiry may have stopped it): start it
            // (a stopping one once it has stopped); the reap work deletes it once it runs. The
            // deletion begins here, so it is announced here (reap work announces nothing).
            if r.status.is_stopped() {
                tracing::info!(cluster = %r.cluster_id, "starting a stopped cluster to delete it");
                self.rds.start_cluster(&r.cluster_id).await?;
            }
            if let Some(event) = &r.event {
                self.publish(event).await;
            }
            return Ok(Applied::Deferred);
        }
        self.credentials.remove_credentials(r).await?;
        for id in &r.instances {
            self.rds.delete_instance(id).await?;
        }
        let outcome = self.rds.delete_cluster(&r.cluster_id).await?;
        tracing::info!(cluster = %r.cluster_id, ?outcome, "cluster deletion");
        self.deeds.settle_deed(&r.cluster_id, outcome).await?;
        let started = outcome != Deletion::AlreadyGone || !r.instances.is_empty();
        if let Some(event) = r.event.as_ref().filter(|_| started) {
            self.publish(event).await;
        }
        for name in &r.schedules {
            if let Err(e) = self.schedules.remove(name).await {
                tracing::warn!(error = %e, schedule = %name, "could not remove an expiry schedule; it finds the clone gone and does nothing");
            }
        }
        Ok(match outcome {
            Deletion::NotYet => Applied::Deferred,
            Deletion::Started | Deletion::AlreadyGone => Applied::Done,
        })
    }

    /// Puts a lifecycle event; a failure is logged, never fails the work it reports.
    async fn publish(&self, event: &crate::domain::events::LifecycleEvent) {
        if let Err(e) = self.events.put(event).await {
            tracing::error!(error = %e, detail_type = event.detail_type(), "could not put a lifecycle event");
        }
    }

    /// Decides FAILED for another pending request; the flow that planned the cancel delivers
    /// the answer (the applier knows nothing of the answer protocol beyond this one write).
    async fn cancel(&self, request_id: &str, reason: &str) -> Result<Applied, AwsError> {
        let Some(item) = self.state.request(request_id).await? else {
            return Ok(Applied::Done);
        };
        if item.phase != Phase::Pending {
            return Ok(Applied::Done);
        }
        let answer = failed(&item.record.request, reason);
        Ok(match self.state.decide(request_id, &answer).await? {
            Some(decided) => Applied::Cancelled(Box::new(decided)),
            None => Applied::Done,
        })
    }

    /// Moves the request's clone to another identifier, if its record is unchanged since read.
    async fn retarget(
        &self,
        item: Option<&RequestItem>,
        cluster_id: &str,
    ) -> Result<Applied, AwsError> {
        let Some(item) = item else {
            return Err(AwsError::permanent(
                "Retarget",
                "NoRequest",
                "retarget outside a request",
            ));
        };
        let mut record = item.record.clone();
        tracing::info!(from = %record.cluster_id, to = %cluster_id, "ClusterId is taken: NoFailOnExistingCluster picks another");
        record.cluster_id = cluster_id.to_string();
        record.fallback_id = None;
        match self.state.revise(item, &record).await? {
            Some(revised) => Ok(Applied::Retargeted(Box::new(revised))),
            None => Err(AwsError::transient(
                "UpdateItem",
                "RecordChanged",
                "the request's record changed meanwhile; reading it again next time",
            )),
        }
    }
    /// A one-time schedule about `cluster_id`'s expiry. It invokes this stack's function (the
    /// template names it `<stack>-clone-manager`) as the stack's expiry role, both in the clone's
    /// partition, region and account.
    pub(super) async fn schedule(
        &self,
        name: &str,
        at: OffsetDateTime,
        cluster_id: &str,
        cluster_arn: &str,
    ) -> Result<(), AwsError> {
        let target =
            schedule_target(&self.core.settings.stack_name, cluster_arn).ok_or_else(|| {
                AwsError::permanent("CreateSchedule", "NoArn", "the clone has no ARN")
            })?;
        let input = schedule_input(cluster_id).to_string();
        self.schedules.once(name, at, &target, &input).await?;
        Ok(())
    }
}
