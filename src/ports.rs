//! The narrow traits through which the executor touches the world. Each has an AWS adapter in
//! `adapters` and an in-memory one beside it (`adapters::memory`, `fakes`). Ports speak in domain
//! values: a create that finds its target already made says `Created::Exists`, a delete says
//! what it found, and an error carries whether trying again can help. AWS error codes stop at
//! the adapters.

use crate::cfn::ResponseBody;
use crate::domain::capacity::Capacity;
use crate::domain::events::LifecycleEvent;
use crate::domain::refresh::RefreshItem;
use crate::domain::{
    Cluster, Deed, Instance, InstanceRequest, Quotas, RestoreRequest, StackStatus, Tags,
};
use crate::error::AwsError;
use crate::state::{Answer, MaintainItem, ReapItem, RequestItem, RequestRecord, Work};
use async_trait::async_trait;
use std::time::Duration;
use tokio::time::Instant;

/// The longest one port call may take, retries included: an invocation never outlives its
/// hand-off margin waiting on one call, and a lease holder never outlives its lease.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);

/// What a create call found.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T = ()> {
    New(T),
    /// It was there already (a retry whose first reply was lost, or a duplicate).
    Exists,
}

/// What a delete call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Started,
    AlreadyGone,
    /// RDS refused for now (members still deleting, cluster still creating): try again later.
    NotYet,
}

/// What a rename call found. RDS takes minutes to rename, and the old name may answer
/// `NotFound` before the new one is listed: the caller judges by looking again, never by this
/// answer alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renaming {
    /// RDS accepted the rename.
    Started,
    /// Nothing of the old name (renamed already, by a call whose reply was lost, or gone).
    Missing,
    /// The new name is taken (by another cluster, or still by the one renamed away from it).
    Taken,
    /// RDS refuses for now (the cluster or instance is not available): try again later.
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
    async fn quotas(&self) -> Result<Quotas, AwsError>;
    /// Every instance in the account and region, all pages.
    async fn all_instances(&self) -> Result<Vec<Instance>, AwsError>;
    /// Restores a cluster; `New` carries the cluster as RDS reported it.
    async fn restore(&self, request: &RestoreRequest) -> Result<Created<Cluster>, AwsError>;
    async fn create_instance(&self, request: &InstanceRequest) -> Result<Created, AwsError>;
    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError>;
    async fn delete_cluster(&self, id: &str) -> Result<Deletion, AwsError>;
    /// Sets the cluster's master password, applied immediately.
    async fn set_master_password(&self, cluster_id: &str, password: &str) -> Result<(), AwsError>;
    /// Stops (starts) a cluster; one already stopped (started) is fine.
    async fn stop_cluster(&self, id: &str) -> Result<(), AwsError>;
    /// Sets a cluster's Serverless v2 range, applied at once (its writer rescales in place).
    async fn set_capacity(&self, cluster_id: &str, capacity: Capacity) -> Result<(), AwsError>;
    async fn start_cluster(&self, id: &str) -> Result<(), AwsError>;
    /// Renames a cluster, applied at once (its endpoint follows the name).
    async fn rename_cluster(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError>;
    /// Renames an instance, applied at once.
    async fn rename_instance(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError>;
    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;
    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError>;
}

/// The state table. Every change is conditional; a call whose reply was lost and that the SDK
/// retried reads its own effect as success (the adapters read the item again, never assume).
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Records a request if absent; returns the stored item either way, so that a duplicate
    /// delivery continues the first one's record.
    async fn record(&self, record: &RequestRecord) -> Result<RequestItem, AwsError>;
    /// Records a request refused before any work straight as `answering(answer)`, if absent: one
    /// conditional write, so that no follow-up ever finds it pending and carries it out. Returns
    /// the stored item either way (a duplicate delivery continues what the first one stored).
    async fn refuse(
        &self,
        record: &RequestRecord,
        answer: &Answer,
    ) -> Result<RequestItem, AwsError>;
    async fn request(&self, request_id: &str) -> Result<Option<RequestItem>, AwsError>;
    /// Replaces the record of a pending request if it is still at `item.version`; `None` when
    /// it changed meanwhile (read it again).
    async fn revise(
        &self,
        item: &RequestItem,
        record: &RequestRecord,
    ) -> Result<Option<RequestItem>, AwsError>;
    /// `pending -> answering(answer)`. Returns the item as stored afterwards: answering with
    /// whichever answer won, or `None` when it is done or gone.
    async fn decide(
        &self,
        request_id: &str,
        answer: &Answer,
    ) -> Result<Option<RequestItem>, AwsError>;
    /// Notes that the answer's lifecycle event went out.
    async fn event_sent(&self, request_id: &str) -> Result<(), AwsError>;
    /// `answering -> done`, once the answer was delivered; done or absent is fine.
    async fn finish(&self, request_id: &str, now: i64) -> Result<(), AwsError>;
    /// Every item of pending work (requests in any phase, reaps, maintenance).
    async fn list(&self) -> Result<Vec<Work>, AwsError>;
    /// Writes reap work; with `if_absent`, keeps an existing item as it is.
    async fn put_reap(&self, reap: &ReapItem, if_absent: bool) -> Result<(), AwsError>;
    async fn remove_reap(&self, cluster_id: &str) -> Result<(), AwsError>;
    async fn put_maintain(&self, item: &MaintainItem) -> Result<(), AwsError>;
    /// Takes the maintenance item if it is still at `version`; false when someone else did.
    async fn take_maintain(&self, version: u64) -> Result<bool, AwsError>;
    /// Takes the lease `name` for `holder` until `now + ttl` if it is free, expired or already
    /// the holder's. `Some(fence)` when `holder` now holds it: the lease's fencing number, one
    /// more than the last holder's on every take by a new holder or after expiry (a renewal
    /// keeps it), never reused (a release keeps the number). An adapter over AWS refuses, with
    /// an error, when this machine's clock is too far off AWS's to judge expiry.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl: i64,
    ) -> Result<Option<u64>, AwsError>;
    /// True when `holder` still holds lease `name` with `fence`, unexpired at `now`: checked
    /// at the table, right before a write made under the lease, so that a holder whose lease
    /// was taken over (its clock or a pause misled it) does not act.
    async fn confirm_lease(
        &self,
        name: &str,
        holder: &str,
        fence: u64,
        now: i64,
    ) -> Result<bool, AwsError>;
    /// Releases the lease if `holder` still holds it; anyone else's lease is left alone.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), AwsError>;
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
    /// PUTs the body, retrying while attempts fit before `until`. An error means it was not
    /// delivered (yet): the caller leaves the answer for the next follow-up to resend.
    async fn send(
        &self,
        url: &str,
        body: &ResponseBody,
        until: Option<Instant>,
    ) -> Result<(), String>;
}

/// A secret as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub arn: String,
    pub name: String,
}

/// A secret read back: where it is, what it holds, and the tags that say who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub secret: SecretRef,
    pub value: Option<String>,
    pub tags: Tags,
}

/// Secrets Manager, as the per-clone passwords need it.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// Creates the secret; `Exists` when the name is taken (read it to see by whom).
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<Created<SecretRef>, AwsError>;
    /// The secret's value and tags; `None` when there is none of that name.
    async fn read(&self, name: &str) -> Result<Option<StoredSecret>, AwsError>;
    /// The secret's tags only (no value); `None` when it is gone.
    async fn tags(&self, secret_id: &str) -> Result<Option<Tags>, AwsError>;
    /// Read access for `principals` (public policies blocked); an empty list removes the policy.
    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError>;
    /// Deletes with a recovery window; already gone is fine.
    async fn delete(&self, secret_id: &str) -> Result<(), AwsError>;
    async fn retag(&self, secret_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError>;
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
    /// Keys carrying the tag `key = value`: a key made by an attempt that died before it could
    /// record the key's id is found by the request-id tag it was created with. (Slow: one call
    /// per key in the account; only that rare path uses it.)
    async fn find_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, AwsError>;
    /// The key's tags; `None` when it is gone.
    async fn tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError>;
    async fn set_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError>;
    /// Schedules deletion after the shortest waiting period; already scheduled or gone is fine.
    async fn retire(&self, key_id: &str) -> Result<(), AwsError>;
    async fn retag(&self, key_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError>;
}

/// Lifecycle events for the users' automation. The port takes the enum, not a detail-type and
/// JSON, so that nothing but a documented shape can be put; the adapter asks the event for both.
#[async_trait]
pub trait Events: Send + Sync {
    async fn put(&self, event: &LifecycleEvent) -> Result<(), AwsError>;
}

/// Parameters this tool reads (the maintenance config).
#[async_trait]
pub trait Parameters: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError>;
}

/// A stack's view of one of its resources: a plain domain value, named here too since the
/// `Stacks` port speaks it.
pub use crate::domain::StackResource;

/// CloudFormation, as far as this tool asks it anything: what a stack says of a resource and in
/// which phase the stack is (to check that a request is real, and whether a clone's owner still
/// exists).
#[async_trait]
pub trait Stacks: Send + Sync {
    /// Access denied is an error, never `Missing`: a stack this role cannot read may exist.
    async fn resource(&self, stack_id: &str, logical_id: &str) -> Result<StackResource, AwsError>;
    /// The stack's own status (`UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`, `DELETE_IN_PROGRESS`, ...);
    /// `None` when there is no such stack. Access denied is an error, as for `resource`.
    async fn stack_status(&self, stack_id: &str) -> Result<Option<StackStatus>, AwsError>;
}

/// CloudWatch, as far as the cost estimates ask it: the newest `VolumeBytesUsed` of clusters.
#[async_trait]
pub trait VolumeSizes: Send + Sync {
    /// A cluster without a data point is absent from the answer: unknown, never zero.
    async fn volume_bytes(
        &self,
        cluster_ids: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>, AwsError>;
}

/// One-time schedules that invoke the function (EventBridge Scheduler, in the stack's group).
#[async_trait]
pub trait Schedules: Send + Sync {
    /// A schedule `name` that invokes `target` (as `role`) with `input` once at `at`, and then
    /// deletes itself. `Exists` when one of that name is there already.
    async fn once(
        &self,
        name: &str,
        at: time::OffsetDateTime,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<Created, AwsError>;
    /// A recurring schedule `name` on `expression` (`cron(...)`, `rate(...)`) in `timezone`
    /// (`None`: UTC) that invokes `target` with `input`; one of that name is updated to this.
    async fn recurring(
        &self,
        name: &str,
        expression: &str,
        timezone: Option<&str>,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<(), AwsError>;
    /// Gone already is fine.
    async fn remove(&self, name: &str) -> Result<(), AwsError>;
}

/// What a schedule invokes, and the role it does so as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    pub function_arn: String,
    pub role_arn: String,
}

/// What writing a deed found.
#[derive(Debug, Clone, PartialEq)]
pub enum Entered {
    /// Written now: nothing held the identifier.
    New(Deed),
    /// The same intent was there already (a retry, or an earlier attempt of the same request).
    Held(Deed),
    /// Another owner's deed holds the identifier: nothing was written.
    Other(Deed),
}

/// The ownership ledger, in the stack's state table. Only the function's role (and an operator
/// with the stack's rights) can write it; every change is conditional.
#[async_trait]
pub trait Ledger: Send + Sync {
    async fn deed(&self, cluster_id: &str) -> Result<Option<Deed>, AwsError>;
    /// Every deed (one Scan of the ledger's items).
    async fn deeds(&self) -> Result<Vec<Deed>, AwsError>;
    /// Writes the deed if no deed holds its cluster id.
    async fn enter(&self, deed: &Deed) -> Result<Entered, AwsError>;
    /// Replaces the deed if it is still at `deed.version`; `None` when it changed meanwhile.
    async fn amend(&self, deed: &Deed) -> Result<Option<Deed>, AwsError>;
    /// Removes the deed (the cluster is gone); gone already is fine.
    async fn strike(&self, cluster_id: &str) -> Result<(), AwsError>;
}

/// Refreshes in the stack's state table (`refresh#<clone id>`): one per clone at a time, every
/// change conditional. The state store's `list` returns them among the pending work.
#[async_trait]
pub trait Refreshes: Send + Sync {
    /// Records `item` if no refresh of its clone is recorded; returns the stored one either way
    /// (a second refresh asked for meanwhile joins the first).
    async fn begin(&self, item: &RefreshItem) -> Result<RefreshItem, AwsError>;
    async fn refresh(&self, cluster_id: &str) -> Result<Option<RefreshItem>, AwsError>;
    /// Replaces the item if it is still at `item.version`; `None` when it changed meanwhile.
    async fn amend(&self, item: &RefreshItem) -> Result<Option<RefreshItem>, AwsError>;
    /// Removes the refresh if it is still attempt `attempt`; gone already is fine.
    async fn end(&self, cluster_id: &str, attempt: &str) -> Result<(), AwsError>;
}

/// Every port, as the wiring hands them to the flows (each flow keeps only those it uses).
#[derive(Clone)]
pub struct Ports {
    pub rds: std::sync::Arc<dyn Rds>,
    pub state: std::sync::Arc<dyn StateStore>,
    /// The ownership ledger (in the same table as `state`).
    pub ledger: std::sync::Arc<dyn Ledger>,
    pub follow_ups: std::sync::Arc<dyn FollowUps>,
    pub responder: std::sync::Arc<dyn Responder>,
    pub secrets: std::sync::Arc<dyn Secrets>,
    pub keys: std::sync::Arc<dyn Keys>,
    pub events: std::sync::Arc<dyn Events>,
    pub parameters: std::sync::Arc<dyn Parameters>,
    pub stacks: std::sync::Arc<dyn Stacks>,
    pub schedules: std::sync::Arc<dyn Schedules>,
    /// Refreshes in place (in the same table as `state`).
    pub refreshes: std::sync::Arc<dyn Refreshes>,
}
