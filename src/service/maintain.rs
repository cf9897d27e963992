//! Scheduled maintenance of the copy pools: read the config from SSM, take every source's
//! placement lease, observe the account once under them (paged clusters and instances), plan
//! each source (`planner::upkeep`) and apply its plan through the one applier, unless it is a
//! dry run. A source whose lease is busy, or that the invocation has no time left for, is
//! recorded for a follow-up a few minutes later. Each run ends with one summary per source.

mod upkeep;

use super::Core;
use crate::domain::upkeep::ClusterConfig;
use crate::domain::{Cluster, Instance};
use crate::error::Error;
use crate::planner::upkeep::{plan_upkeep, UpkeepPlan};
use crate::service::{Invocation, Lease, Progress};
use crate::state::MaintainItem;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;
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
    /// Clones whose due expiry could not be acted on (the next run tries again).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expiry_errors: Vec<String>,
    /// Clones whose stack does not (provably) claim them: orphans, and those left alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<crate::service::sweep::Finding>,
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
pub async fn run_scheduled(m: &Maintain, inv: &Invocation) -> Value {
    match m.maintain(false, inv).await {
        Ok(report) => serde_json::to_value(&report).unwrap_or(Value::Null),
        Err(e) => {
            tracing::error!(error = %e, "maintenance did not run");
            json!({"error": e.to_string()})
        }
    }
}

/// Scheduled maintenance of the copy pools.
#[derive(Clone)]
pub struct Maintain {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) expiry: Arc<super::expiry::Expiries>,
    pub(super) leases: Arc<super::lease::Leases>,
    pub(super) reaper: Arc<super::reap::Reaper>,
    pub(super) rule: Arc<super::rule::Rule>,
    pub(super) sources: Arc<super::sources::Sources>,
    pub(super) sweep: Arc<super::sweep::Sweep>,
}

impl Maintain {
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
        match self.state.take_maintain(item.version).await {
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

    /// Maintains the configured sources (all, or `only` those: configured or not), then, on a
    /// scheduled run, every other root this stack has pool copies of (obsolete, unclaimed copies
    /// are retired whatever the config says about other sources). Sources left over (busy, no
    /// time) and sources with copies still being made (their ready event is due) are taken up
    /// again by a follow-up a few minutes later.
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
        let config = self.sources.config().await?.unwrap_or_default();
        let mut todo: Vec<ClusterConfig> = config
            .clusters
            .iter()
            .filter(|c| only.is_none_or(|o| o.contains(&c.cluster_id)))
            .cloned()
            .collect();
        for source in only.unwrap_or_default() {
            if !todo.iter().any(|c| &c.cluster_id == source) {
                todo.push(ClusterConfig::unconfigured(source));
            }
        }
        let seen = self
            .maintain_leased(&todo, None, dry_run, inv, &mut report)
            .await?;
        if only.is_none() {
            let view = match seen {
                Some(v) => v,
                None => (
                    self.deeds.observe_clusters().await?,
                    self.rds.all_instances().await?,
                ),
            };
            let others: Vec<ClusterConfig> = copied_roots(&view.0, &self.core.settings.stack_name)
                .into_iter()
                .filter(|r| !todo.iter().any(|c| c.cluster_id == *r))
                .map(|r| ClusterConfig::unconfigured(&r))
                .collect();
            if !dry_run {
                report.expiry_errors = self.expiry.expire_due(&view.0, inv).await;
                if let Err(e) = self.deeds.strike_unseen(&view.0).await {
                    tracing::warn!(error = %e, "could not strike deeds of clusters that are gone; the next run does");
                }
            }
            report.sweep = self.sweep.sweep(&view.0, dry_run, inv).await;
            // The view is reused: a copy too old to host new clones gains none meanwhile.
            self.maintain_leased(&others, Some(view), dry_run, inv, &mut report)
                .await?;
        }
        if report.clusters.is_empty() && todo.is_empty() {
            report.note = Some(format!(
                "nothing to maintain: no sources in {} and no pool copies",
                self.core.settings.maintenance_config_ssm
            ));
        }
        self.follow_up_sources(&report, dry_run, inv).await?;
        Ok(report)
    }

    /// Takes each source's lease, observes the account once under them (or reuses `view`), and
    /// maintains each. Returns what it observed.
    async fn maintain_leased(
        &self,
        todo: &[ClusterConfig],
        view: Option<(Vec<Cluster>, Vec<Instance>)>,
        dry_run: bool,
        inv: &Invocation,
        report: &mut Report,
    ) -> Result<Option<(Vec<Cluster>, Vec<Instance>)>, Error> {
        let mut held = Vec::new();
        for cfg in todo {
            let name = format!("place-{}", cfg.cluster_id);
            match self.leases.take_lease_for(&name, LEASE_SECS, inv).await? {
                Some(lease) => held.push((cfg, lease)),
                None => report.deferred.push(cfg.cluster_id.clone()),
            }
        }
        if held.is_empty() {
            return Ok(view);
        }
        let result = self.maintain_held(&held, view, dry_run, inv, report).await;
        for (_, lease) in &held {
            self.leases.release(lease, inv).await;
        }
        result.map(Some)
    }

    /// Maintains each held source while time allows, on one view of the account.
    async fn maintain_held(
        &self,
        held: &[(&ClusterConfig, Lease)],
        view: Option<(Vec<Cluster>, Vec<Instance>)>,
        dry_run: bool,
        inv: &Invocation,
        report: &mut Report,
    ) -> Result<(Vec<Cluster>, Vec<Instance>), Error> {
        let (clusters, instances) = match view {
            Some(v) => v,
            None => (
                self.deeds.observe_clusters().await?,
                self.rds.all_instances().await?,
            ),
        };
        for (cfg, lease) in held {
            // Confirmed at the table as well: copies are placements too.
            if !inv.has_time_for(SOURCE_BUDGET)
                || !self.leases.lease_holds(lease)
                || !self.leases.still_held(lease, inv).await
            {
                report.deferred.push(cfg.cluster_id.clone());
                continue;
            }
            let plan = plan_upkeep(
                cfg,
                &clusters,
                &instances,
                &self.core.policy,
                self.core.clock.now(),
            );
            report
                .clusters
                .push(self.upkeep(cfg, plan, dry_run, inv).await);
        }
        Ok((clusters, instances))
    }

    /// Sources for a follow-up: those left over (a few minutes later), and those with copies
    /// being made (their ready event goes out when the follow-up sees them usable).
    async fn follow_up_sources(
        &self,
        report: &Report,
        dry_run: bool,
        inv: &Invocation,
    ) -> Result<(), Error> {
        let mut sources = report.deferred.clone();
        sources.extend(
            report
                .clusters
                .iter()
                .filter(|s| s.applied && s.plan.copies_coming > 0)
                .map(|s| s.plan.cluster_id.clone()),
        );
        sources.sort();
        sources.dedup();
        if sources.is_empty() {
            return Ok(());
        }
        tracing::info!(sources = ?sources, "maintenance continues in a follow-up");
        let item = MaintainItem {
            sources,
            dry_run,
            not_before: self.core.clock.now().unix_timestamp() + RETRY_BUSY_SECS,
            version: 0,
        };
        self.state.put_maintain(&item).await?;
        self.rule.arm_follow_ups(inv).await?;
        Ok(())
    }
}

/// Roots of which `manager` has pool copies, by the copies' deeds.
fn copied_roots(clusters: &[Cluster], manager: &str) -> Vec<String> {
    let mut roots: Vec<String> = clusters
        .iter()
        .filter_map(|c| c.deed.as_ref())
        .filter(|d| d.manager == manager && d.role == crate::domain::Role::Copy)
        .filter_map(|d| d.root.clone())
        .collect();
    roots.sort();
    roots.dedup();
    roots
}
