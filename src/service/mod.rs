//! The executor: observes AWS through the ports, asks the planner what to do, and does it.
//!
//! - `receive`: a Create or Update as it arrives (parse, record the pending work, first steps).
//! - `advance`: one follow-up of a pending request or reap.
//! - `teardown`: Delete, and removing clusters this tool made.
//! - `answer`: the one response each request gets.

mod advance;
pub mod answer;
mod credentials;
mod receive;
mod revise;
mod teardown;

pub use answer::Tracker;

use crate::clock::Clock;
use crate::config::Settings;
use crate::planner::Policy;
use crate::ports::{
    Events, FollowUps, Keys, Locks, Parameters, PendingStore, Rds, Responder, Secrets,
};
use std::sync::Arc;

/// Seconds kept back from CloudFormation's ServiceTimeout: a follow-up tick is a minute apart,
/// and the FAILED answer must arrive before CloudFormation gives up on its own.
pub const DEADLINE_MARGIN_SECS: i64 = 120;

/// Everything an invocation needs: settings, the planner's policy, the ports and the clock.
#[derive(Clone)]
pub struct Manager {
    pub settings: Arc<Settings>,
    pub policy: Policy,
    pub ports: Ports,
    pub clock: Clock,
}

/// What the invocation knows of itself.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The function's own ARN: the follow-up rule targets it. `None` from the CLI.
    pub function_arn: Option<String>,
    /// When this invocation must have handed its work off (the Lambda's deadline less a margin).
    pub deadline: Option<tokio::time::Instant>,
}

/// How an invocation left its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Answered,
    Pending(String),
    Ignored(String),
}

/// The ports a manager acts through.
#[derive(Clone)]
pub struct Ports {
    pub rds: Arc<dyn Rds>,
    pub pending: Arc<dyn PendingStore>,
    pub follow_ups: Arc<dyn FollowUps>,
    pub responder: Arc<dyn Responder>,
    pub locks: Arc<dyn Locks>,
    pub secrets: Arc<dyn Secrets>,
    pub keys: Arc<dyn Keys>,
    pub events: Arc<dyn Events>,
    pub parameters: Arc<dyn Parameters>,
}

impl Manager {
    pub fn new(settings: Settings, ports: Ports, clock: Clock) -> Manager {
        Manager {
            policy: Policy::from_settings(&settings),
            settings: Arc::new(settings),
            ports,
            clock,
        }
    }
}

/// AWS error codes worth retrying on the next follow-up rather than failing the request.
pub fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalError"
            | "Unknown"
            | "InvalidDBClusterStateFault"
            | "InvalidDBInstanceState"
    )
}
