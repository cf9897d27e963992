//! Moving a recorded request forward: observe, ask the planner once, apply its one action,
//! until the request must wait for AWS or is answered. Nothing here waits for RDS; a transient
//! error leaves the request for the next follow-up, and only a permanent one fails it.

use super::answer::failed;
use super::apply::Applied;
use super::place::{Place, Sighting};
use super::vet::Refusal;
use super::Core;
use super::{Invocation, Progress, STEP_BUDGET};
use crate::cfn::{Outcome, RequestType};
use crate::domain::properties::CloneProperties;
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::progress::{next_step, Observed, Request, Step};
use crate::state::{Answer, RequestItem};
use std::sync::Arc;
use time::OffsetDateTime;

/// Steps one invocation takes for one request before leaving the rest to the next follow-up.
const MAX_STEPS: usize = 6;

/// How one step ended.
pub(super) enum Stepped {
    /// Go on, with what the action showed (a restore returns the new cluster).
    Next(Option<Observed>, Option<Box<RequestItem>>),
    Wait(String),
    Answer(Answer),
}

/// The reason a request whose time ran out is answered FAILED with.
fn timed_out(record: &crate::state::RequestRecord) -> String {
    let id = &record.cluster_id;
    let what = if id.is_empty() {
        "AWS kept refusing for now (throttling or a transient state)".to_string()
    } else {
        format!("clone {id} was still being made or changed (creating the cluster or its writer, or setting its password) or could not be looked at")
    };
    let removed = if record.makes_a_clone() && !id.is_empty() {
        "; the clone this request made is removed"
    } else {
        ""
    };
    format!("timed out: {what} when CloudFormation's time for the request ran out (its ServiceTimeout, counted from when CloudFormation sent it){removed}; see the function's logs")
}

/// Moving a recorded request forward, by its kind.
#[derive(Clone)]
pub struct Advance {
    pub(super) core: Core,
    pub(super) answers: Arc<super::answer::Answers>,
    pub(super) place: Arc<super::place::Place>,
    pub(super) revise: Arc<super::revise::Revise>,
    pub(super) teardown: Arc<super::teardown::Teardown>,
    pub(super) vet: Arc<super::vet::Vet>,
}

impl Advance {
    /// Advances a pending request of any kind.
    pub(super) async fn advance(
        &self,
        item: RequestItem,
        fresh: bool,
        inv: &Invocation,
    ) -> Progress {
        // Before anything is observed: an observation that keeps failing, or a clone that became
        // usable after CloudFormation stopped waiting, must never delay the FAILED answer (and
        // the clean-up of what the request made) past CloudFormation's deadline.
        if self.core.now_secs() >= item.record.deadline {
            let reason = timed_out(&item.record);
            return self
                .answers
                .conclude(&item.record, failed(&item.record.request, reason), inv)
                .await;
        }
        if self.core.now_secs() < item.record.deadline {
            if let Some(progress) = self.stack_check(&item, inv).await {
                return progress;
            }
        }
        match item.record.request.request_type {
            RequestType::Delete => self.teardown.advance_delete(item, inv).await,
            RequestType::Update if item.record.cluster_id.is_empty() => {
                self.revise.advance_update(item, inv).await
            }
            _ => self.place.advance_clone(item, fresh, inv).await,
        }
    }

    /// The stack check of a pending Update or Delete, made before each invocation acts on it
    /// (past the deadline the flow only answers, so it is not asked). `None`: go on. A check
    /// CloudFormation could not answer now leaves the request pending; a refusal answers FAILED.
    async fn stack_check(&self, item: &RequestItem, inv: &Invocation) -> Option<Progress> {
        match self.vet.vet_stack(&item.record.request).await {
            Ok(()) => None,
            Err(Refusal::Unchecked(e)) => {
                tracing::warn!(error = %e, "the stack check could not be made; the next follow-up checks again");
                Some(Progress::Pending(format!("stack check: {e}")))
            }
            Err(Refusal::Refused(reason)) => {
                tracing::warn!(%reason, "refusing a request");
                let answer = failed(&item.record.request, reason);
                Some(self.answers.conclude(&item.record, answer, inv).await)
            }
        }
    }
}

impl Place {
    /// A Create, a replacing Update, or an in-place Update that sets a password: steps until
    /// the clone is usable (SUCCESS), cannot become so (FAILED), or must be waited for.
    pub(super) async fn advance_clone(
        &self,
        mut item: RequestItem,
        fresh: bool,
        inv: &Invocation,
    ) -> Progress {
        let props = match CloneProperties::parse(&item.record.request.resource_properties) {
            Ok(p) => p,
            Err(e) => {
                let answer = failed(&item.record.request, format!("invalid property {e}"));
                return self.answers.conclude(&item.record, answer, inv).await;
            }
        };
        let mut known = None;
        for step in 0..MAX_STEPS {
            if !inv.has_time_for(STEP_BUDGET) {
                return Progress::Pending("handed off to the next follow-up".into());
            }
            let absent = fresh && step == 0;
            match self
                .one_step(&item, &props, known.take(), absent, inv)
                .await
            {
                Ok(Stepped::Next(seen, revised)) => {
                    known = seen;
                    if let Some(revised) = revised {
                        item = *revised;
                    }
                }
                Ok(Stepped::Wait(what)) => {
                    tracing::info!(%what, "waiting");
                    return Progress::Pending(what);
                }
                Ok(Stepped::Answer(answer)) => {
                    return self.answers.conclude(&item.record, answer, inv).await
                }
                Err(e) if e.retryable => {
                    tracing::warn!(error = %e, "transient AWS error; the next follow-up retries");
                    return Progress::Pending(e.to_string());
                }
                Err(e) => {
                    let answer = failed(&item.record.request, e.to_string());
                    return self.answers.conclude(&item.record, answer, inv).await;
                }
            }
        }
        Progress::Pending("steps left for the next follow-up".into())
    }

    /// Observes (or takes what the last action showed), plans once and applies the one action.
    async fn one_step(
        &self,
        item: &RequestItem,
        props: &CloneProperties,
        known: Option<Observed>,
        absent: bool,
        inv: &Invocation,
    ) -> Result<Stepped, AwsError> {
        let record = &item.record;
        let sighting = match known {
            Some(observed) => Sighting {
                observed,
                lease: None,
            },
            None => match self
                .observe_clone(&record.cluster_id, &props.source_cluster_id, absent, inv)
                .await?
            {
                Some(s) => s,
                None => {
                    return Ok(Stepped::Wait(format!(
                        "another request is placing a clone of {}",
                        props.source_cluster_id
                    )))
                }
            },
        };
        let req = Request {
            props,
            cluster_id: &record.cluster_id,
            fallback_id: record.fallback_id.as_deref(),
            stack_id: &record.request.stack_id,
            logical_id: &record.request.logical_resource_id,
            request_id: record.request_id(),
            deadline: OffsetDateTime::from_unix_timestamp(record.deadline)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            adopted: record.adopted,
            preparation: record.preparation.as_ref(),
        };
        let step = next_step(
            &req,
            &sighting.observed,
            &self.core.policy,
            self.core.clock.now(),
        );
        let purge = self.purge_wanted(&req, &step, &sighting.observed);
        if let (Step::Ready(_), Observed::Clone { cluster, .. }) = (&step, &sighting.observed) {
            self.expiry.schedule_expiry(cluster).await;
            self.schedule_refresh(cluster, props).await?;
        }
        // A clone restored now has the root's writer settings to take (observed just now).
        let root_writer = match &sighting.observed {
            Observed::Absent { root_writer, .. } => root_writer.clone(),
            Observed::Clone { .. } => None,
        };
        let result = self
            .take(step, item, props, sighting.lease.as_ref(), root_writer)
            .await;
        if let Some(lease) = &sighting.lease {
            self.leases.release(lease, inv).await;
        }
        if let (Some(root), Ok(_)) = (purge, &result) {
            self.ask_maintenance(&root).await;
        }
        result
    }

    /// `PurgeObsoleteCopies`: placing a clone, the request also has its source's obsolete,
    /// unclaimed copies retired (by a maintenance follow-up for that source, under its lease).
    fn purge_wanted(&self, req: &Request, step: &Step, seen: &Observed) -> Option<String> {
        let (
            Step::Act(Action::Restore(r)),
            Observed::Absent {
                clusters,
                source_config,
                ..
            },
        ) = (step, seen)
        else {
            return None;
        };
        let root = &req.props.source_cluster_id;
        let policy = self.core.policy.for_source(source_config.as_ref());
        let obsolete =
            crate::planner::upkeep::obsolete_copies(root, clusters, &policy, self.core.clock.now());
        (req.props.purge_obsolete_copies && r.cluster_id == req.cluster_id && !obsolete.is_empty())
            .then(|| root.clone())
    }

    /// A clone with `RefreshSchedule` gets its recurring schedule before it is answered: a clone
    /// answered SUCCESS without the schedule it asked for would never be refreshed.
    async fn schedule_refresh(
        &self,
        cluster: &crate::domain::Cluster,
        props: &CloneProperties,
    ) -> Result<(), AwsError> {
        match crate::planner::refresh::schedule_action(cluster, props, None) {
            Some(action) => self.applier.apply(&action, None).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Records a source for a maintenance follow-up now (best effort: the daily run also does
    /// it). The request armed the follow-ups already.
    async fn ask_maintenance(&self, root: &str) {
        let item = crate::state::MaintainItem {
            sources: vec![root.to_string()],
            dry_run: false,
            not_before: self.core.now_secs(),
            version: 0,
        };
        if let Err(e) = self.state.put_maintain(&item).await {
            tracing::warn!(error = %e, "could not ask for the source's obsolete copies to be retired");
        }
    }

    async fn take(
        &self,
        step: Step,
        item: &RequestItem,
        props: &CloneProperties,
        lease: Option<&super::Lease>,
        root_writer: Option<crate::domain::InstanceSettings>,
    ) -> Result<Stepped, AwsError> {
        tracing::debug!(?step, "planned");
        match step {
            Step::Ready(ready) => {
                let arn = ready.data.get("Arn").cloned().unwrap_or_default();
                Ok(Stepped::Answer(Answer {
                    outcome: Outcome::success(arn, ready.data),
                    event: Some(ready.event),
                    event_sent: false,
                }))
            }
            Step::Fail(reason) => Ok(Stepped::Answer(failed(&item.record.request, reason))),
            Step::Wait(pending) => Ok(Stepped::Wait(pending.what)),
            Step::Prepare => self.ask_preparer(item, props).await,
            Step::Act(action @ Action::SetReaders { .. }) if item.record.preparation.is_some() => {
                self.applier.apply(&action, Some(item)).await?;
                self.prepared_readers(item).await
            }
            Step::Act(_) if lease.is_some_and(|l| !self.leases.lease_holds(l)) => {
                Ok(Stepped::Wait(
                    "the placement lease ran short; placing again on the next follow-up".into(),
                ))
            }
            Step::Act(action) => match self.applier.apply(&action, Some(item)).await? {
                Applied::Cluster(c) if c.id == item.record.cluster_id => Ok(Stepped::Next(
                    Some(Observed::Clone {
                        cluster: c,
                        instances: vec![],
                        source_writer: root_writer,
                    }),
                    None,
                )),
                Applied::Retargeted(revised) => Ok(Stepped::Next(None, Some(revised))),
                Applied::Cancelled(_) => Ok(Stepped::Next(None, None)),
                // A writer or a new password takes RDS minutes: looking again at once would
                // only cost calls.
                _ if matches!(
                    action,
                    Action::CreateInstance(_) | Action::SetPassword { .. }
                ) =>
                {
                    Ok(Stepped::Wait(
                        "RDS is making the change just asked for".into(),
                    ))
                }
                Applied::Cluster(_) | Applied::Done | Applied::Deferred | Applied::Renamed(_) => {
                    Ok(Stepped::Next(None, None))
                }
            },
        }
    }
}
