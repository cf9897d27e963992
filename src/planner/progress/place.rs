//! The request's clone does not exist yet: refuse what cannot work (no such source, a source
//! the stack does not allow, one that cannot be cloned now, auto-pause on a version without
//! it), place the clone on a volume with a free slot, or, where none has one and the request
//! allows it, make a pool copy and wait for it.

use super::{Pending, Request, Step};
use crate::domain::expiry::Expiry;
use crate::domain::{
    access, capacity, tags, Cluster, InstanceSettings, Lineage, Ownership, RestoreRequest,
    RestoreType, Role, Tags,
};
use crate::planner::action::Action;
use crate::planner::copy::{copy_restore, copy_writer_class};
use crate::planner::pool::{copy_in_progress, observe_pool, place, Pool, VolumeRole};
use crate::planner::writer::writer_request;
use crate::planner::Policy;
use time::OffsetDateTime;

pub(super) fn step_for_absent_clone(
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
    if let Err(reason) = admissible(req, &pool, all, policy) {
        return Step::Fail(reason);
    }
    if let Some(restore) = placed_restore(req, &pool, all, policy, now) {
        return Step::Act(Action::Restore(restore));
    }
    if !req.props.copy_ok {
        return Step::Fail(shortfall_reason(&pool, policy, now));
    }
    copy_step(req, &pool, all, root_writer, policy, now)
}

/// What makes the request impossible, refused before anything is made.
fn admissible(req: &Request, pool: &Pool, all: &[Cluster], policy: &Policy) -> Result<(), String> {
    preflight(pool)?;
    let source = &req.props.source_cluster_id;
    let root = all.iter().find(|c| c.id == *source);
    if !root.is_some_and(|r| access::source_allowed(&policy.allowed_sources, r)) {
        return Err(format!(
            "SourceClusterId {source} is not among the sources this clone manager may clone (its AllowedSources parameter)"
        ));
    }
    pausable(req, root)
}

/// The clone's restore onto the volume the pool places it on, if one has a free slot for it.
fn placed_restore(
    req: &Request,
    pool: &Pool,
    all: &[Cluster],
    policy: &Policy,
    now: OffsetDateTime,
) -> Option<RestoreRequest> {
    let p = place(pool, policy, now, req.props.copy_created_since)?;
    let data_timestamp = match p.role {
        VolumeRole::Root => now,
        VolumeRole::Copy => pool
            .copies
            .iter()
            .find(|c| c.cluster_id == p.volume_id)
            .and_then(|c| c.data_timestamp)
            .unwrap_or(now),
    };
    let volume = all.iter().find(|c| c.id == p.volume_id)?;
    let source = &req.props.source_cluster_id;
    let mut restore = clone_restore(req, volume, source, data_timestamp, policy);
    if let Some(spec) = req.props.expiry {
        restore.tags.extend(Expiry::tags(spec.at(now), spec.action));
    }
    Some(restore)
}

/// No volume has a free slot: wait for a copy being made (giving it its writer once RDS takes
/// it), or make one.
fn copy_step(
    req: &Request,
    pool: &Pool,
    all: &[Cluster],
    root_writer: Option<&InstanceSettings>,
    policy: &Policy,
    now: OffsetDateTime,
) -> Step {
    let source = &req.props.source_cluster_id;
    let Some(copy) = copy_in_progress(pool, policy, now, req.props.copy_created_since) else {
        let restore = copy_restore(pool, all, source, policy, now, req.request_id);
        return Step::Act(Action::Restore(restore));
    };
    let writer = all
        .iter()
        .find(|c| c.id == copy.cluster_id && c.writer().is_none())
        .and_then(|c| {
            let class = copy_writer_class(policy, c);
            writer_request(c, &class, &Tags::new(), root_writer)
        });
    match writer {
        Some(i) => Step::Act(Action::CreateInstance(i)),
        None => Step::Wait(Pending::on_copy(format!(
            "pool copy {} of {source} is {} (a full copy)",
            copy.cluster_id, copy.status
        ))),
    }
}

/// `MinCapacity: 0` (auto-pause) only where the source's engine version supports it.
fn pausable(req: &Request, root: Option<&Cluster>) -> Result<(), String> {
    let (Some(c), Some(root)) = (req.props.capacity, root) else {
        return Ok(());
    };
    let version = root.engine_version.as_deref().unwrap_or_default();
    if c.min == 0.0 && !capacity::auto_pause_supported(&root.engine, version) {
        return Err(format!(
            "invalid property MinCapacity: 0 (auto-pause) needs Aurora PostgreSQL 13.15+, 14.12+, 15.7+, 16.3+ or Aurora MySQL 3.08+; {} is {} {version}",
            root.id, root.engine
        ));
    }
    Ok(())
}

/// What would make a restore fail: refuse early with the reason.
fn preflight(pool: &Pool) -> Result<(), String> {
    let root = &pool.root;
    if !root.status.is_cloneable() && pool.copies.is_empty() {
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

/// Why no slot can be had now, and how to get one.
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

/// The clone's restore: copy-on-write from `volume`, owned by the request's resource, with its
/// lineage (the root, the volume, and how old its data is).
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
