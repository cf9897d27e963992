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
