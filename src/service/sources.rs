//! The maintenance config as flows read it: each source's policy overrides and the cost
//! estimates' prices, from the SSM parameter.

use super::Core;
use crate::config::maintenance::MaintenanceConfig;
use crate::domain::upkeep::ClusterConfig;
use crate::error::Error;
use crate::ports::Parameters;
use std::sync::Arc;

/// Reads the maintenance config.
#[derive(Clone)]
pub struct Sources {
    pub(super) core: Core,
    pub(super) parameters: Arc<dyn Parameters>,
}

impl Sources {
    /// A source's entry in the maintenance config: its policy overrides. An unreadable config
    /// is logged and its overrides ignored (maintenance itself refuses to run on it).
    pub async fn source_config(&self, root: &str) -> Option<ClusterConfig> {
        match self.config().await {
            Ok(c) => c?.clusters.into_iter().find(|c| c.cluster_id == root),
            Err(e) => {
                tracing::error!(error = %e, "maintenance config unusable: default policy for {root}");
                None
            }
        }
    }

    /// The cost estimates' price table: the config's, or the defaults.
    pub async fn prices(&self) -> crate::domain::cost::Prices {
        match self.config().await {
            Ok(c) => c.map(|c| c.prices).unwrap_or_default(),
            Err(e) => {
                tracing::error!(error = %e, "maintenance config unusable: default prices");
                Default::default()
            }
        }
    }

    pub(super) async fn config(&self) -> Result<Option<MaintenanceConfig>, Error> {
        let name = &self.core.settings.maintenance_config_ssm;
        let Some(text) = self.parameters.get(name).await? else {
            tracing::info!(parameter = %name, "no maintenance config: nothing to maintain");
            return Ok(None);
        };
        MaintenanceConfig::parse(&text)
            .map(Some)
            .map_err(|e| Error::Other(e.to_string()))
    }
}
