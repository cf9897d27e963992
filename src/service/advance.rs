//! Moving pending work forward: each follow-up observes, plans one step at a time and acts,
//! until the work must wait for AWS or is answered. Nothing here waits for RDS.

use super::{is_transient, Invocation, Manager, Progress};
use crate::cfn::Outcome;
use crate::error::{AwsError, Error};
use crate::pending::{PendingRequest, PendingWork};
use crate::planner::progress::{next_step, Observed, Request, Step};
use crate::properties::CloneProperties;
use time::OffsetDateTime;

/// Steps one invocation takes for one request before leaving the rest to the next follow-up.
const MAX_STEPS: usize = 6;
const LOCK_ATTEMPTS: u32 = 20;
/// A placement takes a second or two; a lock older than this belongs to a dead invocation.
const LOCK_TTL_SECS: i64 = 60;

impl Manager {
    /// A follow-up tick: advance every pending item, then stop the follow-ups if none is left.
    pub async fn follow_up(&self, inv: &Invocation) -> Result<Vec<(String, Progress)>, Error> {
        let mut report = Vec::new();
        for (key, work) in self.ports.pending.list().await? {
            let progress = match &work {
                PendingWork::Respond(record) => self.follow_up_request(record).await,
                PendingWork::Reap { cluster_id, .. } => self.reap(&key, cluster_id).await,
                PendingWork::Maintain { sources, dry_run } => {
                    self.continue_maintenance(&key, sources, *dry_run, inv)
                        .await
                }
            };
            report.push((key, progress));
        }
        let still_pending = report
            .iter()
            .any(|(_, p)| matches!(p, Progress::Pending(_)));
        if !still_pending {
            self.stop_follow_ups(inv).await?;
        }
        Ok(report)
    }

    /// Disables the follow-up rule, then looks once more: work recorded meanwhile (a Create
    /// racing this tick) re-arms it, so no pending work is ever left without follow-ups. While
    /// work is pending the rule is left alone: it is what invoked us.
    async fn stop_follow_ups(&self, inv: &Invocation) -> Result<(), Error> {
        self.ports.follow_ups.stop().await?;
        if let Some(arn) = &inv.function_arn {
            if !self.ports.pending.list().await?.is_empty() {
                self.ports.follow_ups.ensure(arn).await?;
            }
        }
        Ok(())
    }

    /// Advances one request in a task of its own: a panic there answers that request FAILED
    /// (once, by taking its record) instead of failing every later tick until CloudFormation
    /// gives up.
    async fn follow_up_request(&self, record: &PendingRequest) -> Progress {
        let span = tracing::info_span!("request", stack_id = %record.request.stack_id,
            logical_id = %record.request.logical_resource_id, request_id = %record.request.request_id);
        let (m, r) = (self.clone(), record.clone());
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move { m.advance_request(&r).await },
            span,
        ));
        match task.await {
            Ok(progress) => progress,
            Err(_) => {
                tracing::error!(request_id = %record.request.request_id, "follow-up panicked");
                let reason = "internal error while following up the request (the handler panicked); see the function's logs";
                self.answer_pending(
                    record,
                    Outcome::failed(super::answer::failure_id(&record.request), reason),
                )
                .await;
                Progress::Answered
            }
        }
    }

    /// Takes steps for one pending request until it waits or is answered.
    pub async fn advance_request(&self, record: &PendingRequest) -> Progress {
        let props = match CloneProperties::parse(&record.request.resource_properties) {
            Ok(p) => p,
            Err(e) => {
                return self
                    .conclude(record, Err(format!("invalid property {e}")))
                    .await
            }
        };
        let deadline = OffsetDateTime::from_unix_timestamp(record.deadline)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let req = Request {
            props: &props,
            cluster_id: &record.cluster_id,
            stack_id: &record.request.stack_id,
            logical_id: &record.request.logical_resource_id,
            request_id: &record.request.request_id,
            deadline,
            adopted: record.adopted,
        };
        for _ in 0..MAX_STEPS {
            match self.one_step(&req, record).await {
                Ok(Some(outcome)) => return self.conclude(record, outcome).await,
                Ok(None) => continue,
                Err(StepError::Wait(what)) => return Progress::Pending(what),
                Err(StepError::Aws(e)) if is_transient(&e.code) => {
                    tracing::warn!(error = %e, "transient AWS error; retrying on the next follow-up");
                    return Progress::Pending(e.to_string());
                }
                Err(StepError::Aws(e)) => return self.conclude(record, Err(e.to_string())).await,
                Err(StepError::Cancelled) => return Progress::Ignored("cancelled".into()),
            }
        }
        Progress::Pending("steps left for the next follow-up".into())
    }

    /// Observes, plans and acts once. `Ok(Some)` ends the request; `Ok(None)` asks for another step.
    async fn one_step(&self, req: &Request<'_>, record: &PendingRequest) -> StepResult {
        let mut seen = Observed {
            target: self.ports.rds.cluster(req.cluster_id).await?,
            ..Default::default()
        };
        if seen.target.is_some() {
            seen.instances = self.ports.rds.instances(req.cluster_id).await?;
        }
        match next_step(req, &seen, &self.policy, self.clock.now()) {
            Step::ObservePool => self.place(req, record, seen).await,
            step => self.act(step, record).await,
        }
    }

    /// Places the clone while holding the root's placement lock, on a fresh view of the pool:
    /// two requests racing for the last free slot are serialised, and the second sees the
    /// first's clone. (Observing twice is the price of never oversubscribing a volume.)
    async fn place(
        &self,
        req: &Request<'_>,
        record: &PendingRequest,
        mut seen: Observed,
    ) -> StepResult {
        let lock = format!("place-{}", req.props.source_cluster_id);
        if !self.acquire(&lock).await.map_err(StepError::other)? {
            return Err(StepError::Wait(format!(
                "another request is placing a clone of {}",
                req.props.source_cluster_id
            )));
        }
        seen.clusters = match self.ports.rds.clusters().await {
            Ok(c) => Some(c),
            Err(e) => {
                let _ = self.ports.locks.unlock(&lock).await;
                return Err(e.into());
            }
        };
        // Quotas are a preflight, not a gate: where AWS does not answer, RDS itself refuses later.
        seen.quotas = match self.ports.rds.quotas().await {
            Ok(q) => Some(q),
            Err(e) => {
                tracing::debug!(error = %e, "account quotas unknown");
                None
            }
        };
        let step = next_step(req, &seen, &self.policy, self.clock.now());
        let result = self.act(step, record).await;
        if let Err(e) = self.ports.locks.unlock(&lock).await {
            tracing::warn!(error = %e, "could not release the placement lock; it expires by itself");
        }
        result
    }

    /// Tries for the lock a few times: placement holds it for about a second.
    async fn acquire(&self, lock: &str) -> Result<bool, Error> {
        for attempt in 0..LOCK_ATTEMPTS {
            if self
                .ports
                .locks
                .try_lock(lock, self.clock.now().unix_timestamp(), LOCK_TTL_SECS)
                .await?
            {
                return Ok(true);
            }
            if attempt + 1 < LOCK_ATTEMPTS {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        Ok(false)
    }

    async fn act(&self, step: Step, record: &PendingRequest) -> StepResult {
        tracing::debug!(?step, "planned");
        match step {
            Step::Ready(ready) => {
                let arn = ready.data.get("Arn").cloned().unwrap_or_default();
                Ok(Some(Ok((
                    Outcome::success(arn, ready.data),
                    Some(ready.event),
                ))))
            }
            Step::Fail(reason) => Ok(Some(Err(reason))),
            Step::Wait(what) => {
                tracing::info!(%what, "waiting");
                Err(StepError::Wait(what))
            }
            Step::Restore(r) => self.restore_clone(record, &r).await.map(|_| None),
            Step::CreateCopy(r) => {
                tracing::info!(copy = %r.cluster_id, source = %r.source_cluster_id, "no free clone slot: creating a pool copy");
                tolerate_exists(self.ports.rds.restore(&r).await.map(|_| ()))?;
                Ok(None)
            }
            Step::SetPassword(plan) => {
                let cluster = self
                    .ports
                    .rds
                    .cluster(&record.cluster_id)
                    .await?
                    .ok_or_else(|| {
                        AwsError::new(
                            "DescribeDBClusters",
                            "DBClusterNotFoundFault",
                            "clone vanished",
                        )
                    })?;
                self.set_password(&cluster, &plan).await?;
                Ok(None)
            }
            Step::CreateInstance(i) => {
                tracing::info!(instance = %i.instance_id, cluster = %i.cluster_id, class = %i.class, "creating writer instance");
                tolerate_exists(self.ports.rds.create_instance(&i).await)?;
                Ok(None)
            }
            Step::ObservePool => Ok(None),
        }
    }

    /// Restores the clone, unless the request was cancelled meanwhile; if it was cancelled just
    /// after, removes what it made (a Delete racing a Create must not leave a clone behind).
    async fn restore_clone(
        &self,
        record: &PendingRequest,
        r: &crate::ports::RestoreRequest,
    ) -> Result<(), StepError> {
        let key = &record.request.request_id;
        if self
            .ports
            .pending
            .get(key)
            .await
            .map_err(StepError::other)?
            .is_none()
        {
            return Err(StepError::Cancelled);
        }
        tracing::info!(clone = %r.cluster_id, source = %r.source_cluster_id, "restoring copy-on-write clone");
        tolerate_exists(self.ports.rds.restore(r).await.map(|_| ()))?;
        if self
            .ports
            .pending
            .get(key)
            .await
            .map_err(StepError::other)?
            .is_none()
        {
            tracing::warn!(clone = %r.cluster_id, "request cancelled during restore: removing the clone");
            if let Ok(Some(c)) = self.ports.rds.cluster(&r.cluster_id).await {
                let _ = self.remove_cluster(&c).await;
            }
            return Err(StepError::Cancelled);
        }
        Ok(())
    }

    /// Answers a finished request; a failed one also removes the clone it made, so that
    /// neither a FAILED Create nor a FAILED replacement leaves a cluster behind.
    async fn conclude(
        &self,
        record: &PendingRequest,
        result: Result<(Outcome, Option<serde_json::Value>), String>,
    ) -> Progress {
        let (outcome, event) = match result {
            Ok(o) => o,
            Err(reason) => (
                Outcome::failed(super::answer::failure_id(&record.request), reason),
                None,
            ),
        };
        let failed = outcome.status == crate::cfn::Status::Failed;
        if !self.answer_pending(record, outcome).await {
            return Progress::Ignored("answered elsewhere".into());
        }
        if let Some(detail) = event {
            // Sent by the one invocation that took the record: once per clone.
            if let Err(e) = self
                .ports
                .events
                .put("lifecycle-event/instance-ready", &detail)
                .await
            {
                tracing::error!(error = %e, "could not put the instance-ready event");
            }
        }
        if failed {
            if let Ok(Some(c)) = self.ports.rds.cluster(&record.cluster_id).await {
                let ours = c.ownership().and_then(|o| o.request_id).as_deref()
                    == Some(record.request.request_id.as_str());
                if ours {
                    let _ = self.remove_cluster(&c).await;
                }
            }
        }
        Progress::Answered
    }
}

/// `Ok(Some(Ok((outcome, event))))` ends the request with an answer (and a ready event).
type StepResult = Result<Option<Result<(Outcome, Option<serde_json::Value>), String>>, StepError>;

/// Why a step stopped short of an answer.
#[derive(Debug)]
enum StepError {
    Wait(String),
    Aws(AwsError),
    Cancelled,
}

impl From<AwsError> for StepError {
    fn from(e: AwsError) -> Self {
        StepError::Aws(e)
    }
}

impl StepError {
    fn other(e: Error) -> StepError {
        match e {
            Error::Aws(a) => StepError::Aws(a),
            other => StepError::Aws(AwsError::new("PendingStore", "Unknown", other.to_string())),
        }
    }
}

/// A create that finds its target already made (a retry, a duplicate) has done its job.
fn tolerate_exists(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.code.ends_with("AlreadyExists") || e.code.ends_with("AlreadyExistsFault") => {
            Ok(())
        }
        other => other,
    }
}
