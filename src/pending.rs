//! Pending work: what an invocation leaves for the next one. It is kept in SSM Parameter Store
//! as SecureStrings under `/<stack>/pending/` (a record holds a ResponseURL, which is a write
//! capability), never in memory.

use crate::cfn::CfnRequest;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PendingWork {
    /// A Create or replacing Update waiting for its clone to become usable.
    Respond(Box<PendingRequest>),
    /// A cluster whose deletion RDS refused for now (members still deleting).
    Reap { cluster_id: String, since: i64 },
    /// Sources a maintenance run had no time left for.
    Maintain { sources: Vec<String>, dry_run: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub request: CfnRequest,
    /// The clone's identifier, fixed when the request was first received.
    pub cluster_id: String,
    /// Unix seconds when the request was first received.
    pub received: i64,
    /// Unix seconds after which the request is answered FAILED.
    pub deadline: i64,
    /// An in-place Update working on the resource's current clone (e.g. turning SetPassword on).
    #[serde(default)]
    pub adopted: bool,
}

impl PendingWork {
    pub fn key(&self) -> String {
        match self {
            PendingWork::Respond(p) => p.request.request_id.clone(),
            PendingWork::Reap { cluster_id, .. } => format!("reap-{cluster_id}"),
            PendingWork::Maintain { .. } => "maintenance".into(),
        }
    }
}
