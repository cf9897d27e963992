//! What a new pool copy of a root is: its restore (a full copy, owned by the manager's pool),
//! its writer's class and its Serverless v2 range. A request that finds no free slot makes one
//! (`progress`), and so does maintenance, ahead of demand (`upkeep`).

use super::pool::Pool;
use super::Policy;
use crate::domain::{
    capacity, ident, Cluster, Lineage, Ownership, RestoreRequest, RestoreType, Role, Tags,
};
use time::OffsetDateTime;

/// A pool copy of the root. It belongs to the manager's pool, never to the requesting resource:
/// the resource's clone is placed on it, and maintenance may retire the copy, never the clone.
pub fn copy_restore(
    pool: &Pool,
    all: &[Cluster],
    root: &str,
    policy: &Policy,
    now: OffsetDateTime,
    seed: &str,
) -> RestoreRequest {
    let root_cluster = all.iter().find(|c| c.id == pool.root.cluster_id);
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
        tags: copy_tags(policy, root, now),
        capacity: (policy.copy_instance_class == capacity::SERVERLESS)
            .then(|| copy_capacity(policy, root_cluster)),
        settings: root_cluster.map(|c| c.settings.clone()).unwrap_or_default(),
    }
}

/// A copy's ownership (the manager's pool: no stack, no resource, no request) and lineage.
fn copy_tags(policy: &Policy, root: &str, now: OffsetDateTime) -> Tags {
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
    tags
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
