//! A root's pool: the root itself and the full copies this stack made of it. Each is a storage
//! volume with a fixed number of copy-on-write slots; this module counts them and picks where a
//! new clone goes (the root first, then fresh copies newest first).

use super::Policy;
use crate::domain::{tags, Cluster, ClusterStatus};
use std::collections::BTreeSet;
use std::collections::HashMap;
use time::OffsetDateTime;

/// One storage volume that can host clones.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub cluster_id: String,
    pub role: VolumeRole,
    pub status: ClusterStatus,
    /// When its data was taken from the root (`None` for the root: its data is live).
    pub data_timestamp: Option<OffsetDateTime>,
    /// Clusters occupying one of its slots, in any state until gone.
    pub clones: BTreeSet<String>,
    pub slots: u32,
    /// Has a writer instance (a cluster without one cannot be cloned).
    pub has_writer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeRole {
    Root,
    Copy,
}

impl Volume {
    pub fn free(&self) -> u32 {
        self.slots.saturating_sub(self.clones.len() as u32)
    }

    fn age(&self, now: OffsetDateTime) -> std::time::Duration {
        let data = self.data_timestamp.unwrap_or(now);
        (now - data).try_into().unwrap_or_default()
    }

    /// Can host a new clone now, with data no older than `since`.
    pub fn is_eligible(
        &self,
        policy: &Policy,
        now: OffsetDateTime,
        since: Option<OffsetDateTime>,
    ) -> bool {
        let fresh = match self.role {
            VolumeRole::Root => true,
            VolumeRole::Copy => {
                self.age(now) < policy.max_copy_age
                    && match (since, self.data_timestamp) {
                        (Some(s), Some(d)) => d > s,
                        _ => true,
                    }
            }
        };
        let usable = match self.role {
            VolumeRole::Root => self.status.is_cloneable(),
            VolumeRole::Copy => self.status.is_available() && self.has_writer,
        };
        fresh && usable && self.free() > 0
    }
}

/// The root and its copies, as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub root: Volume,
    /// Pool copies of the root made by this stack, newest data first.
    pub copies: Vec<Volume>,
}

/// Builds the pool of `root_id` from every observed cluster. `None` when the root is not there.
pub fn observe_pool(
    root_id: &str,
    clusters: &[Cluster],
    policy: &Policy,
    slots: u32,
) -> Option<Pool> {
    let root = clusters.iter().find(|c| c.id == root_id)?;
    let index = VolumeIndex::new(clusters);
    let mut copies: Vec<Volume> = clusters
        .iter()
        .filter(|c| is_pool_copy_of(c, root_id, &policy.manager))
        .map(|c| volume(c, VolumeRole::Copy, &index, slots))
        .collect();
    copies.sort_by(|a, b| {
        b.data_timestamp
            .cmp(&a.data_timestamp)
            .then(a.cluster_id.cmp(&b.cluster_id))
    });
    Some(Pool {
        root: volume(root, VolumeRole::Root, &index, slots),
        copies,
    })
}

/// A full copy of `root_id` that this manager made for its pool, by its deed: a cluster tagged
/// as a copy by anyone else never hosts a clone (its data could be anything).
pub fn is_pool_copy_of(c: &Cluster, root_id: &str, manager: &str) -> bool {
    c.deed.as_ref().is_some_and(|d| {
        d.role == crate::domain::Role::Copy
            && d.manager == manager
            && d.root.as_deref() == Some(root_id)
    })
}

fn volume(c: &Cluster, role: VolumeRole, index: &VolumeIndex, slots: u32) -> Volume {
    Volume {
        cluster_id: c.id.clone(),
        role,
        status: c.status.clone(),
        data_timestamp: match role {
            VolumeRole::Root => None,
            VolumeRole::Copy => c.lineage().map(|l| l.data_timestamp).or(c.created),
        },
        clones: index.clones_on(c),
        slots,
        has_writer: c.writer().is_some(),
    }
}

/// Who shares which storage volume, indexed once per observation so that counting the slots of
/// every volume stays linear in the number of clusters.
pub struct VolumeIndex<'a> {
    by_group: HashMap<&'a str, Vec<&'a str>>,
    by_source: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> VolumeIndex<'a> {
    pub fn new(all: &'a [Cluster]) -> VolumeIndex<'a> {
        let mut index = VolumeIndex {
            by_group: HashMap::new(),
            by_source: HashMap::new(),
        };
        for c in all {
            if let Some(g) = &c.clone_group_id {
                index.by_group.entry(g.as_str()).or_default().push(&c.id);
            }
            if c.tags.get(tags::ROLE).map(String::as_str) == Some("clone") {
                if let Some(source) = c.tags.get(tags::SOURCE) {
                    index
                        .by_source
                        .entry(source.as_str())
                        .or_default()
                        .push(&c.id);
                }
            }
        }
        index
    }

    /// The clusters that share `volume`'s storage: members of its clone group where AWS reports
    /// one (clones made by hand or other tools count too), and clones whose lineage tags name it
    /// as their source. Every state counts: a clone holds its slot until it is gone.
    pub fn clones_on(&self, volume: &Cluster) -> BTreeSet<String> {
        let by_group = volume
            .clone_group_id
            .as_deref()
            .and_then(|g| self.by_group.get(g))
            .into_iter()
            .flatten();
        let by_tags = self.by_source.get(volume.id.as_str()).into_iter().flatten();
        by_group
            .chain(by_tags)
            .filter(|id| **id != volume.id)
            .map(|id| id.to_string())
            .collect()
    }
}

/// Where a new clone goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub volume_id: String,
    pub role: VolumeRole,
}

/// The root first (its clones are cheapest: billed for changed pages while the root lives, and
/// the root lives longest), then eligible copies newest first.
pub fn place(
    pool: &Pool,
    policy: &Policy,
    now: OffsetDateTime,
    since: Option<OffsetDateTime>,
) -> Option<Placement> {
    std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .find(|v| v.is_eligible(policy, now, since))
        .map(|v| Placement {
            volume_id: v.cluster_id.clone(),
            role: v.role,
        })
}

/// A copy still being made that will be eligible for this request once usable.
pub fn copy_in_progress<'a>(
    pool: &'a Pool,
    policy: &Policy,
    now: OffsetDateTime,
    since: Option<OffsetDateTime>,
) -> Option<&'a Volume> {
    pool.copies.iter().find(|v| {
        let ready = v.status.is_available() && v.has_writer;
        let doomed = v.status.is_terminal() || v.status.is_deleting();
        let becoming = !ready && !doomed;
        let ready_twin = Volume {
            status: ClusterStatus::Available,
            has_writer: true,
            ..(*v).clone()
        };
        becoming && ready_twin.is_eligible(policy, now, since)
    })
}

/// Free slots on the volumes eligible now: the root and fresh copies, each counted on its own
/// (a root's clones take no slot of its copies).
pub fn free_slots(pool: &Pool, policy: &Policy, now: OffsetDateTime) -> u32 {
    std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .filter(|v| v.is_eligible(policy, now, None))
        .map(Volume::free)
        .sum()
}

#[cfg(test)]
mod tests;
