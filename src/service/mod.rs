//! The executor: each flow observes AWS through the ports, asks the planner once, and applies
//! the plan's actions through one applier.
//!
//! - `receive`: a request as it arrives: parse, record (create-if-absent), first steps.
//! - `advance`: a pending Create or replacing Update: observe -> plan -> apply, step by step.
//! - `place`: observing for a clone that does not exist yet, under the root's placement lease.
//! - `teardown`: Delete, reap work, and removing what this tool made.
//! - `revise`: Update.
//! - `apply`: the one applier of the planner's actions.
//! - `answer`: the answer protocol (decide once, deliver, finish).
//! - `follow_up`: the follow-up tick over all pending work.
//! - `ledger`: the ownership ledger as flows use it: observing joins clusters with their deeds,
//!   restores are entered before they are asked for, deeds struck once clusters are gone, and
//!   the operator's `adopt`.

mod advance;
pub mod answer;
mod apply;
mod cache;
mod credentials;
pub mod expiry;
mod follow_up;
pub mod ledger;
pub mod place;
mod receive;
mod revise;
pub mod sweep;
mod teardown;
mod vet;

pub use answer::Tracker;
pub use apply::Applied;
pub use place::Lease;
pub use receive::Unrecorded;

use crate::clock::Clock;
use crate::config::Settings;
use crate::planner::Policy;
use crate::ports::{
    Events, FollowUps, Keys, Ledger, Parameters, Rds, Responder, Schedules, Secrets, Stacks,
    StateStore,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Seconds kept back from CloudFormation's ServiceTimeout: a follow-up tick is a minute apart,
/// and the FAILED answer must arrive before CloudFormation gives up on its own.
pub const DEADLINE_MARGIN_SECS: i64 = 120;

/// Time one step (observe, plan, one action) may take: no step starts with less left.
pub const STEP_BUDGET: Duration = Duration::from_secs(15);

/// Everything an invocation needs: settings, the planner's policy, the ports and the clock.
#[derive(Clone)]
pub struct Manager {
    pub settings: Arc<Settings>,
    pub policy: Policy,
    pub ports: Ports,
    pub clock: Clock,
    caches: Arc<cache::Caches>,
}

/// What the invocation knows of itself.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The function's own ARN: the follow-up rule targets it. `None` from the CLI.
    pub function_arn: Option<String>,
    /// When this invocation must have handed its work off (the Lambda's deadline less a margin).
    pub deadline: Option<Instant>,
    /// This invocation's token for placement leases: only the holder releases its lease.
    pub holder: String,
}

impl Default for Invocation {
    fn default() -> Self {
        Invocation {
            function_arn: None,
            deadline: None,
            holder: Invocation::new_holder(),
        }
    }
}

impl Invocation {
    pub fn new(function_arn: Option<String>, deadline: Option<Instant>) -> Invocation {
        Invocation {
            function_arn,
            deadline,
            ..Default::default()
        }
    }

    /// A random token naming one invocation.
    pub fn new_holder() -> String {
        format!("{:016x}", rand::random::<u64>())
    }

    /// True while there is time for one more step before the hand-off margin.
    pub fn has_time_for(&self, budget: Duration) -> bool {
        self.deadline.is_none_or(|d| Instant::now() + budget <= d)
    }
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
    pub state: Arc<dyn StateStore>,
    /// The ownership ledger (in the same table as `state`).
    pub ledger: Arc<dyn Ledger>,
    pub follow_ups: Arc<dyn FollowUps>,
    pub responder: Arc<dyn Responder>,
    pub secrets: Arc<dyn Secrets>,
    pub keys: Arc<dyn Keys>,
    pub events: Arc<dyn Events>,
    pub parameters: Arc<dyn Parameters>,
    pub stacks: Arc<dyn Stacks>,
    pub schedules: Arc<dyn Schedules>,
}

impl Manager {
    pub fn new(settings: Settings, ports: Ports, clock: Clock) -> Manager {
        Manager {
            policy: settings.policy(),
            settings: Arc::new(settings),
            ports,
            clock,
            caches: Arc::default(),
        }
    }

    pub(crate) fn now_secs(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// True when an RDS identifier may be one of this manager's clusters or instances: with a
    /// `CLUSTER_ID_PREFIX` every one of them carries it; without one, any may be.
    pub fn manages_identifier(&self, id: &str) -> bool {
        id.to_ascii_lowercase()
            .starts_with(self.settings.guard.cluster_id_prefix.as_str())
    }

    /// Metric documents of this stack, stamped with the manager's clock.
    pub(crate) fn metrics(&self) -> crate::metrics::Metrics {
        let ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        crate::metrics::Metrics::new(&self.settings.stack_name).at(ms)
    }
}
