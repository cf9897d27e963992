//! Aurora Clone Manager: Aurora copy-on-write clones as a CloudFormation custom resource
//! (`Custom::AuroraClone`), with a pool of full copies so that a source can have more than the
//! 15 clones Aurora allows per storage volume.
//!
//! The code is laid out as observe → plan → act:
//!
//! - `config`: the stack-level settings, read once from the environment.
//! - `cfn`: the custom-resource protocol: requests, physical ids (a cluster ARN counts only in
//!   this function's own partition, region and account: `home`), where a ResponseURL may lead
//!   and when CloudFormation sent it (`url`), the response body.
//! - `domain`: plain values: clusters and instances as observed, each joined with its deed in
//!   the ownership ledger (`ledger`: the only proof of what this manager made), the resource's
//!   properties (parsed strictly from CloudFormation's strings), identifier rules, the tags this
//!   tool writes (a mirror of the ledger, and lineage), what it asks RDS to make, clone expiry,
//!   cost estimates and the lifecycle events (`events`: one shape per detail-type).
//! - `planner`: pure decisions in one vocabulary of actions (`action`): where a clone goes
//!   (`pool`), the next step of a request (`progress`), what an Update means (`revision`), what a
//!   Delete may remove (`teardown`), what maintenance does to a pool (`upkeep`), what a clone's
//!   expiry asks for now (`expiry`), whether a clone's stack still claims it (`sweep`).
//! - `ports`: the narrow traits the executor acts through; `adapters` implements them over the
//!   AWS SDK (and in memory, for the CLI); `fakes` (tests only) lag and fail as AWS does.
//! - `state`: request state kept in the stack's DynamoDB table: pending requests, answers being
//!   delivered, reap work, fenced leases; every transition a conditional write. The same table
//!   holds the ownership ledger (`ports::Ledger`).
//! - `service`: the executor: each flow observes, plans once and applies through one applier;
//!   the answer protocol; follow-ups; the ledger as flows use it (`ledger`: deeds entered before
//!   restores, joined when observing, struck when gone; `adopt`).
//! - `password`: per-clone master passwords, the secret JSON and the access policies.
//! - `maintenance`: the scheduled run that keeps each source's pool of copies right.
//! - `lambda`: the Lambda front door (`deadline`: the runtime's deadline header, local
//!   emulators' odd ones included); `cli`: the operator's front door.
//! - `metrics`: CloudWatch metrics in Embedded Metric Format (JSON lines on stdout).
//! - `clock`: wall time, pausable in tests.

pub mod adapters;
pub mod cfn;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(any(test, feature = "test-support"))]
pub mod fakes;
pub mod lambda;
pub mod logging;
pub mod metrics;
pub mod password;
pub mod planner;
pub mod ports;
pub mod service;
pub mod state;

pub use domain::properties;
pub use error::{Error, Result};
