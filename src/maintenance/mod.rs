//! Scheduled maintenance of the copy pools: read the config from SSM, observe the account once
//! (paged clusters and instances), plan each source (`planner::upkeep`) under its placement
//! lock, and apply the plan unless it is a dry run. Each run ends with one summary per source.

pub mod config;

use crate::domain::{tags, Tags};
use crate::error::Error;
use crate::pending::PendingWork;
use crate::planner::upkeep::{plan_upkeep, UpkeepPlan};
use crate::service::{Invocation, Manager, Progress};
use std::time::Duration;

/// Time kept for maintaining one source (observe is shared; a few restores and deletes).
const SOURCE_BUDGET: Duration = Duration::from_secs(20);
use config::MaintenanceConfig;
use serde::Serialize;
use serde_json::{json, Value};

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub clusters: Vec<Summary>,
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

    /// A follow-up of a maintenance run that had no time left: the sources it left.
    pub(crate) async fn continue_maintenance(
        &self,
        key: &str,
        sources: &[String],
        dry_run: bool,
        inv: &Invocation,
    ) -> Progress {
        if !matches!(self.ports.pending.take(key).await, Ok(true)) {
            return Progress::Ignored("taken by another invocation".into());
        }
        match self.maintain_sources(dry_run, inv, Some(sources)).await {
            Ok(_) => Progress::Answered,
            Err(e) => {
                tracing::error!(error = %e, "continued maintenance failed");
                Progress::Answered
            }
        }
    }

    /// Maintains the configured sources (all, or `only` those), handing the rest to a
    /// follow-up when the invocation's deadline comes near.
    async fn maintain_sources(
        &self,
        dry_run: bool,
        inv: &Invocation,
        only: Option<&[String]>,
    ) -> Result<Report, Error> {
        let name = &self.settings.maintenance_config_ssm;
        let Some(text) = self.ports.parameters.get(name).await? else {
            tracing::info!(parameter = %name, "no maintenance config: nothing to maintain");
            return Ok(Report {
                dry_run,
                note: Some(format!("no maintenance config at {name}")),
                ..Default::default()
            });
        };
        let config = MaintenanceConfig::parse(&text).map_err(|e| Error::Other(e.to_string()))?;
        let clusters = self.ports.rds.clusters().await?;
        let instances = self.ports.rds.all_instances().await?;
        let mut report = Report {
            dry_run,
            ..Default::default()
        };
        let todo: Vec<_> = config
            .clusters
            .iter()
            .filter(|c| only.is_none_or(|o| o.contains(&c.cluster_id)))
            .collect();
        for (i, cfg) in todo.iter().enumerate() {
            if inv
                .deadline
                .is_some_and(|d| tokio::time::Instant::now() + SOURCE_BUDGET > d)
            {
                let sources: Vec<String> = todo[i..].iter().map(|c| c.cluster_id.clone()).collect();
                tracing::info!(left = ?sources, "maintenance continues in a follow-up");
                self.ports
                    .pending
                    .add("maintenance", &PendingWork::Maintain { sources, dry_run })
                    .await?;
                report.note = Some(format!("{} sources left for a follow-up", todo.len() - i));
                break;
            }
            let lock = format!("place-{}", cfg.cluster_id);
            let now = self.clock.now();
            if !self
                .ports
                .locks
                .try_lock(&lock, now.unix_timestamp(), 120)
                .await?
            {
                tracing::warn!(cluster = %cfg.cluster_id, "a clone is being placed: maintaining this source next run");
                continue;
            }
            let plan = plan_upkeep(cfg, &clusters, &instances, &self.policy, now);
            let applied = !(dry_run || cfg.dry_run);
            let errors = if applied {
                self.apply_upkeep(&plan).await
            } else {
                vec![]
            };
            let _ = self.ports.locks.unlock(&lock).await;
            tracing::info!(cluster = %plan.cluster_id, slots_free = plan.slots_free, slots_coming = plan.slots_coming,
                target = plan.target_clone_slots, created = ?plan.create_ids, retired = ?plan.retire, kept = ?plan.kept,
                applied, errors = ?errors, "maintenance summary");
            report.clusters.push(Summary {
                plan,
                applied,
                errors,
            });
        }
        // Retiring a copy can leave a deletion for the follow-ups to finish.
        if let Some(arn) = &inv.function_arn {
            if !self.ports.pending.list().await?.is_empty() {
                self.ports.follow_ups.ensure(arn).await?;
            }
        }
        Ok(report)
    }

    /// Applies a plan, going on past a failed action (the next run retries it).
    async fn apply_upkeep(&self, plan: &UpkeepPlan) -> Vec<String> {
        let mut errors = Vec::new();
        for restore in &plan.create {
            let made = self.ports.rds.restore(restore).await;
            let writer = crate::domain::ident::writer_instance_id(&restore.cluster_id);
            let class = plan.copy_class.clone();
            let result = match made {
                Ok(c) => {
                    self.ports
                        .rds
                        .create_instance(&crate::ports::InstanceRequest {
                            instance_id: writer,
                            cluster_id: c.id,
                            engine: c.engine,
                            class,
                            tags: restore.tags.clone(),
                        })
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                errors.push(e.to_string());
            }
        }
        for w in &plan.writers {
            if let Err(e) = self.ports.rds.create_instance(w).await {
                errors.push(e.to_string());
            }
        }
        for id in &plan.retire {
            if let Err(e) = self.retire_copy(id).await {
                errors.push(e.to_string());
            }
        }
        for id in &plan.ready {
            if let Err(e) = self.copy_ready(id).await {
                errors.push(e.to_string());
            }
        }
        errors
    }

    async fn retire_copy(&self, id: &str) -> Result<(), Error> {
        if let Some(c) = self.ports.rds.cluster(id).await? {
            tracing::info!(copy = %id, "retiring an obsolete pool copy that hosts no clones");
            self.remove_cluster(&c).await?;
        }
        Ok(())
    }

    /// The ready event of a pool copy, once: the copy is tagged when it was sent.
    async fn copy_ready(&self, id: &str) -> Result<(), Error> {
        let Some(c) = self.ports.rds.cluster(id).await? else {
            return Ok(());
        };
        let lineage = c.lineage();
        let detail = json!({"instanceId": c.writer(), "clusterId": c.id, "host": c.endpoint, "port": c.port,
            "user": c.master_username, "passwordSecret": null, "database": c.database_name, "role": "copy",
            "passwordSecretArn": null, "sourceClusterId": lineage.as_ref().map(|l| l.source.clone()),
            "rootClusterId": lineage.as_ref().map(|l| l.root.clone()),
            "dataTimestamp": lineage.map(|l| tags::format_time(l.data_timestamp)), "stackId": null, "logicalResourceId": null});
        self.ports
            .events
            .put("lifecycle-event/instance-ready", &detail)
            .await?;
        let mark: Tags = [(tags::READY_EVENT.to_string(), "sent".to_string())].into();
        self.ports.rds.add_tags(&c.arn, &mark).await?;
        Ok(())
    }
}
