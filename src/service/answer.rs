//! The one response each request gets. A request is answered either directly (before any
//! pending record exists) or by whoever takes its pending record: taking is atomic, so two
//! invocations racing on the same request never both answer.

use super::Manager;
use crate::cfn::{CfnRequest, Outcome, PhysicalId, RequestType, ResponseBody};
use crate::pending::PendingRequest;
use std::sync::atomic::{AtomicU8, Ordering};

/// Where the request of this invocation stands, so that a panic or the Lambda deadline can
/// answer it exactly once.
#[derive(Debug, Default)]
pub struct Tracker(AtomicU8);

const RECEIVED: u8 = 0;
const RECORDED: u8 = 1;
const ANSWERED: u8 = 2;

impl Tracker {
    pub fn recorded(&self) {
        let _ = self
            .0
            .compare_exchange(RECEIVED, RECORDED, Ordering::SeqCst, Ordering::SeqCst);
    }

    pub fn answered(&self) {
        self.0.store(ANSWERED, Ordering::SeqCst);
    }

    pub fn is_recorded(&self) -> bool {
        self.0.load(Ordering::SeqCst) == RECORDED
    }

    pub fn is_answered(&self) -> bool {
        self.0.load(Ordering::SeqCst) == ANSWERED
    }
}

/// The physical id a FAILED answer carries: the old one for an Update (the resource stays what
/// it was), and one that names no cluster for a Create.
pub fn failure_id(request: &CfnRequest) -> String {
    match (request.request_type, &request.physical_resource_id) {
        (RequestType::Create, _) | (_, None) => PhysicalId::failed(&request.request_id),
        (_, Some(id)) => id.clone(),
    }
}

impl Manager {
    /// Sends a response; a failed PUT is logged (never with its URL) and not retried further.
    pub async fn respond(&self, request: &CfnRequest, outcome: Outcome) {
        let status = outcome.status;
        if outcome.status == crate::cfn::Status::Failed {
            tracing::warn!(reason = %outcome.reason, "answering FAILED");
        }
        let body = ResponseBody::new(request, outcome);
        match self
            .ports
            .responder
            .send(&request.response_url, &body)
            .await
        {
            Ok(()) => {
                tracing::info!(?status, physical_id = %body.physical_resource_id, "response sent")
            }
            Err(e) => tracing::error!(error = %e, "response could not be delivered"),
        }
    }

    /// Answers a request that has no pending record.
    pub async fn answer_directly(&self, request: &CfnRequest, outcome: Outcome, tracker: &Tracker) {
        if !tracker.is_answered() {
            tracker.answered();
            self.respond(request, outcome).await;
        }
    }

    /// Answers a pending request if this invocation is the one to take its record.
    pub async fn answer_pending(&self, record: &PendingRequest, outcome: Outcome) -> bool {
        match self.ports.pending.take(&record.request.request_id).await {
            Ok(true) => {
                self.respond(&record.request, outcome).await;
                true
            }
            Ok(false) => {
                tracing::info!("already answered or cancelled by another invocation");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "could not take the pending record; a follow-up will answer");
                false
            }
        }
    }
}
