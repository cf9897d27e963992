//! What tests read back from the fake RDS: the calls made, and clusters' and instances' tags and
//! settings as they are stored.

use super::{lock, FakeRds};
use crate::domain::{ClusterSettings, Instance, Tags};
use std::collections::BTreeMap;
use tokio::time::Instant;

impl FakeRds {
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

    /// The cluster and its instances are gone at once, as if deleted long ago (a source
    /// deleted by its owners).
    pub fn vanish(&self, id: &str) {
        let mut st = lock(&self.state);
        st.clusters.remove(id);
        st.instances
            .retain(|_, i| i.instance.cluster_id.as_deref() != Some(id));
    }

    /// Injected panics not yet fired (`panic_next` with no call of the operation since).
    pub fn pending_panics(&self) -> usize {
        lock(&self.state).panics.len()
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

    /// Restores that asked for a clone but made a full copy (the volume's 15 clones were taken).
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
}
