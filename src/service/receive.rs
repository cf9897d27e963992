//! A Create or Update as it arrives: parse strictly, decide the clone's identifier once, record
//! the pending work (create-if-absent, so a duplicate delivery finds the first one's record),
//! arm the follow-ups, and take the first steps.

use super::answer::{failure_id, Tracker};
use super::{Invocation, Manager, Progress, DEADLINE_MARGIN_SECS};
use crate::cfn::{CfnRequest, Outcome, RequestType};
use crate::domain::ident;
use crate::error::Error;
use crate::pending::{PendingRequest, PendingWork};
use crate::ports::Added;
use crate::properties::CloneProperties;

impl Manager {
    /// Serves one CloudFormation request. Every path answers, or leaves a pending record that a
    /// follow-up will answer.
    pub async fn serve(
        &self,
        request: CfnRequest,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Progress {
        if request.request_type == RequestType::Delete {
            return self.delete(&request, inv, tracker).await;
        }
        let props = match CloneProperties::parse(&request.resource_properties) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("invalid property {e}");
                self.answer_directly(
                    &request,
                    Outcome::failed(failure_id(&request), reason),
                    tracker,
                )
                .await;
                return Progress::Answered;
            }
        };
        let result = match request.request_type {
            RequestType::Update => self.update(&request, &props, inv, tracker).await,
            _ => self.start(&request, &props, inv, tracker).await,
        };
        match result {
            Ok(progress) => progress,
            Err(e) => self.fail_unrecorded(&request, e, tracker).await,
        }
    }

    /// An error before the work was recorded: answer FAILED now. After it was recorded, the
    /// follow-ups own the request.
    async fn fail_unrecorded(&self, request: &CfnRequest, e: Error, tracker: &Tracker) -> Progress {
        if tracker.is_recorded() {
            tracing::warn!(error = %e, "step failed; the next follow-up retries");
            return Progress::Pending(e.to_string());
        }
        self.answer_directly(
            request,
            Outcome::failed(failure_id(request), e.to_string()),
            tracker,
        )
        .await;
        Progress::Answered
    }

    pub(super) async fn start(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Error> {
        let key = request.request_id.as_str();
        let record = match self.ports.pending.get(key).await? {
            Some(PendingWork::Respond(r)) => *r,
            _ if self.already_served(request).await? => {
                tracing::info!(
                    "redelivery of a request already served: its clone exists and it was answered"
                );
                tracker.answered();
                return Ok(Progress::Ignored("already served".into()));
            }
            _ => match self.new_record(request, props).await? {
                Ok(r) => r,
                Err(reason) => {
                    self.answer_directly(
                        request,
                        Outcome::failed(failure_id(request), reason),
                        tracker,
                    )
                    .await;
                    return Ok(Progress::Answered);
                }
            },
        };
        self.record_and_advance(record, inv, tracker).await
    }

    /// Records the pending work (if absent), arms the follow-ups and takes the first steps.
    pub(super) async fn record_and_advance(
        &self,
        record: PendingRequest,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Error> {
        let key = record.request.request_id.clone();
        let work = PendingWork::Respond(Box::new(record.clone()));
        if self.ports.pending.add(&key, &work).await? == Added::Exists {
            tracing::info!("duplicate delivery: continuing the recorded request");
        }
        tracker.recorded();
        if let Some(arn) = &inv.function_arn {
            // Without follow-ups nobody would come back for the record: answer now instead.
            if let Err(e) = self.ports.follow_ups.ensure(arn).await {
                let reason = format!(
                    "could not arm the follow-up rule, so the clone could not be waited for: {e}"
                );
                self.answer_pending(
                    &record,
                    Outcome::failed(failure_id(&record.request), reason),
                )
                .await;
                tracker.answered();
                return Ok(Progress::Answered);
            }
        }
        let progress = self.advance_request(&record).await;
        if progress == Progress::Answered {
            tracker.answered();
        }
        Ok(progress)
    }

    /// True when a clone made by this very request exists: the request was recorded, served and
    /// answered before (Lambda delivers an event at least once), so it must not start again.
    async fn already_served(&self, request: &CfnRequest) -> Result<bool, Error> {
        let clusters = self.ports.rds.clusters().await?;
        Ok(clusters.iter().any(|c| {
            c.ownership().is_some_and(|o| {
                o.is_clone_of_resource(
                    &self.settings.stack_name,
                    &request.stack_id,
                    &request.logical_resource_id,
                ) && o.request_id.as_deref() == Some(request.request_id.as_str())
            })
        }))
    }

    /// Fixes the clone's identifier and deadline, once. An inner `Err` is a reason to fail.
    async fn new_record(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
    ) -> Result<Result<PendingRequest, String>, Error> {
        let now = self.clock.now();
        let generated =
            || ident::generated_clone_id(&props.source_cluster_id, now, &request.request_id);
        let cluster_id = match &props.cluster_id {
            None => generated(),
            Some(id) => match self.ports.rds.cluster(id).await? {
                None => id.clone(),
                Some(c) if c.ownership().and_then(|o| o.request_id).as_deref() == Some(&request.request_id) => id.clone(),
                Some(_) if props.no_fail_on_existing_cluster => ident::generated_clone_id(id, now, &request.request_id),
                Some(_) => return Ok(Err(format!("ClusterId {id} already exists; choose another or set NoFailOnExistingCluster to add a timestamp"))),
            },
        };
        Ok(Ok(self.pending_request(request, props, cluster_id, false)))
    }

    /// A request's pending record: received now, due `DEADLINE_MARGIN_SECS` before
    /// CloudFormation's `ServiceTimeout` (default one hour) runs out.
    pub(super) fn pending_request(
        &self,
        request: &CfnRequest,
        props: &CloneProperties,
        cluster_id: String,
        adopted: bool,
    ) -> PendingRequest {
        let timeout = i64::from(props.service_timeout.unwrap_or(3600));
        let received = self.clock.now().unix_timestamp();
        PendingRequest {
            request: request.clone(),
            cluster_id,
            received,
            deadline: received + (timeout - DEADLINE_MARGIN_SECS).max(timeout / 2),
            adopted,
        }
    }
}
