//! Clone expiry: the schedules made when a clone is ready, the schedule firing (`expire`), and
//! the maintenance backstop over every clone of the stack. What is due is the planner's
//! (`planner::expiry`); a schedule that fires early finds nothing due.

use super::{Applied, Invocation, Manager};
use crate::domain::expiry::{Expiry, EXTENDED};
use crate::domain::tags;
use crate::domain::Cluster;
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::expiry::{due, moved, schedule_input, schedules};
use crate::ports::ScheduleTarget;
use crate::state::Work;
use time::OffsetDateTime;

/// What an expiry schedule invokes, and as whom: this stack's function (the template names it
/// `<stack>-clone-manager`, unqualified: the expiry role may invoke that ARN alone) as the
/// stack's expiry role (`<stack>-expiry-<region>`), in the clone's partition, region and account.
/// `tests/template.rs` holds these names to the template's.
pub fn schedule_target(stack: &str, cluster_arn: &str) -> Option<ScheduleTarget> {
    let parts: Vec<&str> = cluster_arn.split(':').collect();
    let [_, partition, _, region, account, ..] = parts.as_slice() else {
        return None;
    };
    Some(ScheduleTarget {
        function_arn: format!(
            "arn:{partition}:lambda:{region}:{account}:function:{stack}-clone-manager"
        ),
        role_arn: format!("arn:{partition}:iam::{account}:role/{stack}-expiry-{region}"),
    })
}

impl Manager {
    /// A one-time schedule about `cluster_id`'s expiry. It invokes this stack's function (the
    /// template names it `<stack>-clone-manager`) as the stack's expiry role, both in the clone's
    /// partition, region and account.
    pub(super) async fn schedule(
        &self,
        name: &str,
        at: OffsetDateTime,
        cluster_id: &str,
        cluster_arn: &str,
    ) -> Result<(), AwsError> {
        let target = schedule_target(&self.settings.stack_name, cluster_arn).ok_or_else(|| {
            AwsError::permanent("CreateSchedule", "NoArn", "the clone has no ARN")
        })?;
        let input = schedule_input(cluster_id).to_string();
        self.ports.schedules.once(name, at, &target, &input).await?;
        Ok(())
    }

    /// Makes a ready clone's expiry schedules (best effort: maintenance is the backstop).
    pub(super) async fn schedule_expiry(&self, cluster: &Cluster, inv: &Invocation) {
        let lead = self.settings.expiry_warning;
        for action in schedules(cluster, lead, self.clock.now()) {
            if let Err(e) = self.apply(&action, None, inv).await {
                tracing::warn!(error = %e, cluster = %cluster.id, "could not schedule the clone's expiry; maintenance acts on it");
            }
        }
    }

    /// An expiry schedule fired (or maintenance looks): act on what is due for the clone.
    pub async fn expire(&self, cluster_id: &str, inv: &Invocation) -> Result<usize, AwsError> {
        let Some(cluster) = self.observe_cluster(cluster_id).await? else {
            return Ok(0);
        };
        if !self.may_remove(&cluster) {
            tracing::warn!(cluster = %cluster_id, "an expiry about a cluster this manager does not own: ignored");
            return Ok(0);
        }
        self.act_on_expiry(&cluster, inv).await
    }

    /// Applies what the clone's expiry asks for now; returns how many actions it took.
    pub(crate) async fn act_on_expiry(
        &self,
        cluster: &Cluster,
        inv: &Invocation,
    ) -> Result<usize, AwsError> {
        let actions = due(cluster, self.settings.expiry_warning, self.clock.now());
        for action in &actions {
            if let Applied::Deferred = self.apply(action, None, inv).await? {
                if let Action::RemoveCluster(r) = action {
                    self.defer_removal(&r.cluster_id, inv).await?;
                }
            }
        }
        Ok(actions.len())
    }

    /// The maintenance backstop: every clone of this stack whose expiry asks for something now,
    /// except those being removed (a stopped clone is started to be deleted: not stopped again).
    pub(crate) async fn expire_due(&self, clusters: &[Cluster], inv: &Invocation) -> Vec<String> {
        let expiring = |c: &&Cluster| {
            self.may_remove(c) && c.tags.contains_key(crate::domain::expiry::EXPIRES_AT)
        };
        if !clusters.iter().any(|c| expiring(&c)) {
            return vec![];
        }
        let removing: Vec<String> = match self.ports.state.list().await {
            Ok(work) => work
                .into_iter()
                .filter_map(|w| match w {
                    Work::Reap(r) => Some(r.cluster_id),
                    _ => None,
                })
                .collect(),
            Err(e) => return vec![format!("state table: {e}")],
        };
        let mut errors = vec![];
        for c in clusters
            .iter()
            .filter(|c| expiring(c) && !removing.contains(&c.id))
        {
            if let Err(e) = self.act_on_expiry(c, inv).await {
                errors.push(format!("{}: {e}", c.id));
            }
        }
        errors
    }
}

/// Why `extend` did not move a clone's expiry.
#[derive(Debug, thiserror::Error)]
pub enum ExtendRefused {
    #[error("{0}: no such cluster")]
    NoCluster(String),
    #[error("{0} is not a clone made by stack {1}")]
    NotOurs(String, String),
    #[error("{0} has no expiry (set ExpiresAfter or ExpiresAt on its resource)")]
    NoExpiry(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl Manager {
    /// The operator's `extend`: moves a clone's expiry `by` later (from now, if it passed),
    /// tagged as an extension. The stack's own next change of `ExpiresAfter`/`ExpiresAt` wins
    /// over it; an Update that leaves them alone keeps it. Returns the new expiry.
    pub async fn extend(
        &self,
        cluster_id: &str,
        by: std::time::Duration,
        dry_run: bool,
    ) -> Result<OffsetDateTime, ExtendRefused> {
        let cluster = self
            .observe_cluster(cluster_id)
            .await?
            .ok_or_else(|| ExtendRefused::NoCluster(cluster_id.into()))?;
        let manager = &self.settings.stack_name;
        let ours = cluster
            .ownership()
            .is_some_and(|o| &o.managed_by == manager && o.role == crate::domain::Role::Clone);
        if !ours {
            return Err(ExtendRefused::NotOurs(cluster_id.into(), manager.clone()));
        }
        let expiry = Expiry::from_tags(&cluster.tags)
            .ok_or_else(|| ExtendRefused::NoExpiry(cluster_id.into()))?;
        let now = self.clock.now();
        let at = expiry.at.max(now) + by;
        if !dry_run {
            let extra = [(EXTENDED.to_string(), tags::format_time(now))].into();
            let lead = self.settings.expiry_warning;
            for action in moved(&cluster, at, expiry.action, extra, lead, now) {
                self.apply(&action, None, &Invocation::default()).await?;
            }
        }
        Ok(at)
    }
}
