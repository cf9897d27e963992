//! What the operators ask maintenance to keep for each source (parsed from the SSM config by
//! `config::maintenance`).

use std::time::Duration;

/// What maintenance keeps for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub cluster_id: String,
    /// Free clone slots to keep ready across the root and fresh copies.
    pub target_clone_slots: u32,
    pub dry_run: bool,
    /// The pool copies' writer class (default: Serverless v2).
    pub instance_class: Option<String>,
    /// The Serverless v2 range of pool copies' writers (default: 0, paused, where the engine
    /// version supports it, else 0.5; at most 2).
    pub copy_min_capacity: Option<f64>,
    pub copy_max_capacity: Option<f64>,
    pub max_clones_per_source: Option<u32>,
    pub max_copy_age: Option<Duration>,
    pub purge_obsolete_copies: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MaintenanceConfig {
    pub clusters: Vec<ClusterConfig>,
    /// The cost estimates' price table.
    pub prices: super::cost::Prices,
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
            copy_min_capacity: None,
            copy_max_capacity: None,
            max_clones_per_source: None,
            max_copy_age: None,
            purge_obsolete_copies: true,
        }
    }
}
