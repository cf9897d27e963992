//! The answer protocol. A request's outcome is decided once, by the one conditional
//! `pending -> answering` write that wins; then whoever holds an `answering` item delivers that
//! same outcome: the ready event (once), the PUT to the ResponseURL (a resend overwrites the same
//! object with the same body), reap work for the clone of a failed request, and `done`. A step
//! that fails or is cut short leaves the item `answering`, and the next follow-up repeats the
//! delivery: at least once, never two different outcomes.

use super::Core;
use super::{Invocation, Progress};
use crate::cfn::{ResponseBody, Status};
use crate::domain::events::LifecycleEvent;
use crate::error::AwsError;
use crate::state::{Answer, Phase, ReapItem, RequestItem, RequestRecord};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// A presigned ResponseURL is valid for about two hours: resending after that is pointless.
const DELIVERY_GIVE_UP_SECS: i64 = 2 * 3600;

/// How long a failed request's clone is looked for after its answer: a restore sent just before
/// the answer was decided lands within seconds, and no invocation outlives 15 minutes.
pub const REAP_WATCH_SECS: i64 = 15 * 60;

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

pub use crate::state::{failed, failure_id};

/// The answer protocol.
#[derive(Clone)]
pub struct Answers {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) events: Arc<dyn crate::ports::Events>,
    pub(super) responder: Arc<dyn crate::ports::Responder>,
    pub(super) rule: Arc<super::rule::Rule>,
    pub(super) reaper: Arc<super::reap::Reaper>,
}

impl Answers {
    /// The request's record as the state table holds it.
    pub async fn recorded(&self, request_id: &str) -> Result<Option<RequestItem>, AwsError> {
        self.state.request(request_id).await
    }

    /// Decides a pending request's answer (if nobody has yet), then delivers whatever was
    /// decided.
    pub async fn conclude(
        &self,
        record: &RequestRecord,
        answer: Answer,
        inv: &Invocation,
    ) -> Progress {
        if answer.outcome.status == Status::Failed {
            tracing::warn!(reason = %answer.outcome.reason, "answering FAILED");
        }
        match self.state.decide(record.request_id(), &answer).await {
            Ok(Some(item)) => self.deliver(&item, inv).await,
            Ok(None) => Progress::Ignored("answered already".into()),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the answer; the next follow-up decides again");
                Progress::Pending(e.to_string())
            }
        }
    }

    /// Delivers an `answering` item; anything short of `done` is repeated by the next follow-up.
    pub async fn deliver(&self, item: &RequestItem, inv: &Invocation) -> Progress {
        let Phase::Answering(answer) = &item.phase else {
            return Progress::Ignored("not answering".into());
        };
        let record = &item.record;
        let watched = match self.watch_failed_clone(record, answer).await {
            Ok(reaps) => reaps,
            Err(why) => return Progress::Pending(why),
        };
        let body = ResponseBody::new(&record.request, answer.outcome.clone());
        if let Err(e) = self
            .responder
            .send(&record.request.response_url, &body, inv.deadline)
            .await
        {
            if self.core.now_secs() < record.received + DELIVERY_GIVE_UP_SECS {
                tracing::warn!(error = %e, "response not delivered yet; the next follow-up resends it");
                return Progress::Pending(format!("response not delivered: {e}"));
            }
            tracing::error!(error = %e, "response never delivered; its ResponseURL has expired");
        } else {
            tracing::info!(status = ?body.status, physical_id = %body.physical_resource_id, "response sent");
        }
        // The failed request's clone goes at once where it exists; the watch catches a restore
        // that lands later.
        for reap in watched {
            // Boxed: a reap applies actions, one of which (Cancel) delivers answers.
            Box::pin(self.reaper.reap(reap, inv)).await;
        }
        if let Err(why) = self.deliver_event(record, answer).await {
            return Progress::Pending(why);
        }
        match self
            .state
            .finish(record.request_id(), self.core.now_secs())
            .await
        {
            Ok(()) => {
                let status = answer.outcome.status;
                let doc =
                    self.core
                        .metrics()
                        .answered_request(record, status, self.core.now_secs());
                crate::metrics::emit(&doc);
                Progress::Answered
            }
            Err(e) => Progress::Pending(format!("answer delivered, not yet marked done: {e}")),
        }
    }

    /// The ready event, sent after the PUT by whoever delivers and noted as sent: an event whose
    /// note was lost is sent again (at least once; consumers key on `clusterId`). A transient
    /// failure is retried by the next follow-ups (which resend the same PUT, harmlessly) until
    /// the request's deadline; CloudFormation's answer never waits on it.
    async fn deliver_event(&self, record: &RequestRecord, answer: &Answer) -> Result<(), String> {
        let Some(ready) = answer.event.as_ref().filter(|_| !answer.event_sent) else {
            return Ok(());
        };
        let event = LifecycleEvent::InstanceReady(ready.clone());
        match self.events.put(&event).await {
            Ok(()) => {
                if let Err(e) = self.state.event_sent(record.request_id()).await {
                    tracing::warn!(error = %e, "event sent, not noted: it may be sent twice");
                }
                Ok(())
            }
            Err(e) if e.retryable && self.core.now_secs() < record.deadline => {
                Err(format!("ready event not sent yet: {e}"))
            }
            Err(e) => {
                tracing::error!(error = %e, "could not put the instance-ready event");
                Ok(())
            }
        }
    }

    /// A failed request that may have restored a clone leaves reap work for it: the clone is
    /// removed if it exists (or appears within the watch) and carries this request's tag.
    async fn watch_failed_clone(
        &self,
        record: &RequestRecord,
        answer: &Answer,
    ) -> Result<Vec<ReapItem>, String> {
        if answer.outcome.status != Status::Failed
            || !record.makes_a_clone()
            || record.cluster_id.is_empty()
        {
            return Ok(vec![]);
        }
        let mut watched = vec![];
        let now = self.core.now_secs();
        let ids = std::iter::once(&record.cluster_id).chain(record.fallback_id.as_ref());
        for cluster_id in ids {
            let reap = ReapItem {
                cluster_id: cluster_id.clone(),
                request_id: Some(record.request_id().to_string()),
                since: now,
                watch_until: now + REAP_WATCH_SECS,
                attempts: 0,
                last_error: None,
                given_up: false,
            };
            if let Err(e) = self.state.put_reap(&reap, true).await {
                return Err(format!("could not record the failed clone's clean-up: {e}"));
            }
            watched.push(reap);
        }
        Ok(watched)
    }

    /// Answers at once a request that could not get as far as being advanced (refused, bad
    /// properties, a configuration error, a crash). The answer is recorded before it is sent, in
    /// one write for a request not yet stored (never pending first), and the follow-up rule is
    /// armed, so that a PUT that fails is resent. When nothing could be recorded the answer is
    /// still sent directly; an error comes back only when it was neither recorded nor delivered,
    /// so that the invocation fails and Lambda delivers the event again.
    pub async fn answer_now(
        &self,
        record: RequestRecord,
        answer: Answer,
        inv: &Invocation,
        tracker: &Tracker,
    ) -> Result<Progress, AwsError> {
        let stored = match self.state.refuse(&record, &answer).await {
            Ok(item) => item,
            Err(e) => {
                let sent = self.answer_unrecorded(&record, answer, e, inv).await;
                if sent.is_ok() {
                    tracker.answered();
                }
                return sent;
            }
        };
        // Recorded: from here on the follow-ups deliver it, whatever becomes of this invocation.
        tracker.answered();
        let armed = self.rule.arm_follow_ups(inv).await;
        let progress = match stored.phase {
            Phase::Pending => self.conclude(&stored.record, answer, inv).await,
            Phase::Answering(_) => self.deliver(&stored, inv).await,
            Phase::Done => Progress::Ignored("answered already".into()),
        };
        match (armed, &progress) {
            (Err(e), Progress::Pending(_)) => {
                tracing::warn!(error = %e, "answer not delivered and no follow-up armed");
                Err(e)
            }
            _ => Ok(progress),
        }
    }

    /// The state table refused: the answer goes directly, once. Delivered, it is final; not
    /// delivered, the caller reports the error (nothing would ever resend it).
    async fn answer_unrecorded(
        &self,
        record: &RequestRecord,
        answer: Answer,
        error: AwsError,
        inv: &Invocation,
    ) -> Result<Progress, AwsError> {
        tracing::warn!(error = %error, "could not record the answer: sending it directly");
        let body = ResponseBody::new(&record.request, answer.outcome);
        match self
            .responder
            .send(&record.request.response_url, &body, inv.deadline)
            .await
        {
            Ok(()) => Ok(Progress::Answered),
            Err(why) => {
                tracing::error!(error = %why, "response could not be delivered either");
                Err(error)
            }
        }
    }
}
