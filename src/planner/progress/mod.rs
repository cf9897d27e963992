//! The next step of a pending Create (or replacing Update): restore the clone, give it a writer,
//! wait, answer. Called afresh on every follow-up with what was observed then, so a step lost to
//! a crash or a timeout is simply planned again.
//!
//! - `place`: the clone does not exist yet: refuse what cannot work, place it on a volume with
//!   a free slot, or make (and wait for) a pool copy when none has one.
//! - `clone`: the clone exists: its writer, its own password, then the answer.
//! - `ready`: a usable clone's `Data` and ready event.
//! - `gate`: with `Prepare`, a usable clone waits for its preparer before it is handed out.

mod clone;
mod gate;
mod place;
mod ready;

pub use ready::data;

use super::action::Action;
use super::Policy;
use crate::domain::properties::CloneProperties;
use crate::domain::upkeep::ClusterConfig;
use crate::domain::{Cluster, Instance, InstanceSettings, Quotas};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;

/// The request being served, as the planner needs it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub props: &'a CloneProperties,
    pub cluster_id: &'a str,
    /// The identifier to take instead when `cluster_id` is another cluster's
    /// (`NoFailOnExistingCluster`).
    pub fallback_id: Option<&'a str>,
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub request_id: &'a str,
    pub deadline: OffsetDateTime,
    /// An in-place Update that works on the resource's current clone (made by an earlier request).
    pub adopted: bool,
    /// With `Prepare`: the preparation asked for so far.
    pub preparation: Option<&'a crate::domain::prepare::Preparation>,
}

/// What was observed for the request, in one of two shapes: the request's clone exists, or it
/// does not and the whole account was seen under the root's placement lease (so that a clone
/// is placed on a view no other placement can change meanwhile).
#[derive(Debug, Clone)]
pub enum Observed {
    Clone {
        cluster: Box<Cluster>,
        /// The cluster's instances.
        instances: Vec<Instance>,
        /// What the source's writer is set up with (observed while the clone has no writer).
        source_writer: Option<InstanceSettings>,
    },
    Absent {
        clusters: Vec<Cluster>,
        /// Account quotas (`None` where AWS did not say).
        quotas: Option<Quotas>,
        /// The source's entry in the maintenance config, if it has one.
        source_config: Option<ClusterConfig>,
        /// What the root's writer is set up with (for the writer of a new pool copy).
        root_writer: Option<InstanceSettings>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Act(Action),
    Wait(Pending),
    Ready(Ready),
    Fail(String),
    /// The clone is usable and its password in force: ask its preparer (a new single-use
    /// token, recorded as its hash, then `clone-prepare`).
    Prepare,
}

/// What a request waits for: on whose making, and in words (logged on every follow-up, named
/// when the deadline passes).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub making: Making,
    pub what: String,
}

/// The cluster a request waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Making {
    /// The request's own clone: its restore, its writer, its password.
    Clone,
    /// A full copy of the root, made because no volume had a free slot: it can take hours.
    PoolCopy,
}

impl Pending {
    pub fn on_clone(what: String) -> Pending {
        Pending {
            making: Making::Clone,
            what,
        }
    }

    pub fn on_copy(what: String) -> Pending {
        Pending {
            making: Making::PoolCopy,
            what,
        }
    }
}

impl fmt::Display for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// A usable clone: what CloudFormation gets, and the event the users' automation gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub data: BTreeMap<String, String>,
    /// Boxed: it waits in the decided answer, beside much smaller states.
    pub event: Box<crate::domain::events::InstanceReady>,
}

pub fn next_step(req: &Request, seen: &Observed, policy: &Policy, now: OffsetDateTime) -> Step {
    let step = match seen {
        Observed::Clone {
            cluster,
            instances,
            source_writer,
        } => match clone::step_for_clone(req, cluster, instances, source_writer.as_ref(), policy) {
            Step::Ready(ready) => gate::prepared(req, ready, cluster, now),
            step => step,
        },
        Observed::Absent {
            clusters,
            quotas,
            source_config,
            root_writer,
        } => match quota_shortfall(*quotas) {
            Some(reason) => Step::Fail(reason),
            None => {
                let policy = policy.for_source(source_config.as_ref());
                place::step_for_absent_clone(req, clusters, root_writer.as_ref(), &policy, now)
            }
        },
    };
    match step {
        Step::Ready(_) | Step::Fail(_) => step,
        _ if now >= req.deadline => Step::Fail(deadline_reason(&step, req)),
        _ => step,
    }
}

/// Why waiting for a pool copy can outlast CloudFormation, and what avoids it.
const SLOW_COPY: &str = " A full copy of a large database can take longer than CloudFormation's one-hour limit: set target-clone-slots for this source in the maintenance config so that copies are made ahead of demand.";

fn deadline_reason(step: &Step, req: &Request) -> String {
    let what = match step {
        Step::Wait(p) => p.what.clone(),
        Step::Act(Action::Restore(r)) => format!("restore of {} not started", r.cluster_id),
        Step::Act(Action::CreateInstance(i)) => {
            format!("writer instance {} not created", i.instance_id)
        }
        Step::Act(Action::SetPassword { plan, .. }) => format!(
            "master password of {} not set (secret {})",
            req.cluster_id, plan.secret_name
        ),
        _ => "the next step".to_string(),
    };
    let copy_note = match step {
        Step::Wait(Pending {
            making: Making::PoolCopy,
            ..
        }) => SLOW_COPY,
        _ => "",
    };
    format!(
        "timed out before clone {} was usable; still pending: {what}.{copy_note}",
        req.cluster_id
    )
}

/// A clone (or a pool copy) needs one more DB cluster and one more instance in the account.
fn quota_shortfall(quotas: Option<Quotas>) -> Option<String> {
    let q = quotas?;
    for (what, usage) in [("DB clusters", q.clusters), ("DB instances", q.instances)] {
        if let Some((used, max)) = usage {
            if used >= max {
                return Some(format!(
                    "account quota: {used}/{max} {what} in use, and a clone needs one more; raise the RDS quota or delete unused clusters"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
