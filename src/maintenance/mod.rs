//! Scheduled maintenance of the copy pools: read the config from SSM, take every source's
//! placement lease, observe the account once under them (paged clusters and instances), plan
//! each source (`planner::upkeep`) and apply its plan through the one applier, unless it is a
//! dry run. A source whose lease is busy, or that the invocation has no time left for, is
//! recorded for a follow-up a few minutes later. Each run ends with one summary per source.

pub mod config;
mod edn;

use crate::domain::upkeep::ClusterConfig;
use crate::error::Error;
use crate::planner::action::Action;
use crate::planner::upkeep::{plan_upkeep, UpkeepPlan};
use crate::service::{Invocation, Lease, Manager, Progress};
use crate::state::MaintainItem;
use config::MaintenanceConfig;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

/// Time kept for maintaining one source (a few restores and deletes).
const SOURCE_BUDGET: Duration = Duration::from_secs(20);
/// A maintenance lease outlasts the invocation that takes it (at most two minutes).
const LEASE_SECS: i64 = 150;
/// When a busy source is tried again.
const RETRY_BUSY_SECS: i64 = 180;

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub clusters: Vec<Summary>,
    /// Sources left for a follow-up (busy, or no time left).
    pub deferred: Vec<String>,
    /// Why nothing was maintained, when nothing was.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub plan: UpkeepPlan,
    pub applied: bool,
    pub errors: Vec<String>,
}

/// The scheduled entry point: the Lambda's answer is the report.
pub async fn run_scheduled(m: &Manager, inv: &Invocation) -> Value {
    match m.maintain(false, inv).await {
        Ok(report) => serde_json::to_value(&report).unwrap_or(Value::Null),
        Err(e) => {
            tracing::error!(error = %e, "maintenance did not run");
            json!({"error": e.to_string()})
        }
    }
}

impl Manager {
    /// Runs maintenance; `dry_run` plans and reports without changing anything.
    pub async fn maintain(&self, dry_run: bool, inv: &Invocation) -> Result<Report, Error> {
        self.maintain_sources(dry_run, inv, None).await
    }

    /// A follow-up of a maintenance run: the sources it left.
    pub(crate) async fn continue_maintenance(
        &self,
        item: MaintainItem,
        inv: &Invocation,
    ) -> Progress {
        match self.ports.state.take_maintain(item.version).await {
            Ok(true) => {}
            Ok(false) => return Progress::Ignored("taken by another invocation".into()),
            Err(e) => return Progress::Pending(e.to_string()),
        }
        if let Err(e) = self
            .maintain_sources(item.dry_run, inv, Some(&item.sources))
            .await
        {
            tracing::error!(error = %e, "continued maintenance failed");
        }
        Progress::Answered
    }

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

    async fn config(&self) -> Result<Option<MaintenanceConfig>, Error> {
        let name = &self.settings.maintenance_config_ssm;
        let Some(text) = self.ports.parameters.get(name).await? else {
            tracing::info!(parameter = %name, "no maintenance config: nothing to maintain");
            return Ok(None);
        };
        MaintenanceConfig::parse(&text)
            .map(Some)
            .map_err(|e| Error::Other(e.to_string()))
    }

    /// Maintains the configured sources (all, or `only` those).
    async fn maintain_sources(
        &self,
        dry_run: bool,
        inv: &Invocation,
        only: Option<&[String]>,
    ) -> Result<Report, Error> {
        let mut report = Report {
            dry_run,
            ..Default::default()
        };
        let Some(config) = self.config().await? else {
            report.note = Some(format!(
                "no maintenance config at {}",
                self.settings.maintenance_config_ssm
            ));
            return Ok(report);
        };
        let todo: Vec<&ClusterConfig> = config
            .clusters
            .iter()
            .filter(|c| only.is_none_or(|o| o.contains(&c.cluster_id)))
            .collect();
        let mut held = Vec::new();
        for cfg in todo {
            match self
                .take_lease_for(&format!("place-{}", cfg.cluster_id), LEASE_SECS, inv)
                .await?
            {
                Some(lease) => held.push((cfg, lease)),
                None => report.deferred.push(cfg.cluster_id.clone()),
            }
        }
        let result = self.maintain_held(&held, dry_run, inv, &mut report).await;
        for (_, lease) in &held {
            self.release(lease, inv).await;
        }
        result?;
        if !report.deferred.is_empty() {
            self.defer_sources(&report.deferred, dry_run, inv).await?;
        }
        Ok(report)
    }

    /// Observes once, under every held lease, and maintains each source while time allows.
    async fn maintain_held(
        &self,
        held: &[(&ClusterConfig, Lease)],
        dry_run: bool,
        inv: &Invocation,
        report: &mut Report,
    ) -> Result<(), Error> {
        if held.is_empty() {
            return Ok(());
        }
        let clusters = self.ports.rds.clusters().await?;
        let instances = self.ports.rds.all_instances().await?;
        for (cfg, lease) in held {
            if !inv.has_time_for(SOURCE_BUDGET) || !self.lease_holds(lease) {
                report.deferred.push(cfg.cluster_id.clone());
                continue;
            }
            let plan = plan_upkeep(cfg, &clusters, &instances, &self.policy, self.clock.now());
            if plan.problem.is_none() {
                let (free, coming) = (plan.slots_free, plan.slots_coming);
                let doc = self.metrics().pool(
                    &plan.cluster_id,
                    free,
                    coming,
                    plan.copies,
                    plan.copies_coming,
                );
                crate::metrics::emit(&doc);
            }
            let applied = !(dry_run || cfg.dry_run);
            let errors = if applied {
                self.apply_upkeep(&plan, inv).await
            } else {
                vec![]
            };
            tracing::info!(cluster = %plan.cluster_id, slots_free = plan.slots_free, slots_coming = plan.slots_coming,
                target = plan.target_clone_slots, created = ?plan.create_ids, retired = ?plan.retire, kept = ?plan.kept,
                applied, errors = ?errors, "maintenance summary");
            report.clusters.push(Summary {
                plan,
                applied,
                errors,
            });
        }
        Ok(())
    }

    /// Applies a plan, stopping at the first failed action (the next run plans again).
    async fn apply_upkeep(&self, plan: &UpkeepPlan, inv: &Invocation) -> Vec<String> {
        for action in &plan.actions {
            match self.apply(action, None, inv).await {
                Ok(crate::service::Applied::Deferred) => {
                    if let Action::RemoveCluster(r) = action {
                        if let Err(e) = self.defer_removal(&r.cluster_id, inv).await {
                            return vec![e.to_string()];
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => return vec![e.to_string()],
            }
        }
        vec![]
    }

    /// Records sources for a follow-up a few minutes from now.
    async fn defer_sources(
        &self,
        sources: &[String],
        dry_run: bool,
        inv: &Invocation,
    ) -> Result<(), Error> {
        tracing::info!(left = ?sources, "maintenance continues in a follow-up");
        let item = MaintainItem {
            sources: sources.to_vec(),
            dry_run,
            not_before: self.clock.now().unix_timestamp() + RETRY_BUSY_SECS,
            version: 0,
        };
        self.ports.state.put_maintain(&item).await?;
        self.arm_follow_ups(inv).await?;
        Ok(())
    }
}
