//! RDS in memory, as harsh as RDS: states driven by tokio time (creating -> available after a
//! delay, so paused-time tests run hours in microseconds), a master password change that stays
//! pending while the cluster shows `available` and then passes through
//! `resetting-master-credentials`, the 15-clone rule with clone groups, identifiers stored
//! lowercase, one writer and readers, and errors classified as the SDK adapter classifies them.
//!
//! - `clusters`: clusters as they look at an instant, and what restores, deletions, stops,
//!   starts and password changes do to them.
//! - `instances`: instances as they look at an instant, the members they make, their creation
//!   and deletion.
//! - `faults`: what tests inject (failures, throttling, panics, stuck states, protection, quotas)
//!   and the gate every call passes, where they fire.
//! - `rename`: cluster and instance renames, lagging as RDS's do.
//! - `inspect`: what tests read back (calls made, tags, settings).

mod clusters;
mod faults;
mod inspect;
mod instances;
mod rename;

use clusters::FakeCluster;
use faults::rds_error;
use instances::FakeInstance;

use crate::domain::capacity::Capacity;
use crate::domain::{
    Cluster, ClusterSettings, ClusterStatus, Instance, InstanceRequest, InstanceSettings,
    InstanceStatus, Quotas, RestoreRequest, Tags,
};
use crate::error::AwsError;
use crate::ports::{Created, Deletion, Rds, Renaming};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

use super::lock;

#[derive(Debug, Default)]
struct RdsState {
    clusters: BTreeMap<String, FakeCluster>,
    instances: BTreeMap<String, FakeInstance>,
    next_group: u32,
    calls: Vec<String>,
    failures: HashMap<&'static str, AwsError>,
    silent_full_copies: u32,
    stuck: HashMap<String, ClusterStatus>,
    panics: Vec<&'static str>,
    max_clusters: Option<u64>,
    max_instances: Option<u64>,
    /// This share of attempts (in percent) is throttled before it takes effect.
    throttle_percent: u32,
    attempts: u32,
    protected: BTreeSet<String>,
    /// Listings of every cluster (not narrowed to one).
    listings: u32,
    /// Cluster names a rename in flight holds (old and new), until then.
    held_clusters: HashMap<String, Instant>,
    /// Instance names likewise: RDS keeps clusters and instances in two namespaces.
    held_instances: HashMap<String, Instant>,
    /// The master password last set on each cluster.
    passwords: HashMap<String, String>,
}

/// RDS in memory. Clusters take `create_delay` to become available, instances `instance_delay`,
/// deletions `delete_delay`; a cluster with instances cannot be deleted (as in AWS).
pub struct FakeRds {
    state: Mutex<RdsState>,
    pub create_delay: Duration,
    pub instance_delay: Duration,
    pub delete_delay: Duration,
    /// Aurora's copy-on-write limit per volume; beyond it a restore silently makes a full copy.
    pub clone_limit: usize,
    /// How long every call takes (tokio time).
    pub latency: Duration,
    /// How long a new master password stays pending while the cluster shows `available`.
    pub password_pending: Duration,
    /// How long the cluster then stays `resetting-master-credentials`.
    pub password_delay: Duration,
    /// How long a renamed cluster or instance is listed under neither name.
    pub rename_gap: Duration,
    /// How long a rename takes in all (`renaming` after the gap, until then).
    pub rename_delay: Duration,
}

impl Default for FakeRds {
    fn default() -> Self {
        FakeRds {
            state: Mutex::default(),
            create_delay: Duration::from_secs(600),
            instance_delay: Duration::from_secs(480),
            delete_delay: Duration::from_secs(300),
            clone_limit: 15,
            latency: Duration::ZERO,
            password_pending: Duration::from_secs(90),
            password_delay: Duration::from_secs(120),
            rename_gap: Duration::from_secs(60),
            rename_delay: Duration::from_secs(240),
        }
    }
}

impl FakeRds {
    /// A fake whose every call takes `latency`.
    pub fn with_latency(latency: Duration) -> FakeRds {
        FakeRds::default().and_latency(latency)
    }

    pub fn and_latency(mut self, latency: Duration) -> FakeRds {
        self.latency = latency;
        self
    }

    /// A fake whose clusters take `cluster` and instances `instance` to become available.
    pub fn with_delays(cluster: Duration, instance: Duration) -> FakeRds {
        FakeRds {
            create_delay: cluster,
            instance_delay: instance,
            ..Default::default()
        }
    }

    /// Adds an available cluster with one available writer instance.
    pub fn add_source(&self, id: &str, tags: Tags) {
        let mut c = Cluster::new(id, ClusterStatus::Available);
        c.tags = tags;
        c.subnet_group = Some(format!("{id}-subnets"));
        c.security_groups = vec!["sg-1".into()];
        c.endpoint = Some(format!("{id}.cluster-x.rds.local"));
        c.port = Some(5432);
        c.master_username = Some("postgres".into());
        c.engine_version = Some("15.4".into());
        self.put(c);
        let inst = Instance {
            id: format!("{id}-1"),
            cluster_id: Some(id.into()),
            status: InstanceStatus::Available,
            class: "db.r6g.large".into(),
            settings: Default::default(),
        };
        let fake = FakeInstance::new(inst, Tags::new(), Instant::now(), Duration::ZERO);
        lock(&self.state)
            .instances
            .insert(fake.instance.id.clone(), fake);
    }

    /// Puts a cluster as given (available now). Members are derived from the instances.
    pub fn put(&self, cluster: Cluster) {
        let fake = FakeCluster::new(cluster, Instant::now());
        lock(&self.state)
            .clusters
            .insert(fake.cluster.id.clone(), fake);
    }

    /// Sets up a cluster and its instances as a locked-down source is: cluster parameter group,
    /// IAM authentication and log exports; the instances' parameter group and CA.
    pub fn configure(&self, id: &str, cluster: ClusterSettings, instances: InstanceSettings) {
        let mut st = lock(&self.state);
        if let Some(c) = st.clusters.get_mut(id) {
            c.cluster.settings = cluster;
        }
        for i in st.instances.values_mut() {
            if i.instance.cluster_id.as_deref() == Some(id) {
                i.instance.settings = instances.clone();
            }
        }
    }
}

impl RdsState {
    /// The calls after the first page of a listing of `n` records (100 a page).
    fn more_pages(&mut self, operation: &str, n: usize) {
        for _ in 1..n.div_ceil(100).max(1) {
            self.calls.push(operation.to_string());
        }
    }

    /// Clusters and instances not gone at `now`.
    fn used(&self, now: Instant) -> (u64, u64) {
        let clusters = self
            .clusters
            .keys()
            .filter(|id| self.view(id, now).is_some());
        let instances = self
            .instances
            .keys()
            .filter(|id| self.instance_view(id, now).is_some());
        (clusters.count() as u64, instances.count() as u64)
    }

    /// The tags of the cluster or instance an RDS ARN names.
    fn tags_mut(&mut self, arn: &str) -> Option<&mut Tags> {
        let id = arn.rsplit(':').next().unwrap_or_default();
        match arn.contains(":db:") {
            true => self.instances.get_mut(id).map(|i| &mut i.tags),
            false => self.clusters.get_mut(id).map(|c| &mut c.cluster.tags),
        }
    }
}

fn not_found(op: &'static str, what: &str) -> AwsError {
    let code = if what.starts_with("instance ") {
        "DBInstanceNotFound"
    } else {
        "DBClusterNotFoundFault"
    };
    rds_error(op, code, &format!("{what} not found"))
}

/// Each call passes the fault gate (`begin`), then acts on the state as RDS would.
#[async_trait]
impl Rds for FakeRds {
    /// Every cluster, paged as RDS pages them (100 a page: one call each).
    async fn clusters(&self) -> Result<Vec<Cluster>, AwsError> {
        let mut st = self.begin("DescribeDBClusters").await?;
        st.listings += 1;
        let now = Instant::now();
        let all: Vec<Cluster> = st
            .clusters
            .keys()
            .filter_map(|id| st.view(id, now))
            .collect();
        st.more_pages("DescribeDBClusters", all.len());
        Ok(all)
    }

    async fn cluster(&self, id: &str) -> Result<Option<Cluster>, AwsError> {
        let st = self.begin("DescribeDBClusters").await?;
        Ok(st.view(&id.to_ascii_lowercase(), Instant::now()))
    }

    async fn instances(&self, cluster_id: &str) -> Result<Vec<Instance>, AwsError> {
        let st = self.begin("DescribeDBInstances").await?;
        let now = Instant::now();
        Ok(st
            .instances
            .keys()
            .filter_map(|id| st.instance_view(id, now))
            .filter(|i| i.cluster_id.as_deref() == Some(cluster_id))
            .collect())
    }

    async fn quotas(&self) -> Result<Quotas, AwsError> {
        let st = self.begin("DescribeAccountAttributes").await?;
        let (clusters, instances) = st.used(Instant::now());
        Ok(Quotas {
            clusters: st.max_clusters.map(|m| (clusters, m)),
            instances: st.max_instances.map(|m| (instances, m)),
        })
    }

    async fn all_instances(&self) -> Result<Vec<Instance>, AwsError> {
        let mut st = self.begin("DescribeDBInstances").await?;
        let now = Instant::now();
        let all: Vec<Instance> = st
            .instances
            .keys()
            .filter_map(|id| st.instance_view(id, now))
            .collect();
        st.more_pages("DescribeDBInstances", all.len());
        Ok(all)
    }

    async fn restore(&self, r: &RestoreRequest) -> Result<Created<Cluster>, AwsError> {
        let mut st = self.begin(clusters::RESTORE).await?;
        self.restore_in(&mut st, r, Instant::now())
    }

    async fn create_instance(&self, r: &InstanceRequest) -> Result<Created, AwsError> {
        let mut st = self.begin(instances::CREATE).await?;
        self.create_instance_in(&mut st, r, Instant::now())
    }

    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError> {
        let mut st = self.begin("DeleteDBInstance").await?;
        self.delete_instance_in(&mut st, id, Instant::now())
    }

    async fn delete_cluster(&self, id: &str) -> Result<Deletion, AwsError> {
        let mut st = self.begin("DeleteDBCluster").await?;
        self.delete_cluster_in(&mut st, id, Instant::now())
    }

    async fn set_master_password(&self, cluster_id: &str, password: &str) -> Result<(), AwsError> {
        let mut st = self.begin("ModifyDBCluster").await?;
        self.set_password_in(&mut st, cluster_id, password, Instant::now())
    }

    async fn rename_cluster(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError> {
        let mut st = self.begin(rename::MODIFY_CLUSTER).await?;
        self.rename_cluster_in(&mut st, id, new_id, Instant::now())
    }

    async fn rename_instance(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError> {
        let mut st = self.begin(rename::MODIFY_INSTANCE).await?;
        self.rename_instance_in(&mut st, id, new_id, Instant::now())
    }

    async fn stop_cluster(&self, id: &str) -> Result<(), AwsError> {
        let mut st = self.begin("StopDBCluster").await?;
        st.stop(id, Instant::now())
    }

    async fn set_capacity(&self, id: &str, capacity: Capacity) -> Result<(), AwsError> {
        let mut st = self.begin("ModifyDBCluster").await?;
        st.set_capacity(id, capacity, Instant::now())
    }

    async fn start_cluster(&self, id: &str) -> Result<(), AwsError> {
        let mut st = self.begin("StartDBCluster").await?;
        st.start(id, Instant::now())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut st = self.begin("AddTagsToResource").await?;
        st.tags_mut(arn)
            .map(|t| t.extend(tags.clone()))
            .ok_or_else(|| not_found("AddTagsToResource", arn))
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut st = self.begin("RemoveTagsFromResource").await?;
        st.tags_mut(arn)
            .map(|t| t.retain(|k, _| !keys.contains(k)))
            .ok_or_else(|| not_found("RemoveTagsFromResource", arn))
    }
}
