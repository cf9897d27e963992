//! The next step of a pending Create (or replacing Update): restore the clone, give it a writer,
//! wait, answer. Called afresh on every follow-up with what was observed then, so a step lost to
//! a crash or a timeout is simply planned again.

use super::action::Action;
use super::credentials::{password_plan, secret_name};
use super::pool::{copy_in_progress, observe_pool, place, Pool, VolumeRole};
use super::Policy;
use crate::domain::capacity;
use crate::domain::events::InstanceReady;
use crate::domain::expiry::Expiry;
use crate::domain::properties::CloneProperties;
use crate::domain::upkeep::ClusterConfig;
use crate::domain::Quotas;
use crate::domain::{
    ident, is_instance_terminal, is_terminal, tags, Cluster, Instance, InstanceRequest,
    InstanceSettings, Lineage, Ownership, RestoreRequest, RestoreType, Role, Tags,
};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The request being served, as the planner needs it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub props: &'a CloneProperties,
    pub cluster_id: &'a str,
    /// The identifier to take instead when `cluster_id` is another cluster's
    /// (`NoFailOnExistingCluster`).
    pub fallback_id: Option<&'a str>,
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub request_id: &'a str,
    pub deadline: OffsetDateTime,
    /// An in-place Update that works on the resource's current clone (made by an earlier request).
    pub adopted: bool,
}

/// What was observed for the request, in one of two shapes: the request's clone exists, or it
/// does not and the whole account was seen under the root's placement lease (so that a clone
/// is placed on a view no other placement can change meanwhile).
#[derive(Debug, Clone)]
pub enum Observed {
    Clone {
        cluster: Box<Cluster>,
        /// The cluster's instances.
        instances: Vec<Instance>,
        /// What the source's writer is set up with (observed while the clone has no writer).
        source_writer: Option<InstanceSettings>,
    },
    Absent {
        clusters: Vec<Cluster>,
        /// Account quotas (`None` where AWS did not say).
        quotas: Option<Quotas>,
        /// The source's entry in the maintenance config, if it has one.
        source_config: Option<ClusterConfig>,
        /// What the root's writer is set up with (for the writer of a new pool copy).
        root_writer: Option<InstanceSettings>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Act(Action),
    Wait(String),
    Ready(Ready),
    Fail(String),
}

/// A usable clone: what CloudFormation gets, and the event the users' automation gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub data: BTreeMap<String, String>,
    /// Boxed: it waits in the decided answer, beside much smaller states.
    pub event: Box<InstanceReady>,
}

pub fn next_step(req: &Request, seen: &Observed, policy: &Policy, now: OffsetDateTime) -> Step {
    let step = match seen {
        Observed::Clone {
            cluster,
            instances,
            source_writer,
        } => step_for_clone(req, cluster, instances, source_writer.as_ref(), policy),
        Observed::Absent {
            clusters,
            quotas,
            source_config,
            root_writer,
        } => match quota_shortfall(*quotas) {
            Some(reason) => Step::Fail(reason),
            None => {
                let policy = policy.for_source(source_config.as_ref());
                step_for_absent_clone(req, clusters, root_writer.as_ref(), &policy, now)
            }
        },
    };
    match step {
        Step::Ready(_) | Step::Fail(_) => step,
        _ if now >= req.deadline => Step::Fail(deadline_reason(&step, req)),
        _ => step,
    }
}

fn deadline_reason(step: &Step, req: &Request) -> String {
    let what = match step {
        Step::Wait(w) => w.clone(),
        Step::Act(Action::Restore(r)) => format!("restore of {} not started", r.cluster_id),
        Step::Act(Action::CreateInstance(i)) => {
            format!("writer instance {} not created", i.instance_id)
        }
        Step::Act(Action::SetPassword { plan, .. }) => format!(
            "master password of {} not set (secret {})",
            req.cluster_id, plan.secret_name
        ),
        _ => "the next step".to_string(),
    };
    let copy_note = if what.contains("pool copy") {
        " A full copy of a large database can take longer than CloudFormation's one-hour limit: set target-clone-slots for this source in the maintenance config so that copies are made ahead of demand."
    } else {
        ""
    };
    format!(
        "timed out before clone {} was usable; still pending: {what}.{copy_note}",
        req.cluster_id
    )
}

fn is_ours(req: &Request, cluster: &Cluster, policy: &Policy) -> bool {
    cluster.ownership().is_some_and(|o| {
        o.request_id.as_deref() == Some(req.request_id)
            || (req.adopted
                && o.is_clone_of_resource(&policy.manager, req.stack_id, req.logical_id))
    })
}

fn step_for_clone(
    req: &Request,
    cluster: &Cluster,
    instances: &[Instance],
    source_writer: Option<&InstanceSettings>,
    policy: &Policy,
) -> Step {
    if !is_ours(req, cluster, policy) {
        return match req.fallback_id {
            Some(other) if other != cluster.id => Step::Act(Action::Retarget {
                cluster_id: other.to_string(),
            }),
            _ => Step::Fail(format!(
                "ClusterId {} already exists and was not created by this request",
                cluster.id
            )),
        };
    }
    if is_terminal(&cluster.status) {
        return Step::Fail(format!(
            "clone {} entered state {}, from which it cannot become usable",
            cluster.id, cluster.status
        ));
    }
    let writer = instances
        .iter()
        .find(|i| Some(i.id.as_str()) == cluster.writer())
        .or_else(|| instances.first());
    match writer {
        None => writer_step(
            cluster,
            req.props
                .instance_class
                .as_deref()
                .unwrap_or(&policy.default_instance_class),
            &req.props.tags,
            source_writer,
        ),
        Some(i) if is_instance_terminal(&i.status) => Step::Fail(format!(
            "writer instance {} of clone {} entered state {}",
            i.id, cluster.id, i.status
        )),
        Some(i) if cluster.is_available() && i.status == "available" => {
            usable_clone(req, cluster, &i.id, policy)
        }
        Some(i) => Step::Wait(format!(
            "clone {} is {}, writer instance {} is {}",
            cluster.id, cluster.status, i.id, i.status
        )),
    }
}

/// The clone and its writer are available: set its own password, wait for RDS to apply it, or
/// answer. RDS shows `available` while a new master password is still pending, then
/// `resetting-master-credentials`: until both are over, production's password still opens it.
fn usable_clone(req: &Request, cluster: &Cluster, writer: &str, policy: &Policy) -> Step {
    if let Some(plan) = password_plan(req, cluster, policy) {
        return Step::Act(Action::SetPassword {
            cluster: Box::new(cluster.clone()),
            plan,
        });
    }
    if req.props.set_password && cluster.password_pending {
        return Step::Wait(format!(
            "the new master password of clone {} is not yet in force",
            cluster.id
        ));
    }
    Step::Ready(ready(req, cluster, writer))
}

/// Creates the writer of `cluster` where RDS accepts it (while creating too, in practice), set
/// up as its source's writer is (parameter group, CA), and never publicly accessible.
fn writer_step(
    cluster: &Cluster,
    class: &str,
    user_tags: &Tags,
    source_writer: Option<&InstanceSettings>,
) -> Step {
    if matches!(
        cluster.status.as_str(),
        "creating" | "available" | "backing-up"
    ) {
        let mut tags = tags::user_tags(user_tags);
        tags.extend(
            cluster
                .tags
                .iter()
                .filter(|(k, _)| k.starts_with(tags::PREFIX))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Step::Act(Action::CreateInstance(InstanceRequest {
            instance_id: ident::writer_instance_id(&cluster.id),
            cluster_id: cluster.id.clone(),
            engine: cluster.engine.clone(),
            class: class.to_string(),
            tags,
            settings: InstanceSettings {
                publicly_accessible: false,
                ..source_writer.cloned().unwrap_or_default()
            },
        }))
    } else {
        Step::Wait(format!(
            "cluster {} is {}, waiting to add its writer instance",
            cluster.id, cluster.status
        ))
    }
}

fn step_for_absent_clone(
    req: &Request,
    all: &[Cluster],
    root_writer: Option<&InstanceSettings>,
    policy: &Policy,
    now: OffsetDateTime,
) -> Step {
    let source = &req.props.source_cluster_id;
    let Some(pool) = observe_pool(source, all, policy, policy.max_clones_per_source) else {
        return Step::Fail(format!(
            "SourceClusterId {source}: no such cluster in this account and region"
        ));
    };
    if let Err(reason) = preflight(&pool) {
        return Step::Fail(reason);
    }
    let root = all.iter().find(|c| c.id == *source);
    if !root.is_some_and(|r| crate::domain::access::source_allowed(&policy.allowed_sources, r)) {
        return Step::Fail(format!(
            "SourceClusterId {source} is not among the sources this clone manager may clone (its AllowedSources parameter)"
        ));
    }
    if let Err(reason) = pausable(req, all.iter().find(|c| c.id == *source)) {
        return Step::Fail(reason);
    }
    let since = req.props.copy_created_since;
    if let Some(p) = place(&pool, policy, now, since) {
        let data_timestamp = match p.role {
            VolumeRole::Root => now,
            VolumeRole::Copy => pool
                .copies
                .iter()
                .find(|c| c.cluster_id == p.volume_id)
                .and_then(|c| c.data_timestamp)
                .unwrap_or(now),
        };
        if let Some(volume) = all.iter().find(|c| c.id == p.volume_id) {
            let mut restore = clone_restore(req, volume, source, data_timestamp, policy);
            if let Some(spec) = req.props.expiry {
                restore.tags.extend(Expiry::tags(spec.at(now), spec.action));
            }
            return Step::Act(Action::Restore(restore));
        }
    }
    if !req.props.copy_ok {
        return Step::Fail(shortfall_reason(&pool, policy, now));
    }
    match copy_in_progress(&pool, policy, now, since) {
        Some(copy) => match all.iter().find(|c| c.id == copy.cluster_id) {
            Some(c) if c.writer().is_none() => {
                match writer_step(c, &copy_writer_class(policy, c), &Tags::new(), root_writer) {
                    Step::Act(Action::CreateInstance(i)) => Step::Act(Action::CreateInstance(i)),
                    _ => Step::Wait(format!(
                        "pool copy {} of {source} is {} (a full copy)",
                        c.id, c.status
                    )),
                }
            }
            _ => Step::Wait(format!(
                "pool copy {} of {source} is {} (a full copy)",
                copy.cluster_id, copy.status
            )),
        },
        None => Step::Act(Action::Restore(copy_restore(
            &pool,
            all,
            source,
            policy,
            now,
            req.request_id,
        ))),
    }
}

/// `MinCapacity: 0` (auto-pause) only where the source's engine version supports it.
fn pausable(req: &Request, root: Option<&Cluster>) -> Result<(), String> {
    let (Some(c), Some(root)) = (req.props.capacity, root) else {
        return Ok(());
    };
    let version = root.engine_version.as_deref().unwrap_or_default();
    if c.min == 0.0 && !crate::domain::capacity::auto_pause_supported(&root.engine, version) {
        return Err(format!(
            "invalid property MinCapacity: 0 (auto-pause) needs Aurora PostgreSQL 13.15+, 14.12+, 15.7+, 16.3+ or Aurora MySQL 3.08+; {} is {} {version}",
            root.id, root.engine
        ));
    }
    Ok(())
}

/// A clone (or a pool copy) needs one more DB cluster and one more instance in the account.
fn quota_shortfall(quotas: Option<Quotas>) -> Option<String> {
    let q = quotas?;
    for (what, usage) in [("DB clusters", q.clusters), ("DB instances", q.instances)] {
        if let Some((used, max)) = usage {
            if used >= max {
                return Some(format!(
                    "account quota: {used}/{max} {what} in use, and a clone needs one more; raise the RDS quota or delete unused clusters"
                ));
            }
        }
    }
    None
}

/// What would make a restore fail: refuse early with the reason.
fn preflight(pool: &Pool) -> Result<(), String> {
    let root = &pool.root;
    if !crate::domain::is_cloneable(&root.status) && pool.copies.is_empty() {
        return Err(format!(
            "SourceClusterId {}: the cluster is {} and cannot be cloned now",
            root.cluster_id, root.status
        ));
    }
    if !root.has_writer && pool.copies.is_empty() {
        return Err(format!("SourceClusterId {}: the cluster has no DB instance; Aurora can only clone a cluster with at least one instance", root.cluster_id));
    }
    Ok(())
}

fn shortfall_reason(pool: &Pool, policy: &Policy, now: OffsetDateTime) -> String {
    let fresh = pool
        .copies
        .iter()
        .filter(|c| c.is_eligible(policy, now, None) || c.free() == 0)
        .count();
    format!(
        "no free clone slot for SourceClusterId {}: the root hosts {}/{} clones and {} fresh pool copies are full, and CopyOk is false. \
         Set CopyOk to true to wait for a full copy, or raise target-clone-slots for cluster-id {} in the maintenance config so that maintenance keeps free slots ready.",
        pool.root.cluster_id,
        pool.root.clones.len(),
        pool.root.slots,
        fresh,
        pool.root.cluster_id
    )
}

fn clone_restore(
    req: &Request,
    volume: &Cluster,
    root: &str,
    data_timestamp: OffsetDateTime,
    policy: &Policy,
) -> RestoreRequest {
    let mut tags = tags::user_tags(&req.props.tags);
    Ownership {
        managed_by: policy.manager.clone(),
        role: Role::Clone,
        stack_id: Some(req.stack_id.to_string()),
        logical_id: Some(req.logical_id.to_string()),
        request_id: Some(req.request_id.to_string()),
    }
    .write(&mut tags);
    Lineage {
        root: root.to_string(),
        source: volume.id.clone(),
        data_timestamp,
    }
    .write(&mut tags);
    RestoreRequest {
        cluster_id: req.cluster_id.to_string(),
        source_cluster_id: volume.id.clone(),
        restore_type: RestoreType::CopyOnWrite,
        subnet_group: volume.subnet_group.clone(),
        security_groups: volume.security_groups.clone(),
        tags,
        capacity: req.props.capacity,
        settings: volume.settings.clone(),
    }
}

/// A pool copy of the root. It belongs to the manager's pool, never to the requesting resource
/// (defect 4: the original tagged the CloudFormation-owned clone as a copy, and maintenance
/// deleted it under the stack).
pub fn copy_restore(
    pool: &Pool,
    all: &[Cluster],
    root: &str,
    policy: &Policy,
    now: OffsetDateTime,
    seed: &str,
) -> RestoreRequest {
    let root_cluster = all.iter().find(|c| c.id == pool.root.cluster_id);
    let mut tags = Tags::new();
    Ownership {
        managed_by: policy.manager.clone(),
        role: Role::Copy,
        stack_id: None,
        logical_id: None,
        request_id: None,
    }
    .write(&mut tags);
    Lineage {
        root: root.to_string(),
        source: root.to_string(),
        data_timestamp: now,
    }
    .write(&mut tags);
    RestoreRequest {
        cluster_id: ident::generated_clone_id(
            &format!("{}{root}-copy", policy.id_prefix),
            now,
            seed,
        ),
        source_cluster_id: root.to_string(),
        restore_type: RestoreType::FullCopy,
        subnet_group: root_cluster.and_then(|c| c.subnet_group.clone()),
        security_groups: root_cluster
            .map(|c| c.security_groups.clone())
            .unwrap_or_default(),
        tags,
        capacity: (policy.copy_instance_class == capacity::SERVERLESS)
            .then(|| copy_capacity(policy, root_cluster)),
        settings: root_cluster.map(|c| c.settings.clone()).unwrap_or_default(),
    }
}

/// The writer class of pool copy `copy`: the policy's, except that a copy made without a
/// Serverless v2 range (made before, or restored by hand) gets the default provisioned class,
/// since RDS refuses a `db.serverless` instance in such a cluster.
pub fn copy_writer_class(policy: &Policy, copy: &Cluster) -> String {
    match policy.copy_instance_class == capacity::SERVERLESS && copy.capacity.is_none() {
        true => policy.default_instance_class.clone(),
        false => policy.copy_instance_class.clone(),
    }
}

/// The most a pool copy's Serverless v2 writer scales to by default: it serves no queries (the
/// clones have writers of their own), it only keeps the volume cloneable.
pub const COPY_MAX_CAPACITY: f64 = 2.0;

/// The Serverless v2 range of a pool copy's writer: a minimum of 0 (auto-pause: storage cost
/// only) where the root's engine version supports it, else the lowest minimum, 0.5; the
/// source's `copy-min-capacity`/`copy-max-capacity` override either end (a minimum of 0 where
/// the version cannot pause becomes 0.5).
pub fn copy_capacity(policy: &Policy, root: Option<&Cluster>) -> capacity::Capacity {
    let pausable = root.is_some_and(|c| {
        capacity::auto_pause_supported(&c.engine, c.engine_version.as_deref().unwrap_or(""))
    });
    let floor = if pausable { 0.0 } else { 0.5 };
    let min = policy.copy_min_capacity.unwrap_or(floor).max(floor);
    let max = policy
        .copy_max_capacity
        .unwrap_or(COPY_MAX_CAPACITY)
        .max(min)
        .max(1.0);
    capacity::Capacity { min, max }
}

fn ready(req: &Request, cluster: &Cluster, instance_id: &str) -> Ready {
    Ready {
        data: data(cluster, instance_id),
        event: Box::new(InstanceReady::of_clone(
            cluster,
            instance_id,
            req.stack_id,
            req.logical_id,
        )),
    }
}

/// The `Data` CloudFormation exposes through `Fn::GetAtt`.
pub fn data(cluster: &Cluster, instance_id: &str) -> BTreeMap<String, String> {
    let lineage = cluster.lineage();
    // The secret the clone's deed records (a tag could name anyone's).
    let secret_arn = cluster.secret_arn().unwrap_or_default().to_string();
    let mut d = BTreeMap::new();
    d.insert("Arn".into(), cluster.arn.clone());
    d.insert("ClusterId".into(), cluster.id.clone());
    d.insert(
        "Endpoint".into(),
        cluster.endpoint.clone().unwrap_or_default(),
    );
    d.insert(
        "ReaderEndpoint".into(),
        cluster.reader_endpoint.clone().unwrap_or_default(),
    );
    d.insert(
        "Port".into(),
        cluster.port.map(|p| p.to_string()).unwrap_or_default(),
    );
    d.insert("InstanceId".into(), instance_id.to_string());
    d.insert(
        "SourceClusterId".into(),
        lineage
            .as_ref()
            .map(|l| l.source.clone())
            .unwrap_or_default(),
    );
    d.insert(
        "DataTimestamp".into(),
        lineage
            .map(|l| tags::format_time(l.data_timestamp))
            .unwrap_or_default(),
    );
    d.insert(
        "PasswordSecret".into(),
        if secret_arn.is_empty() {
            String::new()
        } else {
            secret_name(&secret_arn)
        },
    );
    d.insert(
        "KmsKeyId".into(),
        cluster
            .tags
            .get(tags::PASSWORD_KEY)
            .cloned()
            .unwrap_or_default(),
    );
    d.insert("PasswordSecretArn".into(), secret_arn);
    d
}

#[cfg(test)]
mod tests;
