//! The one vocabulary of what the planner asks the executor to do. Every flow (a request's
//! progress, an Update, a Delete, maintenance) plans in these actions, and one applier
//! (`service::apply`) carries them out through the ports.
//!
//! It is the bottom of the planner: every other planner module imports it, and it imports none
//! of them (only `domain`), so what an action carries is defined here too.

use crate::domain::events::LifecycleEvent;
use crate::domain::expiry::{schedule_names, EXPIRES_AT};
use crate::domain::{Cluster, ClusterStatus, Deed, InstanceRequest, Made, RestoreRequest, Tags};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Restore a clone (copy-on-write) or a pool copy (full copy).
    Restore(RestoreRequest),
    CreateInstance(InstanceRequest),
    /// Give the clone its own master password: key, secret, policy, then the cluster.
    SetPassword {
        cluster: Box<Cluster>,
        plan: PasswordPlan,
    },
    /// Change the Serverless v2 range of a clone in place (its writer scales within it).
    SetCapacity {
        cluster_id: String,
        capacity: crate::domain::capacity::Capacity,
    },
    /// Rewrite who may read the clone's secret (and decrypt it, for a key made for the clone).
    SetReaders {
        cluster: Box<Cluster>,
        readers: Vec<String>,
    },
    /// Remove the clone's secret and a key made for it, and the tags that named them.
    DropCredentials {
        cluster: Box<Cluster>,
    },
    /// Set and remove tags on each resource.
    Retag {
        targets: Vec<Tagged>,
        add: Tags,
        remove: Vec<String>,
    },
    /// Delete a cluster this tool made: its credentials, its actual member instances, then it;
    /// its `clone-deleted` event goes out once the cluster's deletion has started.
    RemoveCluster(Removal),
    /// Answer another pending request of the same resource FAILED (a Delete cancelling a Create).
    Cancel {
        request_id: String,
        reason: String,
    },
    /// A lifecycle event for the users' automation.
    Publish(LifecycleEvent),
    /// A lifecycle event someone waits on (a preparer's `clone-prepare`): unlike `Publish`, a
    /// failure to put it fails the step, which is tried again.
    Ask(LifecycleEvent),
    /// The request's clone takes another identifier (its own was taken; `NoFailOnExistingCluster`).
    Retarget {
        cluster_id: String,
    },
    /// Stop a clone (its expiry); start it again (a later expiry).
    StopCluster(String),
    StartCluster(String),
    /// A one-time schedule that invokes the function about a clone's expiry at `at`.
    Schedule {
        name: String,
        at: time::OffsetDateTime,
        cluster_id: String,
        /// The clone's ARN: the schedule's target and role live in its partition, region and
        /// account.
        cluster_arn: String,
    },
    /// Remove such a schedule (gone already is fine).
    Unschedule {
        name: String,
    },
    /// A recurring schedule that refreshes a clone (created, or changed to this).
    ScheduleRefresh {
        name: String,
        expression: String,
        timezone: Option<String>,
        cluster_id: String,
        cluster_arn: String,
    },
    /// Rename a cluster or an instance (a refresh's cut-over). A cluster's new name is entered
    /// in the ledger first (`deed`), as anything this tool makes is.
    Rename {
        what: Renamed,
        from: String,
        to: String,
        deed: Option<Box<Deed>>,
    },
}

/// What a `Rename` renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renamed {
    Cluster,
    Instance,
}

/// Which KMS key encrypts the secret, in the order the user's choices win.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// `KmsKeyId` of the resource.
    Given(String),
    /// `ForceCreateKmsKey`: a key for this clone alone, deleted with it.
    CreateForClone,
    /// The stack's default key (`DEFAULT_SECRET_KEY`).
    StackDefault(String),
    /// Secrets Manager's AWS-managed key.
    AwsManaged,
}

/// How a clone's own master password is set (`credentials` decides it).
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPlan {
    pub secret_name: String,
    /// The request setting the password: its secret carries it, so that only a later attempt
    /// of the same request adopts the secret.
    pub request_id: String,
    pub key: KeyChoice,
    pub readers: Vec<String>,
    pub tags: Tags,
}

/// A resource whose tags an action changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tagged {
    /// A cluster or instance, by ARN.
    Rds(String),
    /// A secret, by name or ARN.
    Secret(String),
    /// A KMS key this tool made, by id.
    Key(String),
}

/// What a removal deletes, read from the observed cluster (never computed): only its actual
/// members, and only the secret and key its deed records.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    pub cluster_id: String,
    pub status: ClusterStatus,
    /// Deletion protection is on: nothing is touched, and the reason is given.
    pub protected: bool,
    pub instances: Vec<String>,
    pub secret: Option<Made>,
    pub created_key: Option<Made>,
    /// The request that made the cluster.
    pub request_id: Option<String>,
    /// Sent once the deletion starts (instances or cluster); `None` when it was sent before
    /// (reap work finishing a deletion already announced).
    pub event: Option<LifecycleEvent>,
    /// The clone's expiry schedules, removed with it.
    pub schedules: Vec<String>,
}

/// The schedules made for a clone: its expiry's (when it has one) and its refresh's (when its
/// deed's properties ask for one).
fn schedules_of(cluster: &Cluster) -> Vec<String> {
    let mut names = match cluster.tags.contains_key(EXPIRES_AT) {
        true => schedule_names(&cluster.id).to_vec(),
        false => vec![],
    };
    let refreshed = cluster
        .deed
        .as_ref()
        .and_then(|d| d.properties.as_ref())
        .is_some_and(|p| p.get("RefreshSchedule").is_some());
    if refreshed {
        names.push(crate::domain::refresh::schedule_name(&cluster.id));
    }
    names
}

impl Removal {
    pub fn of(cluster: &Cluster) -> Removal {
        Removal {
            cluster_id: cluster.id.clone(),
            status: cluster.status.clone(),
            protected: cluster.deletion_protection,
            instances: cluster
                .members
                .iter()
                .map(|m| m.instance_id.clone())
                .collect(),
            secret: cluster.deed.as_ref().and_then(|d| d.secret.clone()),
            created_key: cluster.deed.as_ref().and_then(|d| d.key.clone()),
            request_id: cluster.deed.as_ref().and_then(|d| d.request_id.clone()),
            event: Some(LifecycleEvent::deleted(cluster)),
            schedules: schedules_of(cluster),
        }
    }
}
