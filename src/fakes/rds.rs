//! RDS in memory, as harsh as RDS: states driven by tokio time (creating -> available after a
//! delay, so paused-time tests run hours in microseconds), a master password change that stays
//! pending while the cluster shows `available` and then passes through
//! `resetting-master-credentials`, the 15-clone rule with clone groups, identifiers stored
//! lowercase, one writer and readers, and errors classified as the SDK adapter classifies them.

use super::lock;
use crate::adapters::is_transient;
use crate::adapters::memory::{throttled, SDK_ATTEMPTS};
use crate::adapters::rds::{refusal_is_permanent, RDS_NOT_NOW};
use crate::domain::capacity::Capacity;
use crate::domain::{
    Cluster, ClusterSettings, Instance, InstanceRequest, InstanceSettings, Member, Quotas,
    RestoreRequest, RestoreType, Tags,
};
use crate::error::AwsError;
use crate::ports::{Created, Deletion, Rds};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long stopping takes, and when RDS starts a stopped cluster again by itself.
const STOPPING: Duration = Duration::from_secs(60);
const AUTO_START: Duration = Duration::from_secs(7 * 86_400);
/// How long a started cluster stays `starting`.
const STARTING: Duration = Duration::from_secs(300);

/// An error as the SDK adapter would report it: retryable where the adapter says so.
pub fn rds_error(operation: &'static str, code: &str, message: &str) -> AwsError {
    AwsError {
        operation,
        code: code.to_string(),
        message: message.to_string(),
        retryable: is_transient(code, RDS_NOT_NOW) && !refusal_is_permanent(code, message),
    }
}

#[derive(Debug, Clone)]
struct FakeCluster {
    cluster: Cluster,
    available_at: Instant,
    gone_at: Option<Instant>,
    /// A master password change: pending (cluster still `available`) until the first instant,
    /// `resetting-master-credentials` until the second.
    password: Option<(Instant, Instant)>,
    /// Stopped then (`stopping` for a minute before); RDS starts it again seven days later.
    stopped_at: Option<Instant>,
    /// Started again: `starting` until then.
    starting_until: Option<Instant>,
}

#[derive(Debug, Clone)]
struct FakeInstance {
    instance: Instance,
    created: Instant,
    available_at: Instant,
    gone_at: Option<Instant>,
    tags: Tags,
}

#[derive(Debug, Default)]
struct RdsState {
    clusters: BTreeMap<String, FakeCluster>,
    instances: BTreeMap<String, FakeInstance>,
    next_group: u32,
    calls: Vec<String>,
    failures: HashMap<&'static str, AwsError>,
    silent_full_copies: u32,
    stuck: HashMap<String, String>,
    panics: Vec<&'static str>,
    max_clusters: Option<u64>,
    max_instances: Option<u64>,
    /// This share of attempts (in percent) is throttled before it takes effect.
    throttle_percent: u32,
    attempts: u32,
    protected: std::collections::BTreeSet<String>,
    /// Listings of every cluster (not narrowed to one).
    listings: u32,
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
        let mut c = Cluster::new(id, "available");
        c.tags = tags;
        c.subnet_group = Some(format!("{id}-subnets"));
        c.security_groups = vec!["sg-1".into()];
        c.endpoint = Some(format!("{id}.cluster-x.rds.local"));
        c.port = Some(5432);
        c.master_username = Some("postgres".into());
        c.engine_version = Some("15.4".into());
        self.put(c);
        let now = Instant::now();
        let inst = Instance {
            id: format!("{id}-1"),
            cluster_id: Some(id.into()),
            status: "available".into(),
            class: "db.r6g.large".into(),
            settings: Default::default(),
        };
        let fake = FakeInstance {
            instance: inst.clone(),
            created: now,
            available_at: now,
            gone_at: None,
            tags: Tags::new(),
        };
        lock(&self.state).instances.insert(inst.id, fake);
    }

    /// Puts a cluster as given (available now). Members are derived from the instances.
    pub fn put(&self, cluster: Cluster) {
        let fake = FakeCluster {
            cluster,
            available_at: Instant::now(),
            gone_at: None,
            password: None,
            stopped_at: None,
            starting_until: None,
        };
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

    /// The instance as it is stored (settings included).
    pub fn instance(&self, id: &str) -> Option<Instance> {
        lock(&self.state)
            .instances
            .get(id)
            .map(|i| i.instance.clone())
    }

    /// The cluster's settings as they are stored.
    pub fn cluster_settings(&self, id: &str) -> Option<ClusterSettings> {
        lock(&self.state)
            .clusters
            .get(id)
            .map(|c| c.cluster.settings.clone())
    }

    /// Sets the account's DB cluster and instance quotas (unlimited by default).
    pub fn set_quotas(&self, clusters: u64, instances: u64) {
        let mut st = lock(&self.state);
        st.max_clusters = Some(clusters);
        st.max_instances = Some(instances);
    }

    /// Makes the next call of `operation` fail with `code` (retryable as the adapter judges).
    pub fn fail_next(&self, operation: &'static str, code: &str) {
        lock(&self.state)
            .failures
            .insert(operation, rds_error(operation, code, "injected"));
    }

    /// Throttles `percent` of calls, spread evenly, before they take effect (0 stops it).
    pub fn throttle_percent(&self, percent: u32) {
        lock(&self.state).throttle_percent = percent.min(100);
    }

    /// Turns deletion protection on: deleting the cluster is refused until it is turned off.
    pub fn protect(&self, id: &str) {
        lock(&self.state).protected.insert(id.to_string());
    }

    /// Keeps a cluster in `status` until cleared (a terminal state, or `modifying`).
    pub fn stick(&self, id: &str, status: &str) {
        lock(&self.state).stuck.insert(id.into(), status.into());
    }

    pub fn unstick(&self, id: &str) {
        lock(&self.state).stuck.remove(id);
    }

    pub fn calls(&self) -> Vec<String> {
        lock(&self.state).calls.clone()
    }

    pub fn count_calls(&self, operation: &str) -> usize {
        lock(&self.state)
            .calls
            .iter()
            .filter(|c| *c == operation)
            .count()
    }

    /// How many times every cluster of the account was listed.
    pub fn listings(&self) -> u32 {
        lock(&self.state).listings
    }

    pub fn silent_full_copies(&self) -> u32 {
        lock(&self.state).silent_full_copies
    }

    pub fn cluster_ids(&self) -> Vec<String> {
        let now = Instant::now();
        let st = lock(&self.state);
        st.clusters
            .keys()
            .filter(|id| st.view(id, now).is_some())
            .cloned()
            .collect()
    }

    /// A cluster's tags as stored (empty when there is none).
    pub fn tags_of(&self, id: &str) -> Tags {
        let st = lock(&self.state);
        st.clusters
            .get(id)
            .map(|c| c.cluster.tags.clone())
            .unwrap_or_default()
    }

    /// Instances not gone, with their tags.
    pub fn instance_tags(&self) -> BTreeMap<String, Tags> {
        let now = Instant::now();
        let st = lock(&self.state);
        st.instances
            .iter()
            .filter(|(id, _)| st.instance_view(id, now).is_some())
            .map(|(id, i)| (id.clone(), i.tags.clone()))
            .collect()
    }

    /// Makes the next call of `operation` panic (to test that a panic still answers).
    pub fn panic_next(&self, operation: &'static str) {
        lock(&self.state).panics.push(operation);
    }

    async fn begin(
        &self,
        operation: &'static str,
    ) -> Result<std::sync::MutexGuard<'_, RdsState>, AwsError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut st = lock(&self.state);
        if let Some(i) = st.panics.iter().position(|p| *p == operation) {
            st.panics.remove(i);
            drop(st);
            panic!("injected panic in {operation}");
        }
        // As the SDK retries: the throttle surfaces only when every attempt was throttled.
        let throttled = (0..SDK_ATTEMPTS).all(|_| {
            st.attempts += 1;
            throttled(st.attempts, st.throttle_percent)
        });
        st.calls.push(operation.to_string());
        if throttled {
            return Err(rds_error(operation, "Throttling", "Rate exceeded"));
        }
        match st.failures.remove(operation) {
            Some(e) => Err(e),
            None => Ok(st),
        }
    }
}

/// As RDS: nothing in a stopped (or stopping, or starting) cluster is deleted.
fn refuse_unless_running(op: &'static str, status: &str) -> Result<(), AwsError> {
    match status {
        "stopped" | "stopping" | "starting" => Err(rds_error(
            op,
            "InvalidDBClusterStateFault",
            &format!("DbCluster is in {status} state: start it before deleting it"),
        )),
        _ => Ok(()),
    }
}

impl RdsState {
    /// The cluster as it looks now, or `None` once gone.
    fn view(&self, id: &str, now: Instant) -> Option<Cluster> {
        let fc = self.clusters.get(id)?;
        if fc.gone_at.is_some_and(|g| g <= now) {
            return None;
        }
        let mut c = fc.cluster.clone();
        let (pending, resetting) = match fc.password {
            Some((p, r)) => (now < p, now >= p && now < r),
            None => (false, false),
        };
        let stopped = fc.stopped_at.map(|at| now.saturating_duration_since(at));
        c.status = match (&fc.gone_at, self.stuck.get(id)) {
            (Some(_), _) => "deleting".into(),
            (None, Some(s)) => s.clone(),
            (None, None) if fc.starting_until.is_some_and(|t| t > now) => "starting".into(),
            (None, None) if stopped.is_some_and(|d| d < STOPPING) => "stopping".into(),
            (None, None) if stopped.is_some_and(|d| d < AUTO_START) => "stopped".into(),
            (None, None) if fc.available_at > now => "creating".into(),
            (None, None) if resetting => "resetting-master-credentials".into(),
            _ => c.status,
        };
        c.password_pending = pending;
        c.deletion_protection = self.protected.contains(id);
        c.members = self.members(id, now);
        Some(c)
    }

    /// The cluster's instances, oldest first: the first is the writer, the rest readers.
    fn members(&self, id: &str, now: Instant) -> Vec<Member> {
        let mut mine: Vec<&FakeInstance> = self
            .instances
            .values()
            .filter(|i| i.instance.cluster_id.as_deref() == Some(id))
            .filter(|i| i.gone_at.is_none_or(|g| g > now))
            .collect();
        mine.sort_by_key(|i| (i.created, i.instance.id.clone()));
        mine.iter()
            .enumerate()
            .map(|(n, i)| Member {
                instance_id: i.instance.id.clone(),
                writer: n == 0,
            })
            .collect()
    }

    fn instance_view(&self, id: &str, now: Instant) -> Option<Instance> {
        let fi = self.instances.get(id)?;
        if fi.gone_at.is_some_and(|g| g <= now) {
            return None;
        }
        let mut i = fi.instance.clone();
        if fi.gone_at.is_some() {
            i.status = "deleting".into();
        } else if fi.available_at > now {
            i.status = "creating".into();
        }
        Some(i)
    }

    fn group_of(&mut self, id: &str) -> String {
        let fresh = format!("cg-{}", self.next_group);
        let Some(c) = self.clusters.get_mut(id) else {
            return fresh;
        };
        if c.cluster.clone_group_id.is_none() {
            c.cluster.clone_group_id = Some(fresh);
            self.next_group += 1;
        }
        c.cluster.clone_group_id.clone().unwrap_or_default()
    }

    /// The calls after the first page of a listing of `n` records (100 a page).
    fn more_pages(&mut self, operation: &str, n: usize) {
        for _ in 1..n.div_ceil(100).max(1) {
            self.calls.push(operation.to_string());
        }
    }

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
}

fn not_found(op: &'static str, what: &str) -> AwsError {
    let code = if what.starts_with("instance ") {
        "DBInstanceNotFound"
    } else {
        "DBClusterNotFoundFault"
    };
    rds_error(op, code, &format!("{what} not found"))
}

/// The identifier at the end of an RDS ARN, and whether it names an instance.
fn arn_target(arn: &str) -> (String, bool) {
    let id = arn.rsplit(':').next().unwrap_or_default().to_string();
    (id, arn.contains(":db:"))
}

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
        const OP: &str = "RestoreDBClusterToPointInTime";
        let mut st = self.begin(OP).await?;
        let now = Instant::now();
        let id = r.cluster_id.to_ascii_lowercase();
        if st.view(&id, now).is_some() {
            return Ok(Created::Exists);
        }
        let source = st
            .view(&r.source_cluster_id, now)
            .ok_or_else(|| not_found(OP, &r.source_cluster_id))?;
        if source.members.is_empty() {
            return Err(rds_error(
                OP,
                "InvalidDBClusterStateFault",
                "source has no instance",
            ));
        }
        // As RDS: a minimum of 0 ACUs only on versions that can pause.
        let version = source.engine_version.clone().unwrap_or_default();
        if r.capacity.is_some_and(|c| c.min == 0.0)
            && !crate::domain::capacity::auto_pause_supported(&source.engine, &version)
        {
            return Err(rds_error(
                OP,
                "InvalidParameterCombination",
                "MinCapacity 0 is not supported by this engine version",
            ));
        }
        let mut c = Cluster::new(&id, "available");
        c.arn = source.arn.replace(
            &format!(":cluster:{}", source.id),
            &format!(":cluster:{id}"),
        );
        c.engine = source.engine.clone();
        c.tags = r.tags.clone();
        c.subnet_group = r.subnet_group.clone();
        c.security_groups = r.security_groups.clone();
        c.endpoint = Some(format!("{id}.cluster-x.rds.local"));
        c.reader_endpoint = Some(format!("{id}.cluster-ro-x.rds.local"));
        c.port = source.port;
        c.master_username = source.master_username.clone();
        c.database_name = source.database_name.clone();
        c.engine_version = source.engine_version.clone();
        c.capacity = r.capacity;
        c.settings = r.settings.clone();
        if r.restore_type == RestoreType::CopyOnWrite {
            let group = st.group_of(&r.source_cluster_id);
            let members = st
                .clusters
                .values()
                .filter(|x| x.gone_at.is_none_or(|g| g > now))
                .filter(|x| x.cluster.clone_group_id.as_deref() == Some(&group))
                .count();
            if members > self.clone_limit {
                st.silent_full_copies += 1;
            } else {
                c.clone_group_id = Some(group);
            }
        }
        let fc = FakeCluster {
            cluster: c.clone(),
            available_at: now + self.create_delay,
            gone_at: None,
            password: None,
            stopped_at: None,
            starting_until: None,
        };
        st.clusters.insert(id.clone(), fc);
        Ok(Created::New(st.view(&id, now).unwrap_or(c)))
    }

    async fn create_instance(&self, r: &InstanceRequest) -> Result<Created, AwsError> {
        const OP: &str = "CreateDBInstance";
        let mut st = self.begin(OP).await?;
        let now = Instant::now();
        let id = r.instance_id.to_ascii_lowercase();
        if st.instance_view(&id, now).is_some() {
            return Ok(Created::Exists);
        }
        match st.view(&r.cluster_id, now) {
            None => return Err(not_found(OP, &format!("cluster {}", r.cluster_id))),
            Some(c) if c.status == "deleting" => {
                return Err(rds_error(
                    OP,
                    "InvalidDBClusterStateFault",
                    "cluster is deleting",
                ))
            }
            // As RDS: a Serverless v2 instance needs the cluster's scaling configuration.
            Some(c) if r.class == crate::domain::capacity::SERVERLESS && c.capacity.is_none() => {
                return Err(rds_error(
                    OP,
                    "InvalidParameterCombination",
                    "Set the Serverless v2 scaling configuration on the cluster first",
                ))
            }
            Some(_) => {}
        }
        let instance = Instance {
            id: id.clone(),
            cluster_id: Some(r.cluster_id.clone()),
            status: "available".into(),
            class: r.class.clone(),
            settings: r.settings.clone(),
        };
        let fake = FakeInstance {
            instance,
            created: now,
            available_at: now + self.instance_delay,
            gone_at: None,
            tags: r.tags.clone(),
        };
        st.instances.insert(id, fake);
        Ok(Created::New(()))
    }

    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError> {
        let mut st = self.begin("DeleteDBInstance").await?;
        let now = Instant::now();
        let delay = self.delete_delay;
        let cluster = st
            .instances
            .get(id)
            .and_then(|i| i.instance.cluster_id.clone());
        if let Some(status) = cluster.and_then(|c| st.view(&c, now)).map(|c| c.status) {
            refuse_unless_running("DeleteDBInstance", &status)?;
        }
        match st.instances.get_mut(id) {
            Some(i) if i.gone_at.is_none() => {
                i.gone_at = Some(now + delay);
                Ok(Deletion::Started)
            }
            Some(i) if i.gone_at.is_some_and(|g| g > now) => Ok(Deletion::Started),
            _ => Ok(Deletion::AlreadyGone),
        }
    }

    async fn delete_cluster(&self, id: &str) -> Result<Deletion, AwsError> {
        let mut st = self.begin("DeleteDBCluster").await?;
        let now = Instant::now();
        let Some(view) = st.view(id, now) else {
            return Ok(Deletion::AlreadyGone);
        };
        if st.protected.contains(id) {
            return Err(rds_error(
                "DeleteDBCluster",
                "InvalidParameterCombination",
                "Cannot delete protected Cluster, please disable deletion protection and try again.",
            ));
        }
        refuse_unless_running("DeleteDBCluster", &view.status)?;
        if !view.members.is_empty() || view.status == "creating" {
            return Ok(Deletion::NotYet);
        }
        let delay = self.delete_delay;
        if let Some(c) = st.clusters.get_mut(id) {
            c.gone_at.get_or_insert(now + delay);
        }
        Ok(Deletion::Started)
    }

    async fn set_master_password(&self, cluster_id: &str, _password: &str) -> Result<(), AwsError> {
        let mut st = self.begin("ModifyDBCluster").await?;
        let now = Instant::now();
        let until = (
            now + self.password_pending,
            now + self.password_pending + self.password_delay,
        );
        match st.clusters.get_mut(cluster_id) {
            Some(c) => {
                c.password = Some(until);
                Ok(())
            }
            None => Err(not_found("ModifyDBCluster", cluster_id)),
        }
    }

    async fn stop_cluster(&self, id: &str) -> Result<(), AwsError> {
        let mut st = self.begin("StopDBCluster").await?;
        let now = Instant::now();
        match st.view(id, now).map(|c| c.status) {
            None => Err(not_found("StopDBCluster", id)),
            Some(s) if s == "stopped" || s == "stopping" => Ok(()),
            Some(s) if s != "available" => Err(rds_error(
                "StopDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = st.clusters.get_mut(id) {
                    c.stopped_at = Some(now);
                }
                Ok(())
            }
        }
    }

    /// RDS modifies only an available cluster; the range shows at once (the writer rescales
    /// in place, with no state of its own worth modelling).
    async fn set_capacity(&self, id: &str, capacity: Capacity) -> Result<(), AwsError> {
        let mut st = self.begin("ModifyDBCluster").await?;
        match st.view(id, Instant::now()).map(|c| c.status) {
            None => Err(not_found("ModifyDBCluster", id)),
            Some(s) if s != "available" => Err(rds_error(
                "ModifyDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = st.clusters.get_mut(id) {
                    c.cluster.capacity = Some(capacity);
                }
                Ok(())
            }
        }
    }

    async fn start_cluster(&self, id: &str) -> Result<(), AwsError> {
        let mut st = self.begin("StartDBCluster").await?;
        let now = Instant::now();
        match st.view(id, now).map(|c| c.status) {
            None => Err(not_found("StartDBCluster", id)),
            // Starting or running already: what was asked for (the adapter reads RDS's
            // InvalidDBClusterStateFault so).
            Some(s) if s == "starting" || s == "available" => Ok(()),
            Some(s) if s != "stopped" => Err(rds_error(
                "StartDBCluster",
                "InvalidDBClusterStateFault",
                &format!("cluster is {s}"),
            )),
            Some(_) => {
                if let Some(c) = st.clusters.get_mut(id) {
                    c.stopped_at = None;
                    c.starting_until = Some(now + STARTING);
                }
                Ok(())
            }
        }
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut st = self.begin("AddTagsToResource").await?;
        match arn_target(arn) {
            (id, true) => st
                .instances
                .get_mut(&id)
                .map(|i| i.tags.extend(tags.clone())),
            (id, false) => st
                .clusters
                .get_mut(&id)
                .map(|c| c.cluster.tags.extend(tags.clone())),
        }
        .ok_or_else(|| not_found("AddTagsToResource", arn))
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut st = self.begin("RemoveTagsFromResource").await?;
        match arn_target(arn) {
            (id, true) => st
                .instances
                .get_mut(&id)
                .map(|i| i.tags.retain(|k, _| !keys.contains(k))),
            (id, false) => st
                .clusters
                .get_mut(&id)
                .map(|c| c.cluster.tags.retain(|k, _| !keys.contains(k))),
        }
        .ok_or_else(|| not_found("RemoveTagsFromResource", arn))
    }
}
