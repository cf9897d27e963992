//! In-memory fakes of the ports, for tests: RDS with time-driven states (creating → available
//! after a delay of tokio time, so paused-time tests run hours in microseconds), the 15-clone
//! rule with clone groups, and recording fakes of the pending store, follow-ups and responder.

use crate::domain::{Cluster, Instance, Member, Tags};
use crate::error::{AwsError, Result};
use crate::ports::*;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
struct FakeCluster {
    cluster: Cluster,
    available_at: Instant,
    gone_at: Option<Instant>,
    /// A master password change in progress until then.
    password_until: Option<Instant>,
}

#[derive(Debug, Clone)]
struct FakeInstance {
    instance: Instance,
    available_at: Instant,
    gone_at: Option<Instant>,
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
    /// How long a master password change takes to apply.
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
        c.members = vec![Member {
            instance_id: format!("{id}-1"),
            writer: true,
        }];
        c.endpoint = Some(format!("{id}.cluster-x.rds.local"));
        c.port = Some(5432);
        self.put(c);
        let mut st = lock(&self.state);
        let inst = Instance {
            id: format!("{id}-1"),
            cluster_id: Some(id.into()),
            status: "available".into(),
            class: "db.r6g.large".into(),
        };
        st.instances.insert(
            inst.id.clone(),
            FakeInstance {
                instance: inst,
                available_at: Instant::now(),
                gone_at: None,
            },
        );
    }

    /// Puts a cluster as given (available now).
    pub fn put(&self, cluster: Cluster) {
        let mut st = lock(&self.state);
        st.clusters.insert(
            cluster.id.clone(),
            FakeCluster {
                cluster,
                available_at: Instant::now(),
                gone_at: None,
                password_until: None,
            },
        );
    }

    /// Sets the account's DB cluster and instance quotas (unlimited by default).
    pub fn set_quotas(&self, clusters: u64, instances: u64) {
        let mut st = lock(&self.state);
        st.max_clusters = Some(clusters);
        st.max_instances = Some(instances);
    }

    /// Makes the next call of `operation` fail with `code`.
    pub fn fail_next(&self, operation: &'static str, code: &str) {
        lock(&self.state)
            .failures
            .insert(operation, AwsError::new(operation, code, "injected"));
    }

    /// Keeps a cluster in `status` until cleared (a terminal state, or `modifying`).
    pub fn stick(&self, id: &str, status: &str) {
        lock(&self.state).stuck.insert(id.into(), status.into());
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

    pub fn silent_full_copies(&self) -> u32 {
        lock(&self.state).silent_full_copies
    }

    pub fn cluster_ids(&self) -> Vec<String> {
        let now = Instant::now();
        lock(&self.state)
            .clusters
            .values()
            .filter(|c| c.gone_at.is_none_or(|g| g > now))
            .map(|c| c.cluster.id.clone())
            .collect()
    }

    async fn pause(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }

    /// Makes the next call of `operation` panic (to test that a panic still answers).
    pub fn panic_next(&self, operation: &'static str) {
        lock(&self.state).panics.push(operation);
    }

    fn begin(
        &self,
        operation: &'static str,
    ) -> Result<std::sync::MutexGuard<'_, RdsState>, AwsError> {
        let mut st = lock(&self.state);
        st.calls.push(operation.to_string());
        if let Some(i) = st.panics.iter().position(|p| *p == operation) {
            st.panics.remove(i);
            drop(st);
            panic!("injected panic in {operation}");
        }
        match st.failures.remove(operation) {
            Some(e) => Err(e),
            None => Ok(st),
        }
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
        c.status = match (&fc.gone_at, self.stuck.get(id)) {
            (Some(_), _) => "deleting".into(),
            (None, Some(s)) => s.clone(),
            (None, None) if fc.available_at > now => "creating".into(),
            (None, None) if fc.password_until.is_some_and(|u| u > now) => {
                "resetting-master-credentials".into()
            }
            _ => c.status,
        };
        c.password_pending = fc.password_until.is_some_and(|u| u > now);
        c.members = self
            .instances
            .values()
            .filter(|i| {
                i.instance.cluster_id.as_deref() == Some(id) && i.gone_at.is_none_or(|g| g > now)
            })
            .map(|i| Member {
                instance_id: i.instance.id.clone(),
                writer: true,
            })
            .collect();
        Some(c)
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
}

fn not_found(op: &'static str, what: &str) -> AwsError {
    AwsError::new(
        op,
        if op.contains("Instance") {
            "DBInstanceNotFound"
        } else {
            "DBClusterNotFoundFault"
        },
        format!("{what} not found"),
    )
}

#[async_trait]
impl Rds for FakeRds {
    async fn clusters(&self) -> Result<Vec<Cluster>, AwsError> {
        self.pause().await;
        let st = self.begin("DescribeDBClusters")?;
        let now = Instant::now();
        Ok(st
            .clusters
            .keys()
            .filter_map(|id| st.view(id, now))
            .collect())
    }

    async fn cluster(&self, id: &str) -> Result<Option<Cluster>, AwsError> {
        self.pause().await;
        let st = self.begin("DescribeDBClusters")?;
        Ok(st.view(id, Instant::now()))
    }

    async fn instances(&self, cluster_id: &str) -> Result<Vec<Instance>, AwsError> {
        self.pause().await;
        let st = self.begin("DescribeDBInstances")?;
        let now = Instant::now();
        Ok(st
            .instances
            .keys()
            .filter_map(|id| st.instance_view(id, now))
            .filter(|i| i.cluster_id.as_deref() == Some(cluster_id))
            .collect())
    }

    async fn quotas(&self) -> Result<crate::domain::Quotas, AwsError> {
        self.pause().await;
        let st = self.begin("DescribeAccountAttributes")?;
        let now = Instant::now();
        let used_clusters = st
            .clusters
            .keys()
            .filter(|id| st.view(id, now).is_some())
            .count() as u64;
        let used_instances = st
            .instances
            .keys()
            .filter(|id| st.instance_view(id, now).is_some())
            .count() as u64;
        Ok(crate::domain::Quotas {
            clusters: st.max_clusters.map(|m| (used_clusters, m)),
            instances: st.max_instances.map(|m| (used_instances, m)),
        })
    }

    async fn all_instances(&self) -> Result<Vec<Instance>, AwsError> {
        self.pause().await;
        let st = self.begin("DescribeDBInstances")?;
        let now = Instant::now();
        Ok(st
            .instances
            .keys()
            .filter_map(|id| st.instance_view(id, now))
            .collect())
    }

    async fn restore(&self, r: &RestoreRequest) -> Result<Cluster, AwsError> {
        self.pause().await;
        let mut st = self.begin("RestoreDBClusterToPointInTime")?;
        let now = Instant::now();
        if st.view(&r.cluster_id, now).is_some() {
            return Err(AwsError::new(
                "RestoreDBClusterToPointInTime",
                "DBClusterAlreadyExistsFault",
                "exists",
            ));
        }
        let source = st
            .view(&r.source_cluster_id, now)
            .ok_or_else(|| not_found("RestoreDBClusterToPointInTime", &r.source_cluster_id))?;
        let mut c = Cluster::new(&r.cluster_id, "available");
        c.engine = source.engine.clone();
        c.tags = r.tags.clone();
        c.subnet_group = r.subnet_group.clone();
        c.security_groups = r.security_groups.clone();
        c.endpoint = Some(format!("{}.cluster-x.rds.local", r.cluster_id));
        c.reader_endpoint = Some(format!("{}.cluster-ro-x.rds.local", r.cluster_id));
        c.port = source.port;
        if r.restore_type == RestoreType::CopyOnWrite {
            let group = st.group_of(&r.source_cluster_id);
            let members = st
                .clusters
                .values()
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
            password_until: None,
        };
        st.clusters.insert(r.cluster_id.clone(), fc);
        Ok(st.view(&r.cluster_id, now).unwrap_or(c))
    }

    async fn create_instance(&self, r: &InstanceRequest) -> Result<(), AwsError> {
        self.pause().await;
        let mut st = self.begin("CreateDBInstance")?;
        let now = Instant::now();
        if st.instance_view(&r.instance_id, now).is_some() {
            return Err(AwsError::new(
                "CreateDBInstance",
                "DBInstanceAlreadyExists",
                "exists",
            ));
        }
        if st.view(&r.cluster_id, now).is_none() {
            return Err(not_found("CreateDBCluster", &r.cluster_id));
        }
        let inst = Instance {
            id: r.instance_id.clone(),
            cluster_id: Some(r.cluster_id.clone()),
            status: "available".into(),
            class: r.class.clone(),
        };
        st.instances.insert(
            r.instance_id.clone(),
            FakeInstance {
                instance: inst,
                available_at: now + self.instance_delay,
                gone_at: None,
            },
        );
        Ok(())
    }

    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError> {
        self.pause().await;
        let mut st = self.begin("DeleteDBInstance")?;
        let now = Instant::now();
        let delay = self.delete_delay;
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
        self.pause().await;
        let mut st = self.begin("DeleteDBCluster")?;
        let now = Instant::now();
        let Some(view) = st.view(id, now) else {
            return Ok(Deletion::AlreadyGone);
        };
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
        self.pause().await;
        let mut st = self.begin("ModifyDBCluster")?;
        let until = Instant::now() + self.password_delay;
        match st.clusters.get_mut(cluster_id) {
            Some(c) => {
                c.password_until = Some(until);
                Ok(())
            }
            None => Err(not_found("ModifyDBCluster", cluster_id)),
        }
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.pause().await;
        let mut st = self.begin("AddTagsToResource")?;
        let id = arn.rsplit(':').next().unwrap_or_default().to_string();
        if let Some(c) = st.clusters.get_mut(&id) {
            c.cluster.tags.extend(tags.clone());
        }
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.pause().await;
        let mut st = self.begin("RemoveTagsFromResource")?;
        let id = arn.rsplit(':').next().unwrap_or_default().to_string();
        if let Some(c) = st.clusters.get_mut(&id) {
            c.cluster.tags.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}

pub use crate::adapters::memory::{MemoryPending as FakePending, MemoryResponder as FakeResponder};

/// Records whether the follow-up rule is on, and its target.
#[derive(Default)]
pub struct FakeFollowUps {
    state: Mutex<(bool, Option<String>)>,
    refuse: Mutex<bool>,
}

impl FakeFollowUps {
    /// Makes the next `ensure` fail (EventBridge down, or a missing permission).
    pub fn refuse_next(&self) {
        *lock(&self.refuse) = true;
    }

    pub fn enabled(&self) -> bool {
        lock(&self.state).0
    }

    pub fn target(&self) -> Option<String> {
        lock(&self.state).1.clone()
    }
}

#[async_trait]
impl FollowUps for FakeFollowUps {
    async fn ensure(&self, function_arn: &str) -> Result<(), AwsError> {
        if std::mem::take(&mut *lock(&self.refuse)) {
            return Err(AwsError::new(
                "PutRule",
                "AccessDeniedException",
                "injected",
            ));
        }
        *lock(&self.state) = (true, Some(function_arn.to_string()));
        Ok(())
    }

    async fn stop(&self) -> Result<(), AwsError> {
        lock(&self.state).0 = false;
        Ok(())
    }
}

/// Locks in memory, with the same expiry rule.
#[derive(Default)]
pub struct FakeLocks {
    held: Mutex<BTreeMap<String, i64>>,
}

#[async_trait]
impl Locks for FakeLocks {
    async fn try_lock(&self, name: &str, now: i64, ttl_secs: i64) -> Result<bool> {
        let mut held = lock(&self.held);
        match held.get(name) {
            Some(until) if *until >= now => Ok(false),
            _ => {
                held.insert(name.to_string(), now + ttl_secs);
                Ok(true)
            }
        }
    }

    async fn unlock(&self, name: &str) -> Result<()> {
        lock(&self.held).remove(name);
        Ok(())
    }
}

/// Secrets Manager in memory: secrets by name, with their value, key, tags, policy and state.
#[derive(Default)]
pub struct FakeSecrets {
    pub secrets: Mutex<BTreeMap<String, FakeSecret>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSecret {
    pub arn: String,
    pub value: String,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
    pub policy: Option<String>,
    pub deleted: bool,
}

impl FakeSecrets {
    pub fn all(&self) -> BTreeMap<String, FakeSecret> {
        lock(&self.secrets).clone()
    }
}

#[async_trait]
impl Secrets for FakeSecrets {
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<(SecretRef, Option<String>), AwsError> {
        let mut all = lock(&self.secrets);
        if let Some(s) = all.get(name) {
            return Ok((
                SecretRef {
                    arn: s.arn.clone(),
                    name: name.into(),
                },
                Some(s.value.clone()),
            ));
        }
        let arn = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf");
        let secret = FakeSecret {
            arn: arn.clone(),
            value: value.into(),
            kms_key_id: kms_key_id.map(str::to_string),
            tags: tags.clone(),
            policy: None,
            deleted: false,
        };
        all.insert(name.into(), secret);
        Ok((
            SecretRef {
                arn,
                name: name.into(),
            },
            None,
        ))
    }

    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError> {
        let mut all = lock(&self.secrets);
        let s = all
            .values_mut()
            .find(|s| s.arn == secret_id)
            .ok_or_else(|| {
                AwsError::new(
                    "PutResourcePolicy",
                    "ResourceNotFoundException",
                    "no secret",
                )
            })?;
        s.policy = policy.map(str::to_string);
        Ok(())
    }

    async fn delete(&self, secret_id: &str) -> Result<(), AwsError> {
        if let Some(s) = lock(&self.secrets)
            .values_mut()
            .find(|s| s.arn == secret_id)
        {
            s.deleted = true;
        }
        Ok(())
    }
}

/// KMS in memory: created keys with their policy and whether deletion is scheduled.
#[derive(Default)]
pub struct FakeKeys {
    pub keys: Mutex<BTreeMap<String, (String, bool)>>,
}

impl FakeKeys {
    pub fn all(&self) -> BTreeMap<String, (String, bool)> {
        lock(&self.keys).clone()
    }
}

#[async_trait]
impl Keys for FakeKeys {
    async fn create(
        &self,
        _description: &str,
        policy: &str,
        _tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut keys = lock(&self.keys);
        let id = format!("key-{}", keys.len() + 1);
        keys.insert(id.clone(), (policy.to_string(), false));
        Ok(id)
    }

    async fn set_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        if let Some(k) = lock(&self.keys).get_mut(key_id) {
            k.0 = policy.to_string();
        }
        Ok(())
    }

    async fn retire(&self, key_id: &str) -> Result<(), AwsError> {
        if let Some(k) = lock(&self.keys).get_mut(key_id) {
            k.1 = true;
        }
        Ok(())
    }
}

/// Records every event put.
#[derive(Default)]
pub struct FakeEvents {
    sent: Mutex<Vec<(String, Value)>>,
}

impl FakeEvents {
    pub fn sent(&self) -> Vec<(String, Value)> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Events for FakeEvents {
    async fn put(&self, detail_type: &str, detail: &Value) -> Result<(), AwsError> {
        lock(&self.sent).push((detail_type.to_string(), detail.clone()));
        Ok(())
    }
}

/// Parameters in memory.
#[derive(Default)]
pub struct FakeParameters {
    pub values: Mutex<BTreeMap<String, String>>,
}

impl FakeParameters {
    pub fn set(&self, name: &str, value: &str) {
        lock(&self.values).insert(name.into(), value.into());
    }
}

#[async_trait]
impl Parameters for FakeParameters {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError> {
        Ok(lock(&self.values).get(name).cloned())
    }
}
