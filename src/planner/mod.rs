//! The planner: pure functions from observed state, request, policy and clock to what to do next.
//! No I/O and no SDK types, so every rule is tested with plain values.
//!
//! - `pool`: the volumes of a root (the root and its pool copies), their free slots, and where a
//!   new clone goes.
//! - `progress`: the next step of a pending Create or replacing Update.
//! - `teardown`: what a Delete may remove, and what it must leave alone.
//! - `upkeep`: what scheduled maintenance does to one source's pool.

pub mod action;
pub mod credentials;
pub mod pool;
pub mod progress;
pub mod revision;
pub mod teardown;
#[cfg(test)]
pub mod test_support;
pub mod upkeep;

use std::time::Duration;

/// The stack-wide rules the planner applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The manager stack's name: the `managed-by` tag of everything this tool creates.
    pub manager: String,
    pub max_clones_per_source: u32,
    pub max_copy_age: Duration,
    pub default_instance_class: String,
    pub default_secret_prefix: String,
    pub default_secret_key: Option<String>,
}
