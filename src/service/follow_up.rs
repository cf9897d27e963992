//! The follow-up tick: every item of pending work, most urgent first (answers waiting to be
//! delivered, then the request nearest its deadline), each in a task of its own that is aborted
//! at the invocation's hand-off margin, and none started without time for it. When nothing is
//! left to follow up, the rule is disabled.

use super::answer::failed;
use super::Core;
use super::{Invocation, Progress, STEP_BUDGET};
use crate::error::{AwsError, Error};
use crate::state::{Phase, Work};
use std::sync::Arc;

/// The follow-up tick over all pending work.
#[derive(Clone)]
pub struct FollowUp {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) follow_ups: Arc<dyn crate::ports::FollowUps>,
    pub(super) rule: Arc<super::rule::Rule>,
    pub(super) reaper: Arc<super::reap::Reaper>,
    pub(super) answers: Arc<super::answer::Answers>,
    pub(super) advance: Arc<super::advance::Advance>,
    pub(super) maintain: Arc<super::maintain::Maintain>,
    pub(super) refresh: Arc<super::refresh::Refresh>,
}

impl FollowUp {
    /// Every item of work in the state table, done or not (the CLI's `requests`).
    pub async fn work(&self) -> Result<Vec<Work>, crate::error::AwsError> {
        self.state.list().await
    }

    /// A follow-up tick. Returns what became of each item it took up.
    pub async fn follow_up(&self, inv: &Invocation) -> Result<Vec<(String, Progress)>, Error> {
        self.take_up_pending(inv, true).await
    }

    /// An RDS event: pending work may move on sooner than the next tick. With nothing pending
    /// it costs one call and leaves the rule alone (it is not the rule's invocation).
    pub async fn follow_up_event(
        &self,
        inv: &Invocation,
    ) -> Result<Vec<(String, Progress)>, Error> {
        self.take_up_pending(inv, false).await
    }

    async fn take_up_pending(
        &self,
        inv: &Invocation,
        from_rule: bool,
    ) -> Result<Vec<(String, Progress)>, Error> {
        let all = self.state.list().await?;
        if !from_rule && !all.iter().any(Work::needs_follow_up) {
            return Ok(vec![]);
        }
        let pending = self.core.metrics().pending_work(&all, self.core.now_secs());
        crate::metrics::emit(&pending);
        let mut work: Vec<Work> = all.into_iter().filter(Work::needs_follow_up).collect();
        work.sort_by_key(Work::urgency);
        let mut report = Vec::new();
        let mut left = false;
        for w in work {
            if !inv.has_time_for(STEP_BUDGET) {
                left = true;
                break;
            }
            let name = w.describe();
            let progress = self.follow_up_item(w, inv).await;
            left |= matches!(progress, Progress::Pending(_));
            report.push((name, progress));
        }
        if !left {
            self.stop_follow_ups(inv).await?;
        }
        Ok(report)
    }

    /// Answers every pending request FAILED with `reason`, and delivers answers already decided
    /// (the configuration is invalid: nothing can advance them). Returns how many it answered.
    pub async fn fail_all_pending(&self, reason: &str, inv: &Invocation) -> Result<usize, Error> {
        let mut answered = 0;
        for work in self.state.list().await? {
            let Work::Request(item) = work else { continue };
            let progress = match &item.phase {
                Phase::Pending => {
                    self.answers
                        .conclude(&item.record, failed(&item.record.request, reason), inv)
                        .await
                }
                Phase::Answering(_) => self.answers.deliver(&item, inv).await,
                Phase::Done => continue,
            };
            answered += usize::from(progress == Progress::Answered);
        }
        Ok(answered)
    }

    /// Disables the follow-up rule, then looks once more: work recorded meanwhile (a Create
    /// racing this tick) re-arms it, so no pending work is ever left without follow-ups. When
    /// the disable or the second look fails, the rule is put back on (what is pending is then
    /// unknown).
    async fn stop_follow_ups(&self, inv: &Invocation) -> Result<(), Error> {
        let Some(arn) = &inv.function_arn else {
            return Ok(());
        };
        // A disable whose reply was lost may have taken effect: put the rule back on, and the
        // next tick tries again.
        if let Err(e) = self.follow_ups.stop().await {
            return Err(self.rearm(inv, e).await);
        }
        let again = match self.state.list().await {
            Ok(again) => again,
            Err(e) => return Err(self.rearm(inv, e).await),
        };
        crate::metrics::emit(
            &self
                .core
                .metrics()
                .pending_work(&again, self.core.now_secs()),
        );
        if again.iter().any(Work::needs_follow_up) {
            tracing::info!(function = %arn, "work recorded meanwhile: the follow-up rule stays on");
            self.rule.arm_follow_ups(inv).await?;
        }
        Ok(())
    }

    /// Puts the follow-up rule back on after `cause` left it unknown whether work is pending
    /// (logged when even that fails); returns `cause` for the caller to report.
    async fn rearm(&self, inv: &Invocation, cause: AwsError) -> Error {
        tracing::warn!(error = %cause, "stopping the follow-ups failed: leaving the rule on");
        if let Err(e) = self.rule.arm_follow_ups(inv).await {
            tracing::error!(error = %e, "could not put the follow-up rule back on");
        }
        cause.into()
    }

    /// Takes up one item in a task of its own: a panic there answers that request FAILED
    /// instead of failing every later tick, and the task never outlives the hand-off margin.
    async fn follow_up_item(&self, work: Work, inv: &Invocation) -> Progress {
        let span = tracing::info_span!("work", item = %work.describe());
        let request = match &work {
            Work::Request(item) => Some(item.record.clone()),
            _ => None,
        };
        let (m, i) = (self.clone(), inv.clone());
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move { m.take_up(work, &i).await },
            span,
        ));
        let abort = task.abort_handle();
        let joined = match inv.deadline {
            Some(d) => match tokio::time::timeout_at(d, task).await {
                Ok(joined) => joined,
                Err(_) => {
                    abort.abort();
                    return Progress::Pending("handed off at the deadline".into());
                }
            },
            None => task.await,
        };
        match (joined, request) {
            (Ok(progress), _) => progress,
            (Err(e), Some(record)) if e.is_panic() => {
                tracing::error!(request_id = %record.request_id(), "follow-up panicked");
                let reason = "internal error while following up the request (the handler panicked); see the function's logs";
                self.answers
                    .conclude(&record, failed(&record.request, reason), inv)
                    .await
            }
            (Err(e), _) => Progress::Pending(format!("follow-up task failed: {e}")),
        }
    }

    async fn take_up(&self, work: Work, inv: &Invocation) -> Progress {
        match work {
            Work::Request(item) => match item.phase {
                Phase::Answering(_) => self.answers.deliver(&item, inv).await,
                Phase::Pending => self.advance.advance(*item, false, inv).await,
                Phase::Done => Progress::Ignored("done".into()),
            },
            Work::Reap(reap) => self.reaper.reap(reap, inv).await,
            Work::Maintain(m) if m.not_before > self.core.now_secs() => {
                Progress::Pending("maintenance retries later".into())
            }
            Work::Maintain(m) => self.maintain.continue_maintenance(m, inv).await,
            Work::Refresh(r) => self.refresh.advance(*r, inv).await,
        }
    }
}
