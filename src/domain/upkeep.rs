//! What the operators ask maintenance to keep for each source (parsed from the SSM config by
//! `maintenance::config`).

use std::time::Duration;

/// What maintenance keeps for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub cluster_id: String,
    /// Free clone slots to keep ready across the root and fresh copies.
    pub target_clone_slots: u32,
    pub dry_run: bool,
    pub instance_class: Option<String>,
    pub max_clones_per_source: Option<u32>,
    pub max_copy_age: Option<Duration>,
    pub purge_obsolete_copies: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MaintenanceConfig {
    pub clusters: Vec<ClusterConfig>,
}

impl ClusterConfig {
    /// A source with no entry in the config: no copies kept ahead of demand, obsolete ones
    /// retired, the stack's defaults for the rest.
    pub fn unconfigured(cluster_id: &str) -> ClusterConfig {
        ClusterConfig {
            cluster_id: cluster_id.to_string(),
            target_clone_slots: 0,
            dry_run: false,
            instance_class: None,
            max_clones_per_source: None,
            max_copy_age: None,
            purge_obsolete_copies: true,
        }
    }
}
