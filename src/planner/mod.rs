//! The planner: pure functions from observed state, request, policy and clock to what to do next.
//! No I/O and no SDK types, so every rule is tested with plain values. It imports only `domain`.
//!
//! Its modules depend on each other one way: `action` at the bottom (imported by all, importing
//! none), then `pool`, `writer`, `credentials` and `copy`, then the flows' planners above them.
//!
//! - `action`: the one vocabulary of what the planner asks the executor to do, and what each
//!   action carries (a removal, a password plan, an event).
//! - `pool`: the volumes of a root (the root and its pool copies), their free slots, and where a
//!   new clone goes.
//! - `copy`: what a new pool copy is: its restore, its writer's class and Serverless v2 range.
//! - `writer`: the writer instance of a clone or pool copy: whether RDS takes it now, and how it
//!   is set up.
//! - `credentials`: whether a clone's own master password still has to be set, and how.
//! - `progress`: the next step of a pending Create or replacing Update.
//! - `revision`: what an Update means: in place, a replacement, or refused.
//! - `teardown`: what a Delete may remove, and what it must leave alone.
//! - `upkeep`: what scheduled maintenance does to one source's pool.
//! - `expiry`: what a clone's expiry asks for now (warning, stop, delete) and its schedules.
//! - `sweep`: whether a clone's stack still claims it, and what follows for an orphan.
//! - `test_support` (tests only): builders of observed clusters for the table tests.

pub mod action;
pub mod copy;
pub mod credentials;
pub mod expiry;
pub mod pool;
pub mod progress;
pub mod refresh;
pub mod revision;
pub mod sweep;
pub mod teardown;
#[cfg(test)]
pub mod test_support;
pub mod upkeep;
pub mod writer;

use std::time::Duration;

/// The stack-wide rules the planner applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The manager stack's name: the `managed-by` tag of everything this tool creates.
    pub manager: String,
    pub max_clones_per_source: u32,
    pub max_copy_age: Duration,
    pub default_instance_class: String,
    /// Writer class of pool copies (a source's `instance-class` in the maintenance config).
    pub copy_instance_class: String,
    /// The Serverless v2 range of pool copies' writers, where the config sets it.
    pub copy_min_capacity: Option<f64>,
    pub copy_max_capacity: Option<f64>,
    pub default_secret_prefix: String,
    pub default_secret_key: Option<String>,
    /// Every clone and pool copy identifier this tool makes starts with it (may be empty).
    pub id_prefix: String,
    /// Sources the stack allows cloning (empty: any).
    pub allowed_sources: Vec<crate::domain::access::SourceRule>,
}

impl Policy {
    /// The policy for one source: the maintenance config's overrides for it, where it has an
    /// entry. Create, maintenance, `plan` and `status` all count slots and ages with this, so
    /// they never disagree about a source.
    pub fn for_source(&self, cfg: Option<&crate::domain::upkeep::ClusterConfig>) -> Policy {
        let mut p = self.clone();
        if let Some(cfg) = cfg {
            p.max_clones_per_source = cfg.max_clones_per_source.unwrap_or(p.max_clones_per_source);
            p.max_copy_age = cfg.max_copy_age.unwrap_or(p.max_copy_age);
            if let Some(class) = &cfg.instance_class {
                p.copy_instance_class = class.clone();
            }
            p.copy_min_capacity = cfg.copy_min_capacity.or(p.copy_min_capacity);
            p.copy_max_capacity = cfg.copy_max_capacity.or(p.copy_max_capacity);
        }
        p
    }
}
