//! Applying one source's upkeep plan: metrics, the actions (unless a dry run), one summary line.

use super::{Maintain, Summary};
use crate::domain::upkeep::ClusterConfig;
use crate::planner::action::Action;
use crate::planner::upkeep::UpkeepPlan;
use crate::service::{Applied, Invocation};

impl Maintain {
    pub(super) async fn upkeep(
        &self,
        cfg: &ClusterConfig,
        plan: UpkeepPlan,
        dry_run: bool,
        inv: &Invocation,
    ) -> Summary {
        if plan.problem.is_none() {
            let (free, coming) = (plan.slots_free, plan.slots_coming);
            let doc = self.core.metrics().pool(
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
        Summary {
            plan,
            applied,
            errors,
        }
    }

    /// Applies a plan, stopping at the first failed action (the next run plans again).
    async fn apply_upkeep(&self, plan: &UpkeepPlan, inv: &Invocation) -> Vec<String> {
        for action in &plan.actions {
            match self.applier.apply(action, None).await {
                Ok(Applied::Deferred) => {
                    if let Action::RemoveCluster(r) = action {
                        if let Err(e) = self.reaper.defer_removal(&r.cluster_id, inv).await {
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
}
