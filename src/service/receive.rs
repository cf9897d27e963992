//! A request as it arrives: parse strictly, record it first (create-if-absent, so a duplicate
//! delivery continues the stored record, never its own), arm the follow-ups, take the first
//! steps. Observing comes after recording, the stack check included: a throttle there only
//! delays the request. A request refused before any work is recorded straight as answering.

use super::answer::{failed, Tracker};
use super::Core;
use super::{Invocation, Progress, DEADLINE_MARGIN_SECS, STEP_BUDGET};
use crate::cfn::{CfnRequest, RequestType};
use crate::domain::properties::{service_timeout, CloneProperties};
use crate::error::AwsError;
use crate::state::{Phase, RequestItem, RequestRecord};
use std::sync::Arc;
use std::time::Duration;

/// Why a request could not be recorded: with a transient cause the invocation reports an error
/// so that Lambda delivers the event again; a permanent one is answered FAILED at once.
#[derive(Debug)]
pub struct Unrecorded(pub AwsError);

/// CloudFormation requests as they arrive.
#[derive(Clone)]
pub struct Receive {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) vet: Arc<super::vet::Vet>,
    pub(super) rule: Arc<super::rule::Rule>,
    pub(super) answers: Arc<super::answer::Answers>,
    pub(super) place: Arc<super::place::Place>,
    pub(super) advance: Arc<super::advance::Advance>,
}

impl Receive {
    /// Serves one CloudFormation request. Every path answers, or leaves a recorded request that
    /// a follow-up will answer, or (state table unavailable) asks Lambda to deliver it again.
    pub async fn serve(
        &self,
        request: CfnRequest,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Unrecorded> {
        // Refused before any work: recorded straight as answering, never as pending work.
        let admitted = self
            .vet
            .screen(&request, inv)
            .and_then(|()| self.new_record(&request));
        let record = match admitted {
            Ok(r) => r,
            Err(reason) => return self.refuse(&request, reason, inv, tracker).await,
        };
        let item = match self.record_first(&record, inv).await {
            Ok(item) => item,
            Err(e) if e.retryable => return Err(Unrecorded(e)),
            Err(e) => {
                let reason = format!("could not record the request: {e}");
                return self.refuse(&request, reason, inv, tracker).await;
            }
        };
        tracker.recorded();
        let fresh = item.version == 1 && item.record == record;
        let progress = self.continue_recorded(item, fresh, inv).await;
        if !matches!(progress, Progress::Pending(_)) {
            tracker.answered();
        }
        Ok(progress)
    }

    /// Answers FAILED a request refused before any work (recorded and armed first: see
    /// `answer_now`); one that could not even be recorded is delivered again by Lambda.
    async fn refuse(
        &self,
        request: &CfnRequest,
        reason: String,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, Unrecorded> {
        tracing::warn!(%reason, "refusing a request");
        let answer = failed(request, reason);
        self.answers
            .answer_now(self.bare_record(request), answer, inv, tracker)
            .await
            .map_err(Unrecorded)
    }

    /// Continues a recorded request from wherever it stands.
    pub(super) async fn continue_recorded(
        &self,
        item: RequestItem,
        fresh: bool,
        inv: &Invocation,
    ) -> Progress {
        match item.phase {
            Phase::Done => Progress::Ignored("already answered".into()),
            Phase::Answering(_) => {
                let progress = self.answers.deliver(&item, inv).await;
                if matches!(progress, Progress::Pending(_)) {
                    // Whoever decided armed the rule; a duplicate delivery makes sure of it.
                    if let Err(e) = self.rule.arm_follow_ups(inv).await {
                        tracing::warn!(error = %e, "could not arm the follow-up rule");
                    }
                }
                progress
            }
            Phase::Pending => {
                if let Err(e) = self.rule.arm_follow_ups(inv).await {
                    let reason = format!(
                        "could not arm the follow-up rule, so the clone could not be waited for: {e}"
                    );
                    let answer = failed(&item.record.request, reason);
                    return self.answers.conclude(&item.record, answer, inv).await;
                }
                self.advance.advance(item, fresh, inv).await
            }
        }
    }

    /// Records the request, trying again while the invocation has time: the state table is the
    /// one thing a request cannot go on without.
    async fn record_first(
        &self,
        record: &RequestRecord,
        inv: &Invocation,
    ) -> Result<RequestItem, AwsError> {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.state.record(record).await {
                Ok(item) => return Ok(item),
                Err(e) if e.retryable && inv.has_time_for(STEP_BUDGET + pause) => {
                    tracing::warn!(error = %e, "recording the request failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The record of a new request. A Create's clone identifier is fixed here, from the request
    /// id and the time of recording (a duplicate delivery continues the stored record, so its
    /// own clock never names a second clone). An Update decides at its first step.
    fn new_record(&self, request: &CfnRequest) -> Result<RequestRecord, String> {
        let mut record = self.bare_record(request);
        if request.request_type != RequestType::Create {
            return Ok(record);
        }
        let props = CloneProperties::parse(&request.resource_properties)
            .map_err(|e| format!("invalid property {e}"))?;
        self.place.admissible(&props, &request.stack_id)?;
        let (cluster_id, fallback_id) = self.place.clone_ids(&props, record.received, request);
        record.cluster_id = cluster_id;
        record.fallback_id = fallback_id;
        Ok(record)
    }

    /// A record with no clone decided yet (a Delete, an Update, or a request that fails at once).
    /// Its time starts when CloudFormation sent it (the ResponseURL's signing time), not when it
    /// reached the function: CloudFormation's hour runs from then, however late Lambda delivers.
    pub fn bare_record(&self, request: &CfnRequest) -> RequestRecord {
        let timeout = i64::from(service_timeout(&request.resource_properties));
        let received =
            crate::cfn::url::received_at(&request.response_url, self.core.now_secs(), timeout);
        RequestRecord {
            request: request.clone(),
            cluster_id: String::new(),
            fallback_id: None,
            received,
            deadline: received + (timeout - DEADLINE_MARGIN_SECS).max(timeout / 2),
            adopted: false,
            preparation: None,
        }
    }
}
