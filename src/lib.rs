//! Aurora Clone Manager: Aurora copy-on-write clones as a CloudFormation custom resource
//! (`Custom::AuroraClone`), with a pool of full copies so that a source can have more than the
//! 15 clones Aurora allows per storage volume.
//!
//! A request's way is observe -> plan -> apply, and each flow is its own room. Dependencies point
//! down only: `domain` <- `cfn`, `config`, `state` <- `ports`, `planner` <- `service` <- the front
//! doors (`lambda`, `cli`), with `adapters` (and `fakes`) implementing `ports`.
//!
//! - `domain`: plain values: clusters and instances as observed, each joined with its deed in
//!   the ownership ledger (`ledger`: the only proof of what this manager made), the resource's
//!   properties (parsed strictly from CloudFormation's strings), identifier rules, the tags this
//!   tool writes (a mirror of the ledger, and lineage), what it asks RDS to make, clone expiry,
//!   cost estimates and the lifecycle events (`events`: one shape per detail-type).
//! - `cfn`: the custom-resource protocol: requests, physical ids (a cluster ARN counts only in
//!   this function's own partition, region and account: `home`), where a ResponseURL may lead
//!   and when CloudFormation sent it (`url`), the response body.
//! - `config`: the stack-level settings and the Lambda's environment, read once; the maintenance
//!   config in SSM (`maintenance`, in JSON or the original's EDN: `edn`).
//! - `state`: request state kept in the stack's DynamoDB table: pending requests, answers being
//!   delivered, reap work, fenced leases; every transition a conditional write. The same table
//!   holds the ownership ledger (`ports::Ledger`).
//! - `ports`: the narrow traits the flows act through, in domain values; `adapters` implements
//!   them over the AWS SDK (`adapters::sdk_ports` wires them all) and in memory, for the CLI;
//!   `fakes` (tests only) lag and fail as AWS does.
//! - `planner`: pure decisions, importing only `domain`, in one vocabulary of actions (`action`,
//!   at the bottom): where a clone goes (`pool`), how a pool copy and a writer are made (`copy`,
//!   `writer`), the next step of a request (`progress`), a clone's password and key
//!   (`credentials`), what an Update means (`revision`), what a Delete may remove (`teardown`),
//!   what maintenance does to a pool (`upkeep`), what a clone's expiry asks for now (`expiry`),
//!   whether a clone's stack still claims it (`sweep`).
//! - `service`: the flows, each a type holding only the ports and flows it uses, wired once
//!   (`service::Flows`) for both front doors:
//!   - entry points: `Receive` (a CloudFormation request), `FollowUp` (the tick over pending
//!     work), `Maintain` (the pools), `Sweep` (orphans), `Expiries` (a clone's expiry);
//!   - request flows: `Advance` dispatches a recorded request after the stack check (`Vet`) to
//!     `Place` (make a clone), `Revise` (Update) or `Teardown` (Delete);
//!   - underneath: `Answers` (decide once, deliver), `Reaper` (remove what this tool made),
//!     `Applier` (the one applier of the planner's actions), `Credentials`, `Deeds` (the ledger
//!     as flows use it: observe, enter before restore, strike, adopt), `Leases`, `Rule`
//!     (follow-up rule), `Sources` (the maintenance config).
//! - `password`: per-clone master passwords, the secret JSON and the access policies.
//! - `lambda`: the Lambda front door (`app`: wired from the environment; `event`: the payload,
//!   classified once; `runtime`: the loop; `deadline`: the runtime's deadline header); `cli`: the
//!   operator's front door, which calls flows, never ports (feature `cli`, on by default and
//!   left out of the Lambda's zip).
//! - `metrics`: CloudWatch metrics in Embedded Metric Format (JSON lines on stdout).
//! - `clock`: wall time, pausable in tests. `logging`: JSON logs without secrets. `error`: errors
//!   that keep the AWS error code.

pub mod adapters;
pub mod cfn;
#[cfg(feature = "cli")]
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
