//! The executor, as flows: each flow is a type holding only the ports and the other flows it
//! uses, observes AWS, asks the planner once and applies the plan through the one applier.
//! `wiring` builds them all, for the Lambda and the CLI alike. Flows call down, never up:
//!
//! - `receive` (`Receive`): a CloudFormation request as it arrives: screen, record
//!   (create-if-absent), arm the follow-ups, first steps.
//! - `follow_up` (`FollowUp`): the follow-up tick over all pending work.
//! - `maintain` (`Maintain`): the scheduled run that keeps each source's pool of copies right.
//! - `advance` (`Advance`): a recorded request moved forward by its kind, after the stack check;
//!   and, on `Place`, the steps of making a clone (observe -> plan -> apply).
//! - `place` (`Place`): making a clone: observing for it under the root's placement lease, the
//!   stack's admission rules for its properties, its identifiers.
//! - `prepare` (`Prepared`): the preparation step: asking a Create's preparer, and recording its
//!   report against the one request whose token it carries.
//! - `revise` (`Revise`): Updates: in place, or a replacement clone.
//! - `teardown` (`Teardown`): Deletes of the custom resource.
//! - `refresh` (`Refresh`): refreshing a clone in place (a new clone of its source takes its
//!   name; the old one is deleted).
//! - `sweep` (`Sweep`): clones whose stack no longer claims them.
//! - `expiry` (`Expiry`): clones' expiry schedules, stops and deletes.
//! - `answer` (`Answers`): the answer protocol (decide once, deliver, finish).
//! - `reap` (`Reaper`): removing what this tool made, now or by reap work.
//! - `apply` (`Applier`): the one applier of the planner's actions.
//! - `credentials` (`Credentials`): a clone's password, secret, key and readers.
//! - `ledger` (`Deeds`): the ownership ledger as flows use it: observing joins clusters with
//!   their deeds, restores are entered before they are asked for, deeds struck once clusters are
//!   gone, and the operator's `adopt`.
//! - `vet` (`Vet`): screening requests; the stack check of Updates and Deletes.
//! - `lease` (`Leases`), `rule` (`Rule`), `sources` (`Sources`), `cache`: fenced leases, the
//!   follow-up rule, the maintenance config as flows read it, short-lived caches.

mod advance;
pub mod answer;
mod apply;
mod cache;
mod credentials;
pub mod expiry;
mod follow_up;
mod lease;
pub mod ledger;
pub mod maintain;
pub mod place;
pub mod prepare;
mod reap;
mod receive;
pub mod refresh;
mod revise;
mod rule;
mod sources;
pub mod sweep;
mod teardown;
mod vet;
mod wiring;

pub use answer::{Answers, Tracker};
pub use apply::Applied;
pub use lease::Lease;
pub use receive::Unrecorded;
pub use wiring::Flows;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Cluster;
use crate::planner::Policy;
pub use crate::ports::Ports;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Seconds kept back from CloudFormation's ServiceTimeout: a follow-up tick is a minute apart,
/// and the FAILED answer must arrive before CloudFormation gives up on its own.
pub const DEADLINE_MARGIN_SECS: i64 = 120;

/// Time one step (observe, plan, one action) may take: no step starts with less left.
pub const STEP_BUDGET: Duration = Duration::from_secs(15);

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

/// What every flow reads: the stack's settings, the planner's policy and the clock.
#[derive(Clone)]
pub struct Core {
    pub settings: Arc<Settings>,
    pub policy: Arc<Policy>,
    pub clock: Clock,
}

impl Core {
    pub fn new(settings: Settings, clock: Clock) -> Core {
        Core {
            policy: Arc::new(policy_of(&settings)),
            settings: Arc::new(settings),
            clock,
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

    /// Metric documents of this stack, stamped with the clock.
    pub(crate) fn metrics(&self) -> crate::metrics::Metrics {
        let ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        crate::metrics::Metrics::new(&self.settings.stack_name).at(ms)
    }

    /// True when this tool may remove the cluster: its ledger holds it (a clone or pool copy).
    pub(crate) fn may_remove(&self, c: &Cluster) -> bool {
        c.ownership()
            .is_some_and(|o| o.managed_by == self.settings.stack_name)
    }
}

/// The clone of the given request, by its deed.
pub(crate) fn made_by(c: &Cluster, request_id: &str) -> bool {
    c.deed
        .as_ref()
        .is_some_and(|d| d.request_id.as_deref() == Some(request_id))
}

/// The stack-wide rules the planner applies, from the stack's settings.
pub fn policy_of(settings: &Settings) -> Policy {
    Policy {
        manager: settings.stack_name.clone(),
        max_clones_per_source: settings.max_clones_per_source,
        max_copy_age: settings.max_copy_age,
        default_instance_class: crate::config::DEFAULT_INSTANCE_CLASS.into(),
        // Pool copies idle between clones: Serverless v2, paused at zero where it can.
        copy_instance_class: crate::domain::capacity::SERVERLESS.into(),
        copy_min_capacity: None,
        copy_max_capacity: None,
        default_secret_prefix: settings.default_secret_prefix.clone(),
        default_secret_key: settings.default_secret_key.clone(),
        id_prefix: settings.guard.cluster_id_prefix.clone(),
        allowed_sources: settings.guard.allowed_sources.clone(),
    }
}
