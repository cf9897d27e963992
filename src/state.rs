//! Request state: what an invocation leaves for the next one, kept in the stack's DynamoDB table
//! (`STATE_TABLE`), never in memory. Every transition is a conditional write in the store, so
//! racing invocations, duplicate deliveries and lost replies settle on one outcome:
//!
//! ```text
//! absent --record (if absent)--> pending --decide (if pending)--> answering(outcome)
//!        answering --PUT delivered--> done (kept a day, so a late redelivery is recognised)
//! ```
//!
//! The outcome is decided once, by the one conditional update that wins; everyone who finds an
//! `answering` item only resends that same outcome (a second PUT of the same body is harmless).

use crate::cfn::{CfnRequest, Outcome, PhysicalId, RequestType};
use crate::domain::events::InstanceReady;
use serde::{Deserialize, Serialize};

/// A request as first recorded: what every later invocation continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub request: CfnRequest,
    /// The clone this request makes (or, for an in-place Update, works on); fixed when the
    /// request is first recorded. Empty for a Delete.
    pub cluster_id: String,
    /// With `NoFailOnExistingCluster`: the identifier to use instead when `cluster_id` turns out
    /// to be taken by a cluster this request did not make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_id: Option<String>,
    /// Unix seconds when the request was first recorded.
    pub received: i64,
    /// Unix seconds after which the request is answered FAILED.
    pub deadline: i64,
    /// An in-place Update working on the resource's current clone (e.g. turning SetPassword on).
    #[serde(default)]
    pub adopted: bool,
    /// With `Prepare`: the preparation asked for, and what the preparer reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preparation: Option<crate::domain::prepare::Preparation>,
}

impl RequestRecord {
    pub fn request_id(&self) -> &str {
        &self.request.request_id
    }

    /// True when this request may have restored a cluster of its own, which a FAILED answer must
    /// not leave behind.
    pub fn makes_a_clone(&self) -> bool {
        self.request.request_type != RequestType::Delete && !self.adopted
    }
}

/// The decided answer of a request: the one outcome CloudFormation gets, and the lifecycle event
/// that goes with a SUCCESS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Box<InstanceReady>>,
    #[serde(default)]
    pub event_sent: bool,
}

/// Where a recorded request stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Pending,
    Answering(Answer),
    /// Answered and delivered; kept so that a redelivery of the same request does nothing.
    Done,
}

/// A request item as stored, with the version every conditional change is made against.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestItem {
    pub record: RequestRecord,
    pub phase: Phase,
    pub version: u64,
}

/// A cluster to delete that RDS refused for now, or the clone of a request that failed (which a
/// restore still in flight may yet create: watched until `watch_until`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReapItem {
    pub cluster_id: String,
    /// When set, the cluster is removed only if it carries this request-id tag.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Unix seconds when the work was first recorded.
    pub since: i64,
    /// Until then an absent cluster is looked for again (a restore may still land).
    #[serde(default)]
    pub watch_until: i64,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Refused for longer than the give-up limit: logged, announced, and no longer followed up.
    #[serde(default)]
    pub given_up: bool,
}

/// Sources to maintain in a follow-up: a run had no time left or a source's lease was busy, a
/// Create asked for its source's obsolete copies to be retired, or copies are being made whose
/// ready event is due. Writers add sources to the one item; it is taken once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintainItem {
    pub sources: Vec<String>,
    pub dry_run: bool,
    /// Unix seconds before which a follow-up leaves it alone (a busy lease is retried later).
    #[serde(default)]
    pub not_before: i64,
    #[serde(skip)]
    pub version: u64,
}

/// One item of pending work, as a follow-up finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Request(Box<RequestItem>),
    Reap(ReapItem),
    Maintain(MaintainItem),
    /// A clone being refreshed in place.
    Refresh(Box<crate::domain::refresh::RefreshItem>),
}

impl Work {
    /// True while the item still needs follow-ups (the follow-up rule stays enabled for it).
    pub fn needs_follow_up(&self) -> bool {
        match self {
            Work::Request(item) => item.phase != Phase::Done,
            Work::Reap(r) => !r.given_up,
            Work::Maintain(_) | Work::Refresh(_) => true,
        }
    }

    /// The order follow-ups take work in: answers waiting to be delivered first (cheapest, and
    /// CloudFormation is waiting), then the request closest to its deadline, then the rest.
    pub fn urgency(&self) -> (u8, i64) {
        match self {
            Work::Request(item) if matches!(item.phase, Phase::Answering(_)) => {
                (0, item.record.deadline)
            }
            Work::Request(item) => (1, item.record.deadline),
            Work::Reap(r) => (2, r.since),
            Work::Refresh(r) => (2, r.since),
            Work::Maintain(m) => (3, m.not_before),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Work::Request(item) => format!("request {}", item.record.request_id()),
            Work::Reap(r) => format!("reap {}", r.cluster_id),
            Work::Maintain(_) => "maintenance".into(),
            Work::Refresh(r) => format!("refresh of {}", r.cluster_id),
        }
    }
}

/// The physical id a FAILED answer carries: the old one for an Update or Delete (the resource
/// stays what it was), and one that names no cluster for a Create.
pub fn failure_id(request: &CfnRequest) -> String {
    match (request.request_type, &request.physical_resource_id) {
        (RequestType::Create, _) | (_, None) => PhysicalId::failed(&request.request_id),
        (_, Some(id)) => id.clone(),
    }
}

/// A FAILED answer for `request`.
pub fn failed(request: &CfnRequest, reason: impl Into<String>) -> Answer {
    Answer {
        outcome: Outcome::failed(failure_id(request), reason),
        event: None,
        event_sent: false,
    }
}
