//! The one applier: every action any flow plans is carried out here, through the ports. What an
//! action found comes back as `Applied`; a failure is an `AwsError` that says whether trying
//! again later can help (judged by the adapters, never here).

use super::answer::failed;
use super::{Invocation, Manager};
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::{Action, Removal, Tagged};
use crate::ports::{Created, Deletion};
use crate::state::{Phase, RequestItem};

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
}

impl Manager {
    /// Applies one action. `item` is the request being served, for the actions that change its
    /// record.
    pub(crate) async fn apply(
        &self,
        action: &Action,
        item: Option<&RequestItem>,
        inv: &Invocation,
    ) -> Result<Applied, AwsError> {
        match action {
            Action::Restore(r) => {
                let deed = self.enter_restore(r, item).await?;
                tracing::info!(cluster = %r.cluster_id, source = %r.source_cluster_id, kind = ?r.restore_type, "restoring");
                Ok(match self.ports.rds.restore(r).await? {
                    Created::New(c) => Applied::Cluster(Box::new(Cluster {
                        deed: Some(deed),
                        ..c
                    })),
                    Created::Exists => {
                        self.restore_found(r).await?;
                        Applied::Done
                    }
                })
            }
            Action::CreateInstance(i) => {
                tracing::info!(instance = %i.instance_id, cluster = %i.cluster_id, class = %i.class, "creating writer instance");
                self.ports.rds.create_instance(i).await?;
                Ok(Applied::Done)
            }
            Action::SetPassword { cluster, plan } => {
                self.set_password(cluster, plan).await?;
                Ok(Applied::Done)
            }
            Action::SetReaders { cluster, readers } => {
                self.set_readers(cluster, readers).await?;
                Ok(Applied::Done)
            }
            Action::DropCredentials { cluster } => {
                self.drop_credentials(cluster).await?;
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
            Action::Cancel { request_id, reason } => {
                self.cancel(request_id, reason, inv).await?;
                Ok(Applied::Done)
            }
            Action::Publish(event) => {
                if let Err(e) = self.ports.events.put(event).await {
                    tracing::error!(error = %e, detail_type = event.detail_type(), "could not put a lifecycle event");
                }
                Ok(Applied::Done)
            }
            Action::Retarget { cluster_id } => self.retarget(item, cluster_id).await,
            Action::StopCluster(id) => {
                tracing::info!(cluster = %id, "stopping a clone (its expiry)");
                self.ports.rds.stop_cluster(id).await?;
                Ok(Applied::Done)
            }
            Action::StartCluster(id) => {
                tracing::info!(cluster = %id, "starting a clone again (its expiry moved later)");
                self.ports.rds.start_cluster(id).await?;
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
                self.ports.schedules.remove(name).await?;
                Ok(Applied::Done)
            }
        }
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
                    self.ports.rds.add_tags(arn, add).await?;
                }
                if !remove.is_empty() {
                    self.ports.rds.remove_tags(arn, remove).await?;
                }
                Ok(())
            }
            Tagged::Secret(id) => self.ports.secrets.retag(id, add, remove).await,
            Tagged::Key(id) => self.ports.keys.retag(id, add, remove).await,
        }
    }

    /// Starts deleting a cluster this tool made: its secret and key (named by its tags), its
    /// actual members, then the cluster, without a final snapshot and without waiting.
    async fn remove(&self, r: &Removal) -> Result<Applied, AwsError> {
        if r.status == "deleting" {
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
        if matches!(r.status.as_str(), "stopped" | "stopping" | "starting") {
            // RDS deletes nothing in a stopped cluster (an expiry may have stopped it): start it
            // (a stopping one once it has stopped); the reap work deletes it once it runs. The
            // deletion begins here, so it is announced here (reap work announces nothing).
            if r.status == "stopped" {
                tracing::info!(cluster = %r.cluster_id, "starting a stopped cluster to delete it");
                self.ports.rds.start_cluster(&r.cluster_id).await?;
            }
            if let Some(event) = &r.event {
                self.publish(event).await;
            }
            return Ok(Applied::Deferred);
        }
        self.remove_credentials(r).await?;
        for id in &r.instances {
            self.ports.rds.delete_instance(id).await?;
        }
        let outcome = self.ports.rds.delete_cluster(&r.cluster_id).await?;
        tracing::info!(cluster = %r.cluster_id, ?outcome, "cluster deletion");
        self.settle_deed(&r.cluster_id, outcome).await?;
        let started = outcome != Deletion::AlreadyGone || !r.instances.is_empty();
        if let Some(event) = r.event.as_ref().filter(|_| started) {
            self.publish(event).await;
        }
        for name in &r.schedules {
            if let Err(e) = self.ports.schedules.remove(name).await {
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
        if let Err(e) = self.ports.events.put(event).await {
            tracing::error!(error = %e, detail_type = event.detail_type(), "could not put a lifecycle event");
        }
    }

    /// Answers another pending request FAILED and delivers that answer.
    async fn cancel(
        &self,
        request_id: &str,
        reason: &str,
        inv: &Invocation,
    ) -> Result<(), AwsError> {
        let Some(item) = self.ports.state.request(request_id).await? else {
            return Ok(());
        };
        if item.phase == Phase::Pending {
            let answer = failed(&item.record.request, reason);
            if let Some(decided) = self.ports.state.decide(request_id, &answer).await? {
                self.deliver(&decided, inv).await;
            }
        }
        Ok(())
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
        match self.ports.state.revise(item, &record).await? {
            Some(revised) => Ok(Applied::Retargeted(Box::new(revised))),
            None => Err(AwsError::transient(
                "UpdateItem",
                "RecordChanged",
                "the request's record changed meanwhile; reading it again next time",
            )),
        }
    }

    /// True when this tool may remove the cluster: its ledger holds it (a clone or pool copy).
    pub(super) fn may_remove(&self, c: &Cluster) -> bool {
        c.ownership()
            .is_some_and(|o| o.managed_by == self.settings.stack_name)
    }

    /// The clone of the given request, by its deed.
    pub(super) fn made_by(c: &Cluster, request_id: &str) -> bool {
        c.deed
            .as_ref()
            .is_some_and(|d| d.request_id.as_deref() == Some(request_id))
    }
}
