//! Refresh in place, as a flow: asked for by a clone's schedule, the CLI or an event, recorded
//! once per clone, then moved forward by follow-ups like any pending work: make the new clone
//! (placed as a Create is, under the root's placement lease), give it the clone's password,
//! cut over (`cut`), delete the old one. Every firing re-reads the ledger, so a stale or forged
//! one does nothing; an attempt killed at any step is continued from what the item and RDS say.

mod cut;
mod prep;

use super::{Core, Invocation, Progress, STEP_BUDGET};
use crate::domain::properties::CloneProperties;
use crate::domain::refresh::{RefreshItem, RefreshStage};
use crate::domain::{Deed, Role};
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::progress::{next_step, Observed, Request, Step};
use crate::planner::refresh::{fresh_properties, fresh_tags, helper_deed, NO_RETURN};
use std::sync::Arc;

/// Steps one invocation takes for one refresh before leaving the rest to the next follow-up.
const MAX_STEPS: usize = 8;

/// What asking for a refresh found.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    /// Recorded now.
    Started(Box<RefreshItem>),
    /// A refresh of the clone was under way already: this one joins it.
    Joined(Box<RefreshItem>),
    /// Not a clone this manager may refresh: nothing was recorded.
    Refused(String),
}

/// How one step ended.
enum Stepped {
    Next,
    Wait(String),
    Finished,
}

#[derive(Clone)]
pub struct Refresh {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) refreshes: Arc<dyn crate::ports::Refreshes>,
    pub(super) secrets: Arc<dyn crate::ports::Secrets>,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) place: Arc<super::place::Place>,
    pub(super) leases: Arc<super::lease::Leases>,
    pub(super) rule: Arc<super::rule::Rule>,
}

impl Refresh {
    /// Asks for a refresh of `cluster_id`. Only the ledger decides: a clone this manager made,
    /// not being deleted, whose properties it recorded.
    pub async fn ask(
        &self,
        cluster_id: &str,
        cause: &str,
        inv: &Invocation,
    ) -> Result<Asked, AwsError> {
        let id = cluster_id.to_ascii_lowercase();
        let deed = self.deeds.deed(&id).await?;
        if let Err(why) = refreshable(deed.as_ref(), &self.core.settings.stack_name) {
            tracing::warn!(cluster = %id, %cause, %why, "refresh refused");
            return Ok(Asked::Refused(why));
        }
        let attempt = format!("{:08x}", rand::random::<u32>());
        let item = RefreshItem::new(&id, &attempt, cause, self.core.now_secs());
        // Armed first: a refresh recorded by a write whose reply was lost is still carried on.
        self.rule.arm_follow_ups(inv).await?;
        let stored = self.refreshes.begin(&item).await?;
        tracing::info!(cluster = %id, %cause, attempt = %stored.attempt, "refresh asked for");
        Ok(match stored.attempt == attempt {
            true => Asked::Started(Box::new(stored)),
            false => Asked::Joined(Box::new(stored)),
        })
    }

    /// Why `cluster_id` may not be refreshed, if it may not (the CLI's `--dry-run`): the same
    /// ledger check a firing passes.
    pub async fn check(&self, cluster_id: &str) -> Result<Result<(), String>, AwsError> {
        let deed = self.deeds.deed(&cluster_id.to_ascii_lowercase()).await?;
        Ok(refreshable(deed.as_ref(), &self.core.settings.stack_name))
    }

    /// Carries the refresh of `cluster_id` on as a follow-up would (the CLI's `--wait`, where
    /// no follow-up rule runs); `None` once none is recorded.
    pub async fn carry_on(
        &self,
        cluster_id: &str,
        inv: &Invocation,
    ) -> Result<Option<Progress>, AwsError> {
        match self.refreshes.refresh(cluster_id).await? {
            Some(item) => Ok(Some(self.advance(item, inv).await)),
            None => Ok(None),
        }
    }

    /// The refresh of `cluster_id` under way, if one is.
    pub async fn underway(&self, cluster_id: &str) -> Result<Option<RefreshItem>, AwsError> {
        self.refreshes.refresh(cluster_id).await
    }

    /// A follow-up of a refresh: steps until it must wait for AWS or is over.
    pub(super) async fn advance(&self, mut item: RefreshItem, inv: &Invocation) -> Progress {
        for _ in 0..MAX_STEPS {
            if !inv.has_time_for(STEP_BUDGET) {
                return Progress::Pending("handed off to the next follow-up".into());
            }
            match self.step(&mut item, inv).await {
                Ok(Stepped::Next) => continue,
                Ok(Stepped::Wait(what)) => {
                    tracing::info!(cluster = %item.cluster_id, %what, "refresh waiting");
                    return Progress::Pending(what);
                }
                Ok(Stepped::Finished) => return Progress::Ignored("refresh over".into()),
                Err(e) if e.retryable => {
                    tracing::warn!(error = %e, "transient AWS error; the next follow-up retries");
                    return Progress::Pending(e.to_string());
                }
                Err(e) => {
                    let reason = e.to_string();
                    if let Err(e) = self.give_up(&mut item, &reason).await {
                        return Progress::Pending(e.to_string());
                    }
                }
            }
        }
        Progress::Pending("steps left for the next follow-up".into())
    }

    async fn step(&self, item: &mut RefreshItem, inv: &Invocation) -> Result<Stepped, AwsError> {
        match item.stage {
            RefreshStage::Making => self.making(item, inv).await,
            RefreshStage::CuttingOver => self.cutting_over(item).await,
            RefreshStage::Retiring => self.retiring(item, inv).await,
            RefreshStage::Abandoning => self.abandoning(item, inv).await,
        }
    }

    /// Moves the item on, by a conditional write; an item changed meanwhile is read again at
    /// the next follow-up.
    async fn save(&self, item: &mut RefreshItem, next: RefreshItem) -> Result<(), AwsError> {
        match self.refreshes.amend(&next).await? {
            Some(saved) => {
                *item = saved;
                Ok(())
            }
            None => Err(AwsError::transient(
                "UpdateItem",
                "RefreshChanged",
                "the refresh changed meanwhile; reading it again next time",
            )),
        }
    }

    /// Gives the refresh up before its cut-over: the names go back, the new clone goes.
    async fn give_up(&self, item: &mut RefreshItem, reason: &str) -> Result<(), AwsError> {
        if item.stage == RefreshStage::Abandoning || item.renamed >= NO_RETURN {
            return Ok(());
        }
        tracing::warn!(cluster = %item.cluster_id, %reason, "giving the refresh up");
        let next = RefreshItem {
            stage: RefreshStage::Abandoning,
            reason: Some(reason.to_string()),
            ..item.clone()
        };
        self.save(item, next).await
    }
}

/// Why `deed` is not a clone this manager may refresh, if it is not.
fn refreshable(deed: Option<&Deed>, manager: &str) -> Result<(), String> {
    let Some(d) = deed else {
        return Err("not a clone in this manager's ledger".into());
    };
    if d.manager != manager || d.role != Role::Clone || d.refresh_of.is_some() {
        return Err(format!("{} is not a clone of this manager", d.cluster_id));
    }
    if d.deleting {
        return Err(format!("{} is being deleted", d.cluster_id));
    }
    match &d.properties {
        None => Err(format!(
            "{} has no recorded properties (adopted): update its stack once before refreshing it",
            d.cluster_id
        )),
        Some(p) => CloneProperties::parse(p)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

impl Refresh {
    /// Making the new clone: mark the clone's deed, announce, then the same steps a Create takes
    /// (restore, writer), then the clone's password on it.
    async fn making(&self, item: &mut RefreshItem, inv: &Invocation) -> Result<Stepped, AwsError> {
        if self.core.now_secs() >= item.deadline {
            return Err(AwsError::permanent(
                "Refresh",
                "TimedOut",
                "the new clone was not usable in time",
            ));
        }
        let Some(deed) = self.deeds.deed(&item.cluster_id).await? else {
            return Err(AwsError::permanent(
                "Refresh",
                "CloneGone",
                "the clone is gone",
            ));
        };
        let deed = self.mark(item, deed).await?;
        if refreshable(Some(&deed), &self.core.settings.stack_name).is_err()
            || self.request_pending(&deed).await?
        {
            return Err(AwsError::permanent(
                "Refresh",
                "GivesWay",
                "the clone is being deleted or CloudFormation is changing it; the refresh gives way",
            ));
        }
        if !item.started_sent {
            return self.announce(item).await;
        }
        let props = fresh_properties(&clone_props(&deed)?, item);
        let Some(sighting) = self
            .place
            .observe_clone(&item.fresh_id, &props.source_cluster_id, false, inv)
            .await?
        else {
            return Ok(Stepped::Wait(format!(
                "another placement holds {}",
                props.source_cluster_id
            )));
        };
        let request_id = item.request_id();
        let req = request(item, &props, &deed, &request_id);
        let step = next_step(
            &req,
            &sighting.observed,
            &self.core.policy,
            self.core.clock.now(),
        );
        let result = self.make(item, &deed, step, &sighting).await;
        if let Some(lease) = &sighting.lease {
            self.leases.release(lease, inv).await;
        }
        result
    }

    /// Marks the clone's deed with this attempt (its names may vanish from RDS's listing for
    /// minutes: no deed is struck meanwhile).
    async fn mark(&self, item: &RefreshItem, deed: Deed) -> Result<Deed, AwsError> {
        match &deed.refreshing {
            Some(a) if *a == item.attempt => Ok(deed),
            _ => {
                let marked = Deed {
                    refreshing: Some(item.attempt.clone()),
                    ..deed
                };
                self.deeds.amend_deed(&marked).await
            }
        }
    }

    /// True when CloudFormation waits on a request of the clone's resource (an Update or a
    /// Delete, which wait for a refresh under way): a refresh still making its new clone gives
    /// way to it.
    async fn request_pending(&self, deed: &Deed) -> Result<bool, AwsError> {
        use crate::state::{Phase, Work};
        Ok(self.state.list().await?.iter().any(|w| match w {
            Work::Request(r) => {
                let q = &r.record.request;
                r.phase == Phase::Pending && deed.is_clone_of(&q.stack_id, &q.logical_resource_id)
            }
            _ => false,
        }))
    }

    /// `clone-refresh-started`, once.
    async fn announce(&self, item: &mut RefreshItem) -> Result<Stepped, AwsError> {
        if let Some(clone) = self.deeds.observe_cluster(&item.cluster_id).await? {
            let at = |s: i64| {
                time::OffsetDateTime::from_unix_timestamp(s)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            };
            // A restore and a writer take RDS about twenty minutes; a pool copy, hours.
            let event = crate::domain::events::LifecycleEvent::refresh_started(
                &clone,
                at(self.core.now_secs() + 20 * 60),
                at(item.deadline),
            );
            self.applier.apply(&Action::Publish(event), None).await?;
        }
        let next = RefreshItem {
            started_sent: true,
            ..item.clone()
        };
        self.save(item, next).await?;
        Ok(Stepped::Next)
    }

    /// Applies the placement planner's step for the new clone; once it is usable, the clone's
    /// password; once that is in force, the cut-over.
    async fn make(
        &self,
        item: &mut RefreshItem,
        deed: &Deed,
        step: Step,
        sighting: &super::place::Sighting,
    ) -> Result<Stepped, AwsError> {
        match step {
            Step::Act(Action::Restore(mut r)) => {
                if sighting
                    .lease
                    .as_ref()
                    .is_some_and(|l| !self.leases.lease_holds(l))
                {
                    return Ok(Stepped::Wait("the placement lease ran short".into()));
                }
                let clone = self.rds.cluster(&item.cluster_id).await?;
                r.tags = fresh_tags(&clone.map(|c| c.tags).unwrap_or_default(), &r.tags);
                let root = crate::domain::Lineage::from_tags(&r.tags).map(|l| l.root);
                let fresh = helper_deed(deed, item, &item.fresh_id, root, self.core.now_secs());
                self.deeds.enter_deed(&fresh).await?;
                self.applier.apply(&Action::Restore(r), None).await?;
                Ok(Stepped::Wait("RDS is restoring the new clone".into()))
            }
            Step::Act(action @ Action::CreateInstance(_)) => {
                self.applier.apply(&action, None).await?;
                Ok(Stepped::Wait("RDS is making the new clone's writer".into()))
            }
            Step::Act(other) => Err(AwsError::permanent(
                "Refresh",
                "Unplanned",
                format!("a refresh does not {other:?}"),
            )),
            Step::Wait(p) => Ok(Stepped::Wait(p.what)),
            Step::Fail(reason) => Err(AwsError::permanent("Refresh", "CannotPlace", reason)),
            Step::Ready(_) => self.prepared_password(item, deed, &sighting.observed).await,
            // The new clone is made without `Prepare` (refused for such clones, `refreshable`).
            Step::Prepare => Err(AwsError::permanent(
                "Refresh",
                "Unplanned",
                "a refresh does not prepare",
            )),
        }
    }

    /// With `Prepare`, the preparer first; then the clone's password on the new clone.
    async fn prepared_password(
        &self,
        item: &mut RefreshItem,
        deed: &Deed,
        seen: &Observed,
    ) -> Result<Stepped, AwsError> {
        let Observed::Clone { cluster, .. } = seen else {
            return Ok(Stepped::Wait("the new clone is not listed yet".into()));
        };
        let props = clone_props(deed)?;
        if let Some(waiting) = self.prepare_fresh(item, &props, cluster).await? {
            return Ok(waiting);
        }
        self.password(item, deed, cluster, props.prepare.is_some())
            .await
    }

    /// Gives the new clone the clone's password (read from the clone's secret, never logged);
    /// once RDS has it in force (and a preparers' secret is gone), the cut-over begins.
    async fn password(
        &self,
        item: &mut RefreshItem,
        deed: &Deed,
        cluster: &crate::domain::Cluster,
        prepared: bool,
    ) -> Result<Stepped, AwsError> {
        match deed.secret_arn() {
            Some(arn) if !item.password_set => {
                let password = self.clone_password(arn).await?;
                self.rds
                    .set_master_password(&item.fresh_id, &password)
                    .await?;
                let next = RefreshItem {
                    password_set: true,
                    ..item.clone()
                };
                self.save(item, next).await?;
                return Ok(Stepped::Wait(
                    "RDS is setting the clone's password on the new clone".into(),
                ));
            }
            Some(_) if cluster.password_pending || !cluster.is_available() => {
                return Ok(Stepped::Wait(
                    "the clone's password is not yet in force on the new clone".into(),
                ));
            }
            _ => {}
        }
        if prepared {
            let clone_tags = self
                .rds
                .cluster(&item.cluster_id)
                .await?
                .map(|c| c.tags)
                .unwrap_or_default();
            self.close_preparation(cluster, deed, &clone_tags).await?;
        }
        let next = RefreshItem {
            stage: RefreshStage::CuttingOver,
            ..item.clone()
        };
        self.save(item, next).await?;
        Ok(Stepped::Next)
    }

    async fn clone_password(&self, secret_arn: &str) -> Result<String, AwsError> {
        let stored = self.secrets.read(secret_arn).await?;
        stored
            .and_then(|s| s.value)
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
            .and_then(|v| v["password"].as_str().map(str::to_string))
            .ok_or_else(|| {
                AwsError::permanent(
                    "GetSecretValue",
                    "Unreadable",
                    "the clone's secret holds no password this tool can read",
                )
            })
    }
}

/// The clone's properties, as its deed records them.
fn clone_props(deed: &Deed) -> Result<CloneProperties, AwsError> {
    let props = deed.properties.as_ref().ok_or_else(|| {
        AwsError::permanent(
            "Refresh",
            "NoProperties",
            "the clone's deed records no properties",
        )
    })?;
    CloneProperties::parse(props)
        .map_err(|e| AwsError::permanent("Refresh", "Properties", e.to_string()))
}

/// The request the new clone is made under: the clone's owner, this attempt's request id.
fn request<'a>(
    item: &'a RefreshItem,
    props: &'a CloneProperties,
    deed: &'a Deed,
    request_id: &'a str,
) -> Request<'a> {
    Request {
        props,
        cluster_id: &item.fresh_id,
        fallback_id: None,
        stack_id: deed.stack_id.as_deref().unwrap_or_default(),
        logical_id: deed.logical_id.as_deref().unwrap_or_default(),
        request_id,
        deadline: time::OffsetDateTime::from_unix_timestamp(item.deadline)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        adopted: false,
        preparation: None,
    }
}
