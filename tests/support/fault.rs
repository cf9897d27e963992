//! A fault layer between the SDK and moto: the SDK's own HTTP client, wrapped. Each call is
//! numbered (from 1) and named (`service:Operation`, from the signature's credential scope and the
//! query `Action` or JSON `X-Amz-Target`); a plan decides what happens to it:
//!
//! - `Throttle`: refused before it reaches moto, in the service's real error shape (Query:
//!   `<Code>Throttling</Code>`; JSON: `ThrottlingException`), HTTP 400.
//! - `ServerError`: refused with a 500 before it reaches moto.
//! - `LoseReply`: sent to moto (it takes effect), and the reply replaced by a 500.
//! - `Delay(d)`: sent after `d`.
//! - `Kill` / `KillAfter`: the process freezes before the call is sent / after it took effect:
//!   the call never returns, and `killed()` fires so that the test drops the invocation.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Throttle,
    ServerError,
    LoseReply,
    Delay(Duration),
    Kill,
    KillAfter,
}

type Rule = Box<dyn FnMut(u64, &str) -> Fault + Send>;

#[derive(Default)]
struct Plan {
    calls: Vec<String>,
    rule: Option<Rule>,
}

/// The fault layer. Clone it into as many SDK configurations as needed: they share one plan and
/// one numbering.
#[derive(Clone)]
pub struct Faults {
    inner: SharedHttpClient,
    plan: Arc<Mutex<Plan>>,
    killed: Arc<Notify>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faults")
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            plan: Arc::default(),
            killed: Arc::new(Notify::new()),
        }
    }
}

impl Faults {
    /// moto's SDK configuration with every call through this layer, retrying as the function
    /// does in Lambda (three attempts, jittered backoff, here from 10 ms).
    pub fn lambda_config(&self) -> SdkConfig {
        super::moto::sdk_config()
            .into_builder()
            .http_client(self.clone())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .build()
    }

    /// Decides each call by `rule(number, "service:Operation")`.
    pub fn set(&self, rule: impl FnMut(u64, &str) -> Fault + Send + 'static) {
        self.plan.lock().unwrap().rule = Some(Box::new(rule));
    }

    /// Every call passes.
    pub fn clear(&self) {
        self.plan.lock().unwrap().rule = None;
    }

    /// Kills the process at call `n` (counted from now), before it is sent.
    pub fn kill_at(&self, n: u64) {
        let start = self.count();
        self.set(move |i, _| {
            if i == start + n {
                Fault::Kill
            } else {
                Fault::Pass
            }
        });
    }

    /// Every call made so far, named.
    pub fn calls(&self) -> Vec<String> {
        self.plan.lock().unwrap().calls.clone()
    }

    pub fn count(&self) -> u64 {
        self.plan.lock().unwrap().calls.len() as u64
    }

    /// Fires when a call is killed.
    pub async fn killed(&self) {
        self.killed.notified().await
    }

    fn decide(&self, name: String) -> Fault {
        let mut plan = self.plan.lock().unwrap();
        plan.calls.push(name.clone());
        let n = plan.calls.len() as u64;
        match plan.rule.as_mut() {
            Some(rule) => rule(n, &name),
            None => Fault::Pass,
        }
    }
}

impl HttpClient for Faults {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultConnector {
            inner: self.inner.http_connector(settings, components),
            faults: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let name = operation(&request);
        let json = request.headers().get("x-amz-target").is_some();
        match self.faults.decide(name) {
            Fault::Pass => self.inner.call(request),
            Fault::Throttle => HttpConnectorFuture::ready(Ok(throttled(json))),
            Fault::ServerError => HttpConnectorFuture::ready(Ok(server_error(json))),
            Fault::LoseReply => {
                let sent = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = sent.await;
                    Ok(server_error(json))
                })
            }
            Fault::Delay(d) => {
                let sent = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    tokio::time::sleep(d).await;
                    sent.await
                })
            }
            Fault::Kill => {
                self.faults.killed.notify_one();
                HttpConnectorFuture::new(std::future::pending())
            }
            Fault::KillAfter => {
                let sent = self.inner.call(request);
                let killed = self.faults.killed.clone();
                HttpConnectorFuture::new(async move {
                    let _ = sent.await;
                    killed.notify_one();
                    std::future::pending().await
                })
            }
        }
    }
}

/// `service:Operation` of a signed request.
fn operation(request: &HttpRequest) -> String {
    let auth = request
        .headers()
        .get("authorization")
        .unwrap_or_default()
        .to_string();
    let service = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("?")
        .to_string();
    let op = match request.headers().get("x-amz-target") {
        Some(t) => t.rsplit('.').next().unwrap_or(t).to_string(),
        None => {
            let body = request.body().bytes().unwrap_or_default();
            String::from_utf8_lossy(body)
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("?")
                .to_string()
        }
    };
    format!("{service}:{op}")
}

fn response(status: u16, json: bool, body: String) -> HttpResponse {
    let mut r = HttpResponse::new(
        StatusCode::try_from(status).expect("status"),
        SdkBody::from(body),
    );
    let kind = if json {
        "application/x-amz-json-1.0"
    } else {
        "text/xml"
    };
    r.headers_mut().insert("content-type", kind);
    r
}

fn throttled(json: bool) -> HttpResponse {
    if json {
        response(
            400,
            true,
            r#"{"__type":"com.amazonaws.coral.availability#ThrottlingException","message":"Rate exceeded"}"#.into(),
        )
    } else {
        response(400, false, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>".into())
    }
}

fn server_error(json: bool) -> HttpResponse {
    if json {
        response(
            500,
            true,
            r#"{"__type":"InternalServerError","message":"injected"}"#.into(),
        )
    } else {
        response(500, false, "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>".into())
    }
}
