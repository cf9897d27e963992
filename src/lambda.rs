//! The Lambda front door: classify the event, serve it through the `Manager`, and make sure a
//! CloudFormation request is answered even on a configuration error, a panic or the Lambda's own
//! deadline.

use crate::adapters::{self, http::HttpResponder};
use crate::cfn::{CfnRequest, Outcome};
use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::pending::PendingWork;
use crate::ports::Responder;
use crate::service::{answer::failure_id, Invocation, Manager, Ports, Progress, Tracker};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// Time kept back before the Lambda's deadline to hand work off or answer.
pub const HAND_OFF_MARGIN: Duration = Duration::from_secs(10);

/// What an invocation was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CloudFormation(Box<CfnRequest>),
    /// The follow-up rule's tick, or an RDS event about a cluster: advance pending work.
    FollowUp,
    /// The maintenance schedule: the original's constant input or a `Scheduled Event` envelope.
    Maintain,
    Unknown(String),
}

impl Event {
    pub fn classify(v: &Value) -> Event {
        if CfnRequest::matches(v) {
            return match serde_json::from_value(v.clone()) {
                Ok(r) => Event::CloudFormation(Box::new(r)),
                Err(e) => Event::Unknown(format!("malformed CloudFormation request: {e}")),
            };
        }
        let source = v.get("source").and_then(Value::as_str).unwrap_or_default();
        let action = v.get("action").and_then(Value::as_str).unwrap_or_default();
        let detail_type = v
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match (source, action, detail_type) {
            ("aurora-clone-manager", "follow-up", _) => Event::FollowUp,
            ("aws.rds", _, _) => Event::FollowUp,
            ("events", "maintain!", _) | ("aws.events", _, "Scheduled Event") => Event::Maintain,
            _ => Event::Unknown(format!("unrecognised event from source {source:?}")),
        }
    }
}

/// The handler's state: a manager when the configuration is valid, otherwise the error, which
/// every CloudFormation request is then answered with.
#[derive(Clone)]
pub struct App {
    pub manager: Result<Manager, ConfigError>,
    pub responder: Arc<dyn Responder>,
    /// Counts the AWS calls of each invocation (logged at its end), where the SDK is in use.
    pub calls: Option<adapters::counting::CallCounter>,
}

impl App {
    /// Builds the app from the environment and the AWS SDK.
    pub async fn from_env() -> App {
        let responder: Arc<dyn Responder> = Arc::new(HttpResponder::new());
        let clients = adapters::Clients::from_env().await;
        let manager = Settings::from_env()
            .map(|settings| manager_with(settings, &clients, responder.clone()));
        App {
            manager,
            responder,
            calls: Some(clients.calls),
        }
    }
}

pub fn manager_with(
    settings: Settings,
    clients: &adapters::Clients,
    responder: Arc<dyn Responder>,
) -> Manager {
    let rds = Arc::new(adapters::rds::SdkRds::new(clients.rds.clone()));
    let pending = Arc::new(adapters::ssm::SsmPending::new(
        clients.ssm.clone(),
        settings.pending_path(),
    ));
    let follow_ups = Arc::new(adapters::events::RuleFollowUps::new(
        clients.events.clone(),
        settings.follow_up_rule(),
    ));
    let locks = Arc::new(adapters::ssm::SsmLocks::new(
        clients.ssm.clone(),
        settings.locks_path(),
    ));
    let secrets = Arc::new(adapters::secrets::SdkSecrets::new(clients.secrets.clone()));
    let keys = Arc::new(adapters::kms::SdkKeys::new(clients.kms.clone()));
    let events = Arc::new(adapters::events::BusEvents::new(
        clients.events.clone(),
        &settings.event_bus_name,
        &settings.event_source,
    ));
    let ports = Ports {
        rds,
        pending,
        follow_ups,
        responder,
        locks,
        secrets,
        keys,
        events,
        parameters: Arc::new(adapters::ssm::SsmParameters::new(clients.ssm.clone())),
    };
    Manager::new(settings, ports, Clock::System)
}

/// Handles one invocation. `deadline` is the Lambda's own.
pub async fn handle(app: &App, event: Value, inv: Invocation, deadline: Instant) -> Value {
    let inv = Invocation {
        deadline: Some(deadline - HAND_OFF_MARGIN),
        ..inv
    };
    match Event::classify(&event) {
        Event::CloudFormation(request) => handle_request(app, *request, inv, deadline).await,
        Event::FollowUp => match &app.manager {
            Ok(m) => follow_up(m, &inv, deadline).await,
            Err(e) => json!({"error": e.to_string()}),
        },
        Event::Maintain => match &app.manager {
            Ok(m) => crate::maintenance::run_scheduled(m, &inv).await,
            Err(e) => json!({"error": e.to_string()}),
        },
        Event::Unknown(why) => {
            tracing::warn!(%why, "ignoring event");
            json!({"ignored": why})
        }
    }
}

async fn follow_up(m: &Manager, inv: &Invocation, deadline: Instant) -> Value {
    let task = {
        let (m, inv) = (m.clone(), inv.clone());
        tokio::spawn(async move { m.follow_up(&inv).await })
    };
    match tokio::time::timeout_at(deadline - HAND_OFF_MARGIN, task).await {
        Ok(Ok(Ok(report))) => {
            json!({"followed_up": report.len(), "pending": report.iter().filter(|(_, p)| matches!(p, Progress::Pending(_))).count()})
        }
        Ok(Ok(Err(e))) => json!({"error": e.to_string()}),
        Ok(Err(_)) => json!({"error": "follow-up panicked; pending work stays for the next tick"}),
        Err(_) => json!({"handed_off": "Lambda deadline near; the next tick continues"}),
    }
}

/// Serves a CloudFormation request so that it is answered exactly once on every path.
pub async fn handle_request(
    app: &App,
    request: CfnRequest,
    inv: Invocation,
    deadline: Instant,
) -> Value {
    let span = tracing::info_span!("request", stack_id = %request.stack_id, logical_id = %request.logical_resource_id,
        request_id = %request.request_id, request_type = ?request.request_type);
    async move {
        tracing::info!("received");
        let manager = match &app.manager {
            Ok(m) => m.clone(),
            Err(e) => {
                let body = crate::cfn::ResponseBody::new(&request, Outcome::failed(failure_id(&request), format!("the clone manager's configuration is invalid: {e}")));
                if let Err(err) = app.responder.send(&request.response_url, &body).await {
                    tracing::error!(error = %err, "response could not be delivered");
                }
                return json!({"answered": "FAILED", "config_error": e.to_string()});
            }
        };
        let tracker = Arc::new(Tracker::default());
        let task = {
            let (m, r, t, inv) = (manager.clone(), request.clone(), tracker.clone(), inv.clone());
            tokio::spawn(async move { m.serve(r, &inv, &t).await }.in_current_span())
        };
        let abort = task.abort_handle();
        match tokio::time::timeout_at(deadline - HAND_OFF_MARGIN, task).await {
            Ok(Ok(progress)) => json!({"progress": format!("{progress:?}")}),
            Ok(Err(_panic)) => {
                tracing::error!("handler panicked");
                answer_after_crash(&manager, &request, &tracker, "internal error while serving the request (the handler panicked); see the function's logs").await;
                json!({"answered": "FAILED"})
            }
            Err(_) => {
                abort.abort();
                if tracker.is_recorded() {
                    tracing::info!("Lambda deadline near: the follow-ups continue the request");
                    json!({"handed_off": true})
                } else {
                    answer_after_crash(&manager, &request, &tracker, "the request could not be recorded before the Lambda's deadline").await;
                    json!({"answered": "FAILED"})
                }
            }
        }
    }
    .instrument(span)
    .await
}

async fn answer_after_crash(m: &Manager, request: &CfnRequest, tracker: &Tracker, reason: &str) {
    let outcome = Outcome::failed(failure_id(request), reason);
    if tracker.is_recorded() {
        if let Ok(Some(PendingWork::Respond(record))) =
            m.ports.pending.get(&request.request_id).await
        {
            m.answer_pending(&record, outcome).await;
        }
    } else {
        m.answer_directly(request, outcome, tracker).await;
    }
}

/// Runs the function under the Lambda runtime.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let app = App::from_env().await;
    if let Err(e) = &app.manager {
        tracing::error!(error = %e, "invalid configuration: every CloudFormation request will be answered FAILED");
    }
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| async move {
            let inv = Invocation {
                function_arn: Some(event.context.invoked_function_arn.clone()),
                deadline: None,
            };
            let deadline = instant_of(event.context.deadline);
            let result = handle(app, event.payload, inv, deadline).await;
            if let Some(calls) = &app.calls {
                let calls = calls.take();
                tracing::info!(aws_calls = calls.values().sum::<u64>(), calls = ?calls, "invocation done");
            }
            Ok::<Value, lambda_runtime::Error>(result)
        },
    ))
    .await
}

/// Converts the runtime's deadline (epoch milliseconds) into a tokio instant.
fn instant_of(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_classified() {
        assert_eq!(
            Event::classify(&json!({"source": "events", "action": "maintain!"})),
            Event::Maintain
        );
        let scheduled = json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "resources": ["arn:aws:events:us-east-1:1:rule/m"], "detail": {}});
        assert_eq!(Event::classify(&scheduled), Event::Maintain);
        assert_eq!(
            Event::classify(&json!({"source": "aurora-clone-manager", "action": "follow-up"})),
            Event::FollowUp
        );
        assert_eq!(
            Event::classify(
                &json!({"source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {}})
            ),
            Event::FollowUp
        );
        assert!(matches!(
            Event::classify(&json!({"hello": 1})),
            Event::Unknown(_)
        ));
        assert!(
            matches!(
                Event::classify(&json!({"RequestType": "Create", "ResponseURL": "x"})),
                Event::Unknown(_)
            ),
            "malformed request"
        );
    }
}
