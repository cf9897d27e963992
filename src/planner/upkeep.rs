//! Maintenance of one source's pool: count free slots right, make enough copies ahead of demand,
//! give copies their writer, and retire obsolete copies that host no clones. Pure: the
//! executor applies the plan (or, in a dry run, only reports it).

use super::action::{Action, Removal, Tagged};
use super::copy::{copy_restore, copy_writer_class};
use super::pool::{is_pool_copy_of, observe_pool, Pool, Volume, VolumeIndex};
use super::writer::writer_request;
use super::Policy;
use crate::domain::events::LifecycleEvent;
use crate::domain::upkeep::ClusterConfig;
use crate::domain::{ident, tags, Cluster, Instance, InstanceSettings, Tags};
use crate::domain::{InstanceRequest, RestoreRequest};
use serde::Serialize;
use time::OffsetDateTime;

/// What maintenance will do for one source, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpkeepPlan {
    pub cluster_id: String,
    pub target_clone_slots: u32,
    /// Instance class of the writers of new copies.
    pub copy_class: String,
    /// Free slots on volumes usable now (the root and fresh, ready copies).
    pub slots_free: u32,
    /// Slots that copies still being made will bring.
    pub slots_coming: u32,
    /// Fresh copies usable now, and copies being made (new ones included).
    pub copies: u32,
    pub copies_coming: u32,
    #[serde(skip)]
    pub create: Vec<RestoreRequest>,
    pub create_ids: Vec<String>,
    #[serde(skip)]
    pub writers: Vec<InstanceRequest>,
    pub retire: Vec<String>,
    /// Copies kept, with the reason.
    pub kept: Vec<(String, String)>,
    /// Copies newly usable: one ready event each.
    pub ready: Vec<String>,
    pub problem: Option<String>,
    /// All of the above as actions, in the order they are applied.
    #[serde(skip)]
    pub actions: Vec<Action>,
}

pub fn plan_upkeep(
    cfg: &ClusterConfig,
    clusters: &[Cluster],
    instances: &[Instance],
    policy: &Policy,
    now: OffsetDateTime,
) -> UpkeepPlan {
    let pol = policy.for_source(Some(cfg));
    let mut plan = UpkeepPlan {
        cluster_id: cfg.cluster_id.clone(),
        target_clone_slots: cfg.target_clone_slots,
        copy_class: pol.copy_instance_class.clone(),
        ..UpkeepPlan::default()
    };
    let Some(pool) = observe_pool(&cfg.cluster_id, clusters, &pol, pol.max_clones_per_source)
    else {
        plan.problem = Some(format!("source cluster {} not found", cfg.cluster_id));
        retire_orphaned_copies(&mut plan, cfg, clusters, &pol);
        let settings = InstanceSettings::default();
        plan.actions = actions(&plan, clusters, &settings, &cfg.cluster_id);
        return plan;
    };
    if pool.root.status.is_cloneable() && pool.root.has_writer {
        plan.slots_free += pool.root.free();
    }
    for copy in &pool.copies {
        consider_copy(&mut plan, copy, clusters, instances, &pol, cfg, now);
    }
    make_copies(&mut plan, &pool, clusters, &pol, now);
    let settings = writer_settings(&pool.root.cluster_id, clusters, instances);
    plan.actions = actions(&plan, clusters, &settings, &pool.root.cluster_id);
    plan
}

/// Enough new copies to make up the shortfall of slots against the target (each copy brings
/// `max_clones_per_source` of them).
fn make_copies(
    plan: &mut UpkeepPlan,
    pool: &Pool,
    clusters: &[Cluster],
    pol: &Policy,
    now: OffsetDateTime,
) {
    let shortfall = plan
        .target_clone_slots
        .saturating_sub(plan.slots_free + plan.slots_coming);
    let per_copy = pol.max_clones_per_source.max(1);
    for i in 0..shortfall.div_ceil(per_copy) {
        let seed = format!("maintenance-{i}");
        let r = copy_restore(pool, clusters, &plan.cluster_id, pol, now, &seed);
        plan.create_ids.push(r.cluster_id.clone());
        plan.create.push(r);
    }
    plan.copies_coming += plan.create.len() as u32;
}

/// The pool copies of `root` that are obsolete (too old, or failed) and host no clone: what
/// retiring would remove.
pub fn obsolete_copies(
    root: &str,
    clusters: &[Cluster],
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<String> {
    let Some(pool) = observe_pool(root, clusters, policy, policy.max_clones_per_source) else {
        return vec![];
    };
    pool.copies
        .iter()
        .filter(|c| !c.status.is_deleting() && c.clones.is_empty())
        .filter(|c| {
            let age = c.data_timestamp.map(|d| now - d).unwrap_or_default();
            age >= policy.max_copy_age || c.status.is_terminal()
        })
        .map(|c| c.cluster_id.clone())
        .collect()
}

/// How the root's writer is set up: every copy's writer is set up the same (never public).
pub fn writer_settings(
    root: &str,
    clusters: &[Cluster],
    instances: &[Instance],
) -> InstanceSettings {
    let writer = clusters
        .iter()
        .find(|c| c.id == root)
        .and_then(|c| c.writer());
    let settings = instances
        .iter()
        .filter(|i| i.cluster_id.as_deref() == Some(root))
        .find(|i| writer.is_none_or(|w| w == i.id))
        .map(|i| i.settings.clone())
        .unwrap_or_default();
    InstanceSettings {
        publicly_accessible: false,
        ..settings
    }
}

/// The plan as actions: each new copy and its writer (Aurora clones only a cluster with an
/// instance), writers for copies that lack one, retirements with their events, ready events.
fn actions(
    plan: &UpkeepPlan,
    clusters: &[Cluster],
    settings: &InstanceSettings,
    root: &str,
) -> Vec<Action> {
    let find = |id: &str| clusters.iter().find(|c| c.id == id);
    let engine = find(root).map(|c| c.engine.clone()).unwrap_or_default();
    let mut out = vec![];
    for r in &plan.create {
        out.push(Action::Restore(r.clone()));
        out.push(Action::CreateInstance(InstanceRequest {
            instance_id: ident::writer_instance_id(&r.cluster_id),
            cluster_id: r.cluster_id.clone(),
            engine: engine.clone(),
            class: plan.copy_class.clone(),
            tags: r.tags.clone(),
            settings: settings.clone(),
        }));
    }
    out.extend(plan.writers.iter().cloned().map(Action::CreateInstance));
    for c in plan.retire.iter().filter_map(|id| find(id)) {
        out.push(Action::RemoveCluster(Removal::of(c)));
    }
    for c in plan.ready.iter().filter_map(|id| find(id)) {
        out.push(Action::Publish(LifecycleEvent::copy_ready(c)));
        out.push(Action::Retag {
            targets: vec![Tagged::Rds(c.arn.clone())],
            add: [(tags::READY_EVENT.to_string(), "sent".to_string())].into(),
            remove: vec![],
        });
    }
    out
}

/// Copies of a root that is gone can host no new clone: each is retired once no clone stands
/// on it (a copy the ledger holds; a cluster merely tagged as one is not a copy).
fn retire_orphaned_copies(
    plan: &mut UpkeepPlan,
    cfg: &ClusterConfig,
    clusters: &[Cluster],
    policy: &Policy,
) {
    let index = VolumeIndex::new(clusters);
    let copies = clusters.iter().filter(|c| {
        is_pool_copy_of(c, &cfg.cluster_id, &policy.manager) && !c.status.is_deleting()
    });
    for c in copies {
        let hosted = index.clones_on(c).len();
        if hosted == 0 && cfg.purge_obsolete_copies {
            plan.retire.push(c.id.clone());
        } else {
            let why = format!(
                "its root {} is gone; it hosts {hosted} clones",
                cfg.cluster_id
            );
            plan.kept.push((c.id.clone(), why));
        }
    }
}

/// Where one copy of the pool stands: retired or kept when obsolete; otherwise fresh (its free
/// slots count now) or being made (they count as coming), given its writer where it lacks one.
fn consider_copy(
    plan: &mut UpkeepPlan,
    copy: &Volume,
    clusters: &[Cluster],
    instances: &[Instance],
    pol: &Policy,
    cfg: &ClusterConfig,
    now: OffsetDateTime,
) {
    if copy.status.is_deleting() {
        return;
    }
    let age = copy.data_timestamp.map(|d| now - d).unwrap_or_default();
    if age >= pol.max_copy_age || copy.status.is_terminal() {
        return obsolete(plan, copy, cfg);
    }
    let Some(cluster) = clusters.iter().find(|c| c.id == copy.cluster_id) else {
        return;
    };
    let writer = instances
        .iter()
        .find(|i| i.cluster_id.as_deref() == Some(copy.cluster_id.as_str()));
    let being_made = format!("being made ({})", copy.status);
    match writer {
        None => {
            let settings = writer_settings(&cfg.cluster_id, clusters, instances);
            let class = copy_writer_class(pol, cluster);
            match writer_request(cluster, &class, &Tags::new(), Some(&settings)) {
                Some(w) => {
                    plan.writers.push(w);
                    coming(plan, copy, "being made: adding its writer".into());
                }
                None => coming(plan, copy, being_made),
            }
        }
        Some(w) if copy.status.is_available() && w.status.is_available() => {
            fresh(plan, copy, cluster)
        }
        Some(_) => coming(plan, copy, being_made),
    }
}

/// An obsolete copy is retired once it hosts no clone (where the config allows purging).
fn obsolete(plan: &mut UpkeepPlan, copy: &Volume, cfg: &ClusterConfig) {
    let id = copy.cluster_id.clone();
    match (copy.clones.len(), cfg.purge_obsolete_copies) {
        (0, true) => plan.retire.push(id),
        (0, false) => plan
            .kept
            .push((id, "obsolete; purge-obsolete-copies? is false".into())),
        (n, _) => plan
            .kept
            .push((id, format!("obsolete, but hosts {n} clones"))),
    }
}

/// A copy still being made: its slots are coming.
fn coming(plan: &mut UpkeepPlan, copy: &Volume, why: String) {
    plan.slots_coming += copy.free();
    plan.copies_coming += 1;
    plan.kept.push((copy.cluster_id.clone(), why));
}

/// A copy usable now: its slots are free, and its ready event goes out once.
fn fresh(plan: &mut UpkeepPlan, copy: &Volume, cluster: &Cluster) {
    plan.slots_free += copy.free();
    plan.copies += 1;
    if !cluster.tags.contains_key(tags::READY_EVENT) {
        plan.ready.push(copy.cluster_id.clone());
    }
    let why = format!("fresh: {} clones, {} free", copy.clones.len(), copy.free());
    plan.kept.push((copy.cluster_id.clone(), why));
}

#[cfg(test)]
mod tests;
