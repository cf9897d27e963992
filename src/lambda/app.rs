//! The handler's state, wired once per process from the environment and the AWS SDK.

use crate::adapters::{self, http::HttpResponder};
use crate::clock::Clock;
use crate::config::{ConfigError, Environment, Settings};
use crate::ports::Responder;
use crate::service::Flows;
use std::sync::Arc;

/// The handler's state: the flows when the configuration is valid, otherwise the error, which
/// every CloudFormation request is then answered with.
#[derive(Clone)]
pub struct App {
    pub flows: Result<Flows, ConfigError>,
    pub responder: Arc<dyn Responder>,
    /// Counts the AWS calls of each invocation (logged at its end), where the SDK is in use.
    pub calls: Option<adapters::counting::CallCounter>,
    /// Hosts a ResponseURL may name besides S3's (`ALLOWED_RESPONSE_HOSTS`), known even when
    /// the rest of the configuration is not.
    pub response_hosts: Vec<String>,
    /// The function's own region: where a ResponseURL must lead (`None`: any region's).
    pub region: Option<String>,
    /// The stack's name as configured, for the invocation metrics.
    pub stack_name: String,
    /// With an invalid configuration: flows that can only answer (requests FAILED with the
    /// configuration error, pending ones included), never make or change anything.
    pub answering: Option<Flows>,
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
    /// Builds the app from the environment (read once) and the AWS SDK.
    pub async fn from_env() -> App {
        let env = Environment::read();
        let responder: Arc<dyn Responder> = Arc::new(HttpResponder::new());
        let clients = adapters::Clients::from_env();
        let wire = |settings: Settings| {
            let ports = adapters::sdk_ports(&settings, &clients, responder.clone());
            Flows::new(settings, ports, Clock::System)
        };
        App {
            flows: env.settings.map(wire),
            answering: env.answering.map(wire),
            responder: responder.clone(),
            calls: Some(clients.calls.clone()),
            response_hosts: env.response_hosts,
            region: env.region,
            stack_name: env.stack_name,
        }
    }
}
