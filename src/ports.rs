//! The narrow traits through which the executor touches the world. Each has an AWS adapter in
//! `adapters` and an in-memory fake in `fakes`, side by side.

use crate::cfn::ResponseBody;
use crate::domain::{Cluster, Instance, Tags};
use crate::error::{AwsError, Result};
use crate::pending::PendingWork;
use async_trait::async_trait;

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
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRequest {
    pub instance_id: String,
    pub cluster_id: String,
    pub engine: String,
    pub class: String,
    pub tags: Tags,
}

/// What a delete call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Started,
    AlreadyGone,
    /// RDS refused for now (members still deleting, cluster still creating): try again later.
    NotYet,
}

#[async_trait]
pub trait Rds: Send + Sync {
    /// Every cluster in the account and region, all pages, tags included.
    async fn clusters(&self) -> Result<Vec<Cluster>, AwsError>;
    async fn cluster(&self, id: &str) -> Result<Option<Cluster>, AwsError>;
    /// The instances of one cluster (one filtered call).
    async fn instances(&self, cluster_id: &str) -> Result<Vec<Instance>, AwsError>;
    /// The account's DB cluster and instance quotas and usage.
    async fn quotas(&self) -> Result<crate::domain::Quotas, AwsError>;
    /// Every instance in the account and region, all pages.
    async fn all_instances(&self) -> Result<Vec<Instance>, AwsError>;
    async fn restore(&self, request: &RestoreRequest) -> Result<Cluster, AwsError>;
    async fn create_instance(&self, request: &InstanceRequest) -> Result<(), AwsError>;
    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError>;
    async fn delete_cluster(&self, id: &str) -> Result<Deletion, AwsError>;
    /// Sets the cluster's master password, applied immediately.
    async fn set_master_password(&self, cluster_id: &str, password: &str) -> Result<(), AwsError>;
    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;
    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError>;
}

/// Whether a new record was stored or one was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    Exists,
}

/// Where pending work waits for the next invocation. Adding is create-if-absent and taking is
/// delete-if-present, both atomic: the one who takes a record is the one who answers it.
#[async_trait]
pub trait PendingStore: Send + Sync {
    async fn add(&self, key: &str, work: &PendingWork) -> Result<Added>;
    async fn get(&self, key: &str) -> Result<Option<PendingWork>>;
    async fn list(&self) -> Result<Vec<(String, PendingWork)>>;
    /// Removes the record; true only for the caller that removed it.
    async fn take(&self, key: &str) -> Result<bool>;
}

/// The EventBridge rule that re-invokes the function while work is pending.
#[async_trait]
pub trait FollowUps: Send + Sync {
    /// Creates or enables the rule, targeting `function_arn`.
    async fn ensure(&self, function_arn: &str) -> Result<(), AwsError>;
    async fn stop(&self) -> Result<(), AwsError>;
}

/// Sends a response body to a presigned ResponseURL.
#[async_trait]
pub trait Responder: Send + Sync {
    async fn send(&self, url: &str, body: &ResponseBody) -> Result<()>;
}

/// Short-lived mutual exclusion between invocations (possibly in different Lambda instances):
/// placing a clone on a volume is serialised per root, so that two requests never take the same
/// last slot. A holder that dies leaves a lock that expires after `ttl_secs`.
#[async_trait]
pub trait Locks: Send + Sync {
    /// True when this caller now holds `name`.
    async fn try_lock(&self, name: &str, now: i64, ttl_secs: i64) -> Result<bool>;
    async fn unlock(&self, name: &str) -> Result<()>;
}

/// A secret as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub arn: String,
    pub name: String,
}

/// Secrets Manager, as the per-clone passwords need it.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// Creates the secret; when one of that name exists, returns it with its current value.
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<(SecretRef, Option<String>), AwsError>;
    /// Read access for `principals` (public policies blocked); an empty list removes the policy.
    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError>;
    /// Deletes with a recovery window; already gone is fine.
    async fn delete(&self, secret_id: &str) -> Result<(), AwsError>;
}

/// KMS, for keys this tool creates for one clone.
#[async_trait]
pub trait Keys: Send + Sync {
    /// Creates a key; returns its id.
    async fn create(
        &self,
        description: &str,
        policy: &str,
        tags: &Tags,
    ) -> Result<String, AwsError>;
    async fn set_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError>;
    /// Schedules deletion after the shortest waiting period; already scheduled or gone is fine.
    async fn retire(&self, key_id: &str) -> Result<(), AwsError>;
}

/// Lifecycle events for the users' automation.
#[async_trait]
pub trait Events: Send + Sync {
    async fn put(&self, detail_type: &str, detail: &serde_json::Value) -> Result<(), AwsError>;
}

/// Parameters this tool reads (the maintenance config).
#[async_trait]
pub trait Parameters: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError>;
}
