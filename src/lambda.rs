//! The Lambda front door: classify the event, serve it through the `Manager`, and make sure a
//! CloudFormation request is answered even on a malformed request, a configuration error, a
//! panic or the Lambda's own deadline. Every task an invocation spawns is aborted at the
//! hand-off margin: nothing of it runs on when Lambda freezes the process.

pub mod deadline;

use crate::adapters::{self, http::HttpResponder};
use crate::cfn::{CfnRequest, Outcome};
use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::domain::ident;
use crate::ports::Responder;
use crate::service::{answer::failure_id, Invocation, Manager, Ports, Progress, Tracker};
use crate::state::Phase;
use serde_json::{json, Value};
use std::future::Future;
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
    /// A custom-resource request that does not parse, but can still be answered FAILED.
    Malformed(Box<CfnRequest>, String),
    /// The follow-up rule's tick: advance pending work.
    FollowUp,
    /// An RDS event about a cluster or instance (its identifier): pending work may move on.
    Rds(Option<String>),
    /// The maintenance schedule: the original's constant input or a `Scheduled Event` envelope.
    Maintain,
    /// A clone's expiry schedule fired.
    Expire(String),
    Unknown(String),
}

impl Event {
    /// The invocation kind metrics are kept by.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::CloudFormation(_) | Event::Malformed(..) => "request",
            Event::FollowUp | Event::Rds(_) => "follow-up",
            Event::Maintain | Event::Expire(_) => "maintenance",
            Event::Unknown(_) => "other",
        }
    }

    pub fn classify(v: &Value) -> Event {
        if CfnRequest::matches(v) {
            return match serde_json::from_value::<CfnRequest>(v.clone()) {
                Ok(r) => Event::CloudFormation(Box::new(r)),
                Err(e) => match CfnRequest::salvage(v) {
                    Some(r) => Event::Malformed(
                        Box::new(r),
                        format!("malformed CloudFormation request: {e}"),
                    ),
                    None => Event::Unknown(format!(
                        "malformed CloudFormation request without a usable ResponseURL: {e}"
                    )),
                },
            };
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
        match (text("source"), text("action"), text("detail-type")) {
            ("aurora-clone-manager", "follow-up", _) => Event::FollowUp,
            ("aurora-clone-manager", "expire", _) => match ident::check(text("cluster")) {
                Ok(()) => Event::Expire(text("cluster").to_string()),
                Err(why) => Event::Unknown(format!("an expiry about no valid cluster: {why}")),
            },
            ("aws.rds", _, _) => Event::Rds(
                v.pointer("/detail/SourceIdentifier")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
            ("events", "maintain!", _) | ("aws.events", _, "Scheduled Event") => Event::Maintain,
            (source, _, _) => Event::Unknown(format!("unrecognised event from source {source:?}")),
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
    /// Hosts a ResponseURL may name besides S3's (`ALLOWED_RESPONSE_HOSTS`), known even when
    /// the rest of the configuration is not.
    pub response_hosts: Vec<String>,
    /// With an invalid configuration: a manager that can only answer (requests FAILED with the
    /// configuration error, pending ones included), never make or change anything.
    pub answering: Option<Manager>,
}

/// An invocation that must be delivered again: Lambda retries an asynchronous event that
/// errs (the request could not even be recorded; the state table was unavailable).
#[derive(Debug)]
pub struct Redeliver(pub String);

impl std::fmt::Display for Redeliver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not recorded, to be delivered again: {}", self.0)
    }
}

impl std::error::Error for Redeliver {}

impl App {
    /// Builds the app from the environment and the AWS SDK.
    pub async fn from_env() -> App {
        let responder: Arc<dyn Responder> = Arc::new(HttpResponder::new());
        let clients = adapters::Clients::from_env().await;
        let manager = Settings::from_env()
            .map(|settings| manager_with(settings, &clients, responder.clone()));
        let vars = std::env::vars().collect();
        let answering = manager
            .is_err()
            .then(|| manager_with(Settings::for_answering(&vars), &clients, responder.clone()));
        App {
            answering,
            manager,
            responder,
            calls: Some(clients.calls),
            response_hosts: crate::config::guard::response_hosts(
                std::env::var("ALLOWED_RESPONSE_HOSTS").ok(),
            ),
        }
    }
}

pub fn manager_with(
    settings: Settings,
    clients: &adapters::Clients,
    responder: Arc<dyn Responder>,
) -> Manager {
    let ports = Ports {
        rds: Arc::new(adapters::rds::SdkRds::new(clients.rds.clone())),
        state: Arc::new(adapters::dynamo::DynamoState::new(
            clients.dynamodb.clone(),
            &settings.state_table,
        )),
        ledger: Arc::new(adapters::dynamo::DynamoLedger::new(
            clients.dynamodb.clone(),
            &settings.state_table,
        )),
        follow_ups: Arc::new(adapters::events::RuleFollowUps::new(
            clients.events.clone(),
            settings.follow_up_rule(),
        )),
        responder,
        secrets: Arc::new(adapters::secrets::SdkSecrets::new(clients.secrets.clone())),
        keys: Arc::new(adapters::kms::SdkKeys::new(clients.kms.clone())),
        events: Arc::new(adapters::events::BusEvents::new(
            clients.events.clone(),
            &settings.event_bus_name,
            &settings.event_source,
        )),
        parameters: Arc::new(adapters::ssm::SsmParameters::new(clients.ssm.clone())),
        stacks: Arc::new(adapters::stacks::SdkStacks::new(
            clients.cloudformation.clone(),
        )),
        schedules: Arc::new(adapters::schedules::SdkSchedules::new(
            clients.scheduler.clone(),
            settings.expiry_group(),
        )),
    };
    Manager::new(settings, ports, Clock::System)
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

/// Handles one invocation. `deadline` is the Lambda's own.
pub async fn handle(
    app: &App,
    event: Value,
    inv: Invocation,
    deadline: Instant,
) -> Result<Value, Redeliver> {
    let inv = Invocation {
        deadline: Some(deadline - HAND_OFF_MARGIN),
        ..inv
    };
    let manager = app.manager.as_ref();
    let event = Event::classify(&event);
    if let Event::CloudFormation(r) | Event::Malformed(r, _) = &event {
        let pin = crate::cfn::url::check(&r.response_url, &app.response_hosts, own_region());
        if let Err(why) = pin {
            tracing::error!(%why, request_id = %r.request_id, "not serving a request whose answer would go elsewhere than CloudFormation");
            return Ok(json!({"ignored": why}));
        }
    }
    match (event, manager) {
        (Event::CloudFormation(request), _) => handle_request(app, *request, inv).await,
        (Event::Malformed(request, why), _) => {
            tracing::warn!(%why, "answering a malformed request FAILED");
            answer_unservable(app, &request, &why, &inv).await
        }
        (Event::FollowUp, Ok(m)) => Ok(follow_up(m, &inv, true).await),
        (Event::Rds(id), Ok(m)) => match id.filter(|id| !m.manages_identifier(id)) {
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
        (Event::Maintain | Event::Expire(_), Err(e)) => Ok(json!({"error": e.to_string()})),
        (Event::Expire(id), Ok(m)) => Ok(match m.expire(&id, &inv).await {
            Ok(n) => json!({"expiry": id, "actions": n}),
            Err(e) => json!({"error": e.to_string()}),
        }),
        (Event::Unknown(why), _) => {
            tracing::warn!(%why, "ignoring event");
            Ok(json!({"ignored": why}))
        }
    }
}

async fn follow_up(m: &Manager, inv: &Invocation, from_rule: bool) -> Value {
    let until = inv.deadline.unwrap_or_else(Instant::now);
    let (m, i) = (m.clone(), inv.clone());
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

async fn maintain(m: &Manager, inv: &Invocation) -> Value {
    let until = inv.deadline.unwrap_or_else(Instant::now);
    let (m, i) = (m.clone(), inv.clone());
    match bounded(
        async move { crate::maintenance::run_scheduled(&m, &i).await },
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
    match m.fail_all_pending(&reason, inv).await {
        Ok(n) => json!({"error": e.to_string(), "answered": n}),
        Err(err) => json!({"error": e.to_string(), "state": err.to_string()}),
    }
}

/// Answers FAILED a request that cannot be served at all (malformed, or the configuration is
/// invalid), through the answer protocol when there is a manager to record it with. Neither
/// recorded nor delivered: Lambda delivers it again.
async fn answer_unservable(
    app: &App,
    request: &CfnRequest,
    why: &str,
    inv: &Invocation,
) -> Result<Value, Redeliver> {
    let outcome = Outcome::failed(failure_id(request), why);
    match app.manager.as_ref().ok().or(app.answering.as_ref()) {
        Some(m) => {
            let record = m.bare_record(request);
            let answer = crate::service::answer::failed(request, why);
            m.answer_now(record, answer, inv, &Tracker::default())
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
        let manager = match &app.manager {
            Ok(m) => m.clone(),
            Err(e) => {
                let why = format!("the clone manager's configuration is invalid: {e}");
                return answer_unservable(app, &request, &why, &inv).await;
            }
        };
        let tracker = Arc::new(Tracker::default());
        let until = inv.deadline.unwrap_or_else(Instant::now);
        let work = {
            let (m, r, t, i) = (manager.clone(), request.clone(), tracker.clone(), inv.clone());
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
                answer_after_crash(&manager, &request, &tracker, &inv, "internal error while serving the request (the handler panicked); see the function's logs").await
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
    m: &Manager,
    request: &CfnRequest,
    tracker: &Tracker,
    inv: &Invocation,
    reason: &str,
) -> Result<Value, Redeliver> {
    if tracker.is_answered() {
        return Ok(json!({"answered": "before the panic"}));
    }
    let record = match m.ports.state.request(&request.request_id).await {
        Ok(Some(item)) if item.phase != Phase::Done => item.record,
        Ok(Some(_)) => return Ok(json!({"answered": "before the panic"})),
        Ok(None) => m.bare_record(request),
        Err(e) => return Err(Redeliver(e.to_string())),
    };
    let answer = crate::service::answer::failed(request, reason);
    m.answer_now(record, answer, inv, tracker)
        .await
        .map_err(|e| Redeliver(e.to_string()))?;
    Ok(json!({"answered": "FAILED"}))
}

/// Runs the function under the Lambda runtime.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let app = App::from_env().await;
    if let Err(e) = &app.manager {
        tracing::error!(error = %e, "invalid configuration: every CloudFormation request will be answered FAILED");
    }
    crate::metrics::to_stdout();
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| async move {
            let inv = Invocation::new(Some(event.context.invoked_function_arn.clone()), None);
            let deadline = instant_of(event.context.deadline);
            let kind = Event::classify(&event.payload).kind();
            let result = handle(app, event.payload, inv, deadline).await;
            if let Some(counter) = &app.calls {
                report_calls(counter, kind);
            }
            result.map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}

/// The invocation's AWS calls and throttled attempts: one log line, one metric document.
fn report_calls(counter: &adapters::counting::CallCounter, kind: &str) {
    let (calls, throttles) = (counter.take(), counter.take_throttles());
    let (n, t) = (calls.values().sum::<u64>(), throttles.values().sum::<u64>());
    tracing::info!(aws_calls = n, calls = ?calls, throttles = ?throttles, "invocation done");
    let stack = std::env::var("STACK_NAME").unwrap_or_default();
    crate::metrics::emit(&crate::metrics::Metrics::new(&stack).invocation(n, t, kind));
}

/// The function's own region (`AWS_REGION`, which Lambda sets), read once: a ResponseURL must
/// lead to this region's CloudFormation response bucket. Unknown (a local run): any region's,
/// on the S3 endpoints of its own partition.
fn own_region() -> Option<&'static str> {
    static REGION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    REGION
        .get_or_init(|| {
            std::env::var("AWS_REGION")
                .ok()
                .map(|r| r.trim().to_ascii_lowercase())
                .filter(|r| !r.is_empty())
        })
        .as_deref()
}

/// Converts the runtime's deadline header into a tokio instant (`deadline` says how local
/// emulators' odd values are read).
fn instant_of(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let budget = deadline::read(deadline_ms, now_ms, deadline::CONFIGURED_TIMEOUT);
    match &budget {
        deadline::Budget::Deadline(_) => {}
        deadline::Budget::Duration(d) => {
            tracing::info!(
                secs = d.as_secs(),
                "the runtime's deadline is a duration (a local emulator): taken as one"
            )
        }
        deadline::Budget::Implausible(d) => {
            tracing::warn!(header_ms = deadline_ms, secs = d.as_secs(), "the runtime's deadline is in the past or implausibly far ahead: using the configured timeout")
        }
    }
    Instant::now() + budget.remaining()
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
                &json!({"source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {"SourceIdentifier": "clone-a"}})
            ),
            Event::Rds(Some("clone-a".into()))
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
            "malformed, and nothing to answer with"
        );
        let answerable = json!({"RequestType": "Destroy", "ResponseURL": "https://x", "StackId": "s",
            "RequestId": "r", "LogicalResourceId": "L"});
        assert!(matches!(Event::classify(&answerable), Event::Malformed(..)));
    }

    /// An expiry names one valid cluster identifier; anything else is ignored before any AWS
    /// call (an empty one would list the account).
    #[test]
    fn expiry_events_name_a_valid_cluster() {
        let expire =
            |c: Value| json!({"source": "aurora-clone-manager", "action": "expire", "cluster": c});
        assert_eq!(
            Event::classify(&expire(json!("qa-clone"))),
            Event::Expire("qa-clone".into())
        );
        for bad in [json!(""), json!(null), json!("a--b"), json!("x".repeat(64))] {
            assert!(
                matches!(Event::classify(&expire(bad.clone())), Event::Unknown(_)),
                "{bad}"
            );
        }
    }
}
