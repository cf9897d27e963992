//! Aurora Clone Manager: Aurora copy-on-write clones as a CloudFormation custom resource
//! (`Custom::AuroraClone`), with a pool of full copies so that a source can have more than the
//! 15 clones Aurora allows per storage volume.
//!
//! The code is laid out as observe → plan → act:
//!
//! - `config`: the stack-level settings, read once from the environment.
//! - `properties`: the resource's properties, parsed strictly from CloudFormation's strings.
//! - `cfn`: the custom-resource protocol: requests, physical ids, the response body.
//! - `domain`: plain values observed from AWS (clusters, instances), identifier rules, and the
//!   ownership and lineage tags this tool writes.
//! - `planner`: pure decisions: where a clone goes (`pool`), the next step of a pending request
//!   (`progress`), what an Update means (`revision`), what a Delete may remove (`teardown`).
//! - `ports`: the narrow traits the executor acts through; `adapters` implements them over the
//!   AWS SDK, `fakes` in memory for tests.
//! - `password`: per-clone master passwords, the secret JSON and the access policies.
//! - `pending`: the work an invocation leaves for the next one (kept in SSM, never in memory).
//! - `service`: the executor: serves requests, follow-ups and deletes through the ports.
//! - `maintenance`: the scheduled run that keeps each source's pool of copies right.
//! - `lambda`: the Lambda front door; `cli`: the operator's front door.
//! - `clock`: wall time, pausable in tests.

pub mod adapters;
pub mod cfn;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod fakes;
pub mod lambda;
pub mod logging;
pub mod maintenance;
pub mod password;
pub mod pending;
pub mod planner;
pub mod ports;
pub mod properties;
pub mod service;

pub use error::{Error, Result};
