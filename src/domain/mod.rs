//! Plain domain values that observing AWS produces: clusters, instances, their states and the
//! lineage and ownership recorded in their tags. No SDK types here, and no import of any other
//! module of the crate: everything else builds on these.
//!
//! - `access`: which sources a stack allows cloning, and who may read a clone's secret.
//! - `capacity`: the Serverless v2 range, and which engine versions can pause at zero.
//! - `cost`: estimated monthly cost of clones and pool copies.
//! - `duration`: ISO-8601 durations as parameters, config and properties write them.
//! - `expiry`: when a clone expires and what happens then, as properties ask and tags record it.
//! - `ident`: RDS identifier rules, the identifiers this tool generates, and RDS cluster ARNs.
//! - `ledger`: the ownership ledger's deeds: the only proof of what this manager made.
//! - `prepare`: the preparation step's record, report and single-use tokens.
//! - `properties`: the `Custom::AuroraClone` properties, parsed strictly.
//! - `refresh`: refreshing a clone in place: the work item, its helper identifiers, schedules.
//! - `requests`: what this tool asks RDS to make (restores, instances).
//! - `status`: the states AWS reports (cluster, instance, stack), with every rule that reads one.
//! - `tags`: the tags this tool writes: ownership and lineage.
//! - `upkeep`: what operators ask maintenance to keep for each source.

pub mod access;
pub mod capacity;
pub mod cost;
pub mod duration;
pub mod events;
pub mod expiry;
pub mod ident;
pub mod ledger;
pub mod prepare;
pub mod properties;
pub mod refresh;
pub mod requests;
pub mod status;
pub mod tags;
pub mod upkeep;

use std::collections::BTreeMap;
use time::OffsetDateTime;

pub use ledger::{Deed, Made};
pub use requests::{
    ClusterSettings, InstanceRequest, InstanceSettings, RestoreRequest, RestoreType,
};
pub use status::{ClusterStatus, InstanceStatus, StackStatus};
pub use tags::{Lineage, Ownership, Role};

pub type Tags = BTreeMap<String, String>;

/// One member instance of a cluster, as DescribeDBClusters lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub instance_id: String,
    pub writer: bool,
}

/// An Aurora cluster as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub arn: String,
    pub status: ClusterStatus,
    pub engine: String,
    pub endpoint: Option<String>,
    pub reader_endpoint: Option<String>,
    pub port: Option<i32>,
    pub members: Vec<Member>,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub tags: Tags,
    /// The copy-on-write group this cluster's storage volume belongs to, where AWS reports it.
    pub clone_group_id: Option<String>,
    pub created: Option<OffsetDateTime>,
    pub master_username: Option<String>,
    pub database_name: Option<String>,
    /// The Serverless v2 scaling range, where the cluster has one.
    pub capacity: Option<capacity::Capacity>,
    pub engine_version: Option<String>,
    /// A master password change RDS has accepted but not yet applied.
    pub password_pending: bool,
    /// RDS refuses to delete the cluster until this is turned off.
    pub deletion_protection: bool,
    pub settings: ClusterSettings,
    /// This manager's ledger entry for the cluster, joined in when it was observed: the only
    /// proof that the manager made it (tags prove nothing).
    pub deed: Option<Deed>,
}

impl Cluster {
    pub fn is_available(&self) -> bool {
        self.status.is_available()
    }

    pub fn writer(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.writer)
            .map(|m| m.instance_id.as_str())
    }

    /// Who owns the cluster, by the ledger; `None` for anything the ledger does not hold.
    pub fn ownership(&self) -> Option<Ownership> {
        self.deed.as_ref().map(Deed::ownership)
    }

    /// The clone's password secret, as the ledger records it.
    pub fn secret_arn(&self) -> Option<&str> {
        self.deed.as_ref().and_then(Deed::secret_arn)
    }

    pub fn lineage(&self) -> Option<Lineage> {
        Lineage::from_tags(&self.tags)
    }

    /// A minimal cluster for tests and fakes; every optional field empty.
    pub fn new(id: &str, status: impl Into<ClusterStatus>) -> Cluster {
        Cluster {
            id: id.to_string(),
            arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}"),
            status: status.into(),
            engine: "aurora-postgresql".into(),
            endpoint: None,
            reader_endpoint: None,
            port: None,
            members: vec![],
            subnet_group: None,
            security_groups: vec![],
            tags: Tags::new(),
            clone_group_id: None,
            created: None,
            master_username: None,
            database_name: None,
            capacity: None,
            engine_version: None,
            password_pending: false,
            deletion_protection: false,
            settings: ClusterSettings::default(),
            deed: None,
        }
    }
}

/// Account quotas as `DescribeAccountAttributes` reports them: (used, max).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quotas {
    pub clusters: Option<(u64, u64)>,
    pub instances: Option<(u64, u64)>,
}

/// A DB instance as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub cluster_id: Option<String>,
    pub status: InstanceStatus,
    pub class: String,
    pub settings: InstanceSettings,
}

/// A CloudFormation stack's view of one of its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackResource {
    /// The stack, or the resource in it, does not exist (any more).
    Missing,
    Found {
        resource_type: String,
        status: StackStatus,
        physical_id: Option<String>,
    },
}
