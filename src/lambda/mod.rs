//! The Lambda front door: the event, classified once (`event`), is served through the flows,
//! and a CloudFormation request is answered even on a malformed request, a configuration
//! error, a panic or the Lambda's own deadline. Every task an invocation spawns is aborted at
//! the hand-off margin: nothing of it runs on when Lambda freezes the process.
//!
//! - `app`: the handler's state, wired once per process from the environment.
//! - `event`: what an invocation was asked to do.
//! - `runtime`: the Lambda runtime loop and the invocation metrics.
//! - `deadline`: the runtime's deadline header, local emulators' odd ones included.

mod app;
pub mod deadline;
mod event;
mod runtime;

pub use app::{App, Redeliver};
pub use event::Event;
pub use runtime::run;

use crate::cfn::{CfnRequest, Outcome};
use crate::config::ConfigError;
use crate::service::{answer::failure_id, Flows, Invocation, Progress, Tracker};
use crate::state::Phase;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// Time kept back before the Lambda's deadline to hand work off or answer.
pub const HAND_OFF_MARGIN: Duration = Duration::from_secs(10);

/// Handles one invocation's payload. `deadline` is the Lambda's own.
pub async fn handle(
    app: &App,
    event: Value,
    inv: Invocation,
    deadline: Instant,
) -> Result<Value, Redeliver> {
    handle_event(app, Event::classify(&event), inv, deadline).await
}

/// Runs `work` in a task of its own, aborted at `until`; `None` when it was cut off.
async fn bounded<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
    until: Instant,
) -> Option<Result<T, tokio::task::JoinError>> {
    let task = tokio::spawn(work.in_current_span());
    let abort = task.abort_handle();
    match tokio::time::timeout_at(until, task).await {
        Ok(joined) => Some(joined),
        Err(_) => {
            abort.abort();
            None
        }
    }
}

/// Handles one classified event. `deadline` is the Lambda's own.
pub async fn handle_event(
    app: &App,
    event: Event,
    inv: Invocation,
    deadline: Instant,
) -> Result<Value, Redeliver> {
    let inv = Invocation {
        deadline: Some(deadline - HAND_OFF_MARGIN),
        ..inv
    };
    let flows = app.flows.as_ref();
    if let Event::CloudFormation(r) | Event::Malformed(r, _) = &event {
        let pin =
            crate::cfn::url::check(&r.response_url, &app.response_hosts, app.region.as_deref());
        if let Err(why) = pin {
            tracing::error!(%why, request_id = %r.request_id, "not serving a request whose answer would go elsewhere than CloudFormation");
            return Ok(json!({"ignored": why}));
        }
    }
    match (event, flows) {
        (Event::CloudFormation(request), _) => handle_request(app, *request, inv).await,
        (Event::Malformed(request, why), _) => {
            tracing::warn!(%why, "answering a malformed request FAILED");
            answer_unservable(app, &request, &why, &inv).await
        }
        (Event::FollowUp, Ok(m)) => Ok(follow_up(m, &inv, true).await),
        (Event::Rds(id), Ok(m)) => match id.filter(|id| !m.core.manages_identifier(id)) {
            Some(id) => {
                Ok(json!({"ignored": format!("{id} is not a cluster of this clone manager")}))
            }
            None => Ok(follow_up(m, &inv, false).await),
        },
        (Event::Rds(_), Err(_)) => {
            Ok(json!({"ignored": "RDS event under an invalid configuration"}))
        }
        (Event::Maintain, Ok(m)) => Ok(maintain(m, &inv).await),
        (Event::FollowUp, Err(e)) => Ok(fail_pending(app, e, &inv).await),
        (Event::Maintain | Event::Expire(_) | Event::Refresh(_), Err(e)) => {
            Ok(json!({"error": e.to_string()}))
        }
        (Event::Refresh(id), Ok(m)) => Ok(refresh(m, &id, &inv).await),
        (Event::Prepared { token, ok, reason }, Ok(m)) => {
            use crate::service::prepare::Reported;
            Ok(
                match m.prepared.report(&token, ok, reason.as_deref(), &inv).await {
                    Ok(Reported::Recorded { cluster_id }) => {
                        json!({"prepared": cluster_id, "ok": ok})
                    }
                    Ok(Reported::Refused(why)) => json!({"ignored": why}),
                    Err(e) => json!({"error": e.to_string()}),
                },
            )
        }
        (Event::Prepared { .. }, Err(e)) => Ok(json!({"error": e.to_string()})),
        (Event::Expire(id), Ok(m)) => Ok(match m.expiry.expire(&id, &inv).await {
            Ok(n) => json!({"expiry": id, "actions": n}),
            Err(e) => json!({"error": e.to_string()}),
        }),
        (Event::Unknown(why), _) => {
            tracing::warn!(%why, "ignoring event");
            Ok(json!({"ignored": why}))
        }
    }
}

/// A refresh asked for: recorded (or joined) for the follow-ups to carry out. Whether the
/// cluster is a clone this manager may refresh is the ledger's word alone.
async fn refresh(m: &Flows, id: &str, inv: &Invocation) -> Value {
    use crate::service::refresh::Asked;
    match m.refresh.ask(id, "event", inv).await {
        Ok(Asked::Started(r)) => json!({"refresh": id, "attempt": r.attempt, "started": true}),
        Ok(Asked::Joined(r)) => json!({"refresh": id, "attempt": r.attempt, "started": false}),
        Ok(Asked::Refused(why)) => json!({"ignored": why}),
        Err(e) => json!({"error": e.to_string()}),
    }
}

async fn follow_up(m: &Flows, inv: &Invocation, from_rule: bool) -> Value {
    let until = inv.deadline.unwrap_or_else(Instant::now);
    let (m, i) = (m.follow_up.clone(), inv.clone());
    let work = async move {
        if from_rule {
            m.follow_up(&i).await
        } else {
            m.follow_up_event(&i).await
        }
    };
    match bounded(work, until).await {
        Some(Ok(Ok(report))) => {
            let pending = report
                .iter()
                .filter(|(_, p)| matches!(p, Progress::Pending(_)))
                .count();
            let items: Vec<String> = report.iter().map(|(w, p)| format!("{w}: {p:?}")).collect();
            json!({"followed_up": report.len(), "pending": pending, "items": items})
        }
        Some(Ok(Err(e))) => json!({"error": e.to_string()}),
        Some(Err(_)) => {
            json!({"error": "follow-up panicked; pending work stays for the next tick"})
        }
        None => json!({"handed_off": "Lambda deadline near; the next tick continues"}),
    }
}

async fn maintain(m: &Flows, inv: &Invocation) -> Value {
    let until = inv.deadline.unwrap_or_else(Instant::now);
    let (m, i) = (m.maintain.clone(), inv.clone());
    match bounded(
        async move { crate::service::maintain::run_scheduled(&m, &i).await },
        until,
    )
    .await
    {
        Some(Ok(v)) => v,
        Some(Err(_)) => json!({"error": "maintenance panicked"}),
        None => json!({"handed_off": "Lambda deadline near"}),
    }
}

/// Under an invalid configuration, a follow-up answers every pending request FAILED with the
/// configuration error (nothing could advance them), and delivers answers already decided.
async fn fail_pending(app: &App, e: &ConfigError, inv: &Invocation) -> Value {
    let Some(m) = &app.answering else {
        return json!({"error": e.to_string()});
    };
    let reason = format!("the clone manager's configuration is invalid: {e}");
    match m.follow_up.fail_all_pending(&reason, inv).await {
        Ok(n) => json!({"error": e.to_string(), "answered": n}),
        Err(err) => json!({"error": e.to_string(), "state": err.to_string()}),
    }
}

/// Answers FAILED a request that cannot be served at all (malformed, or the configuration is
/// invalid), through the answer protocol when there are flows to record it with. Neither
/// recorded nor delivered: Lambda delivers it again.
async fn answer_unservable(
    app: &App,
    request: &CfnRequest,
    why: &str,
    inv: &Invocation,
) -> Result<Value, Redeliver> {
    let outcome = Outcome::failed(failure_id(request), why);
    match app.flows.as_ref().ok().or(app.answering.as_ref()) {
        Some(m) => {
            let record = m.receive.bare_record(request);
            let answer = crate::service::answer::failed(request, why);
            m.answers
                .answer_now(record, answer, inv, &Tracker::default())
                .await
                .map_err(|e| Redeliver(e.to_string()))?;
        }
        None => {
            let body = crate::cfn::ResponseBody::new(request, outcome);
            if let Err(e) = app
                .responder
                .send(&request.response_url, &body, inv.deadline)
                .await
            {
                tracing::error!(error = %e, "response could not be delivered");
                return Err(Redeliver(e));
            }
        }
    }
    Ok(json!({"answered": "FAILED", "reason": why}))
}

/// Serves a CloudFormation request so that it is answered exactly once on every path.
pub async fn handle_request(
    app: &App,
    request: CfnRequest,
    inv: Invocation,
) -> Result<Value, Redeliver> {
    let span = tracing::info_span!("request", stack_id = %request.stack_id, logical_id = %request.logical_resource_id,
        request_id = %request.request_id, request_type = ?request.request_type);
    async move {
        tracing::info!("received");
        let flows = match &app.flows {
            Ok(m) => m.clone(),
            Err(e) => {
                let why = format!("the clone manager's configuration is invalid: {e}");
                return answer_unservable(app, &request, &why, &inv).await;
            }
        };
        let tracker = Arc::new(Tracker::default());
        let until = inv.deadline.unwrap_or_else(Instant::now);
        let work = {
            let (m, r, t, i) = (flows.receive.clone(), request.clone(), tracker.clone(), inv.clone());
            async move { m.serve(r, &i, &t).await }
        };
        match bounded(work, until).await {
            Some(Ok(Ok(progress))) => Ok(json!({"progress": format!("{progress:?}")})),
            Some(Ok(Err(unrecorded))) => {
                tracing::warn!(error = %unrecorded.0, "could not record the request: asking Lambda to deliver it again");
                Err(Redeliver(unrecorded.0.to_string()))
            }
            Some(Err(_panic)) => {
                tracing::error!("handler panicked");
                answer_after_crash(&flows, &request, &tracker, &inv, "internal error while serving the request (the handler panicked); see the function's logs").await
            }
            None if tracker.is_recorded() || tracker.is_answered() => {
                tracing::info!("Lambda deadline near: the follow-ups continue the request");
                Ok(json!({"handed_off": true}))
            }
            None => {
                tracing::warn!("Lambda deadline near and the request is not recorded: asking Lambda to deliver it again");
                Err(Redeliver("not recorded before the hand-off margin".into()))
            }
        }
    }
    .instrument(span)
    .await
}

/// After a panic: a recorded request is decided FAILED (unless decided already) and delivered;
/// one not yet recorded is recorded and answered the same way.
async fn answer_after_crash(
    m: &Flows,
    request: &CfnRequest,
    tracker: &Tracker,
    inv: &Invocation,
    reason: &str,
) -> Result<Value, Redeliver> {
    if tracker.is_answered() {
        return Ok(json!({"answered": "before the panic"}));
    }
    let record = match m.answers.recorded(&request.request_id).await {
        Ok(Some(item)) if item.phase != Phase::Done => item.record,
        Ok(Some(_)) => return Ok(json!({"answered": "before the panic"})),
        Ok(None) => m.receive.bare_record(request),
        Err(e) => return Err(Redeliver(e.to_string())),
    };
    let answer = crate::service::answer::failed(request, reason);
    m.answers
        .answer_now(record, answer, inv, tracker)
        .await
        .map_err(|e| Redeliver(e.to_string()))?;
    Ok(json!({"answered": "FAILED"}))
}
