//! What this tool asks RDS to make: plain values the planner builds and the adapters send.

use super::Tags;

/// How a cluster is restored from its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreType {
    /// A clone: shares the source's pages; takes one of the source volume's 15 slots.
    CopyOnWrite,
    /// A pool copy: a full, independent volume that can host 15 clones of its own.
    FullCopy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RestoreRequest {
    pub cluster_id: String,
    pub source_cluster_id: String,
    pub restore_type: RestoreType,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub tags: Tags,
    /// The Serverless v2 range, for a cluster whose writer is `db.serverless`.
    pub capacity: Option<super::capacity::Capacity>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRequest {
    pub instance_id: String,
    pub cluster_id: String,
    pub engine: String,
    pub class: String,
    pub tags: Tags,
}
