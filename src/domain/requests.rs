//! What this tool asks RDS to make: plain values the planner builds and the adapters send.

use super::Tags;

/// What a clone takes from its source's cluster, so that it is as locked down as the source: the
/// cluster parameter group (TLS enforcement, audit settings), IAM database authentication, and
/// the log exports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterSettings {
    pub parameter_group: Option<String>,
    pub iam_auth: bool,
    pub log_exports: Vec<String>,
}

/// What a writer takes from its source's writer: the DB parameter group and the CA certificate.
/// It is never publicly accessible, whatever the source's writer is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceSettings {
    pub parameter_group: Option<String>,
    pub ca_certificate: Option<String>,
    pub publicly_accessible: bool,
}

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
    pub settings: ClusterSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRequest {
    pub instance_id: String,
    pub cluster_id: String,
    pub engine: String,
    pub class: String,
    pub tags: Tags,
    pub settings: InstanceSettings,
}
