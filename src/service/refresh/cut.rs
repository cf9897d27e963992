//! The end of a refresh: the cut-over (renames, judged by what RDS lists), the old clone's
//! deletion, and giving up (names put back, the new clone removed, the clone serving on).

use super::{Refresh, Stepped};
use crate::domain::events::LifecycleEvent;
use crate::domain::refresh::{RefreshItem, RefreshStage, REFRESH_LIMIT_SECS};
use crate::domain::{Cluster, Deed};
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::planner::refresh::{cut_over, helper_deed, put_back, CutOver, Names, NO_RETURN};
use crate::ports::Renaming;
use crate::service::apply::Applied;
use crate::service::Invocation;
use crate::state::ReapItem;

/// The three names as RDS lists them now, each with its deed.
struct Seen {
    clone: Option<Cluster>,
    fresh: Option<Cluster>,
    retired: Option<Cluster>,
}

impl Seen {
    fn names(&self) -> Names<'_> {
        Names {
            clone: self.clone.as_ref(),
            fresh: self.fresh.as_ref(),
            retired: self.retired.as_ref(),
        }
    }
}

impl Refresh {
    /// The three names as listed. A cluster under the new or the retired name counts only if
    /// its deed is this refresh's: nothing else is ever renamed or put back.
    async fn seen(&self, item: &RefreshItem) -> Result<Seen, AwsError> {
        let request_id = item.request_id();
        let this_refresh = |c: &Cluster| {
            c.deed.as_ref().is_some_and(|d| {
                d.refresh_of.as_deref() == Some(item.cluster_id.as_str())
                    && d.request_id.as_deref() == Some(request_id.as_str())
            })
        };
        let helper = |c: Option<Cluster>| c.filter(|c| this_refresh(c));
        Ok(Seen {
            clone: self.deeds.observe_cluster(&item.cluster_id).await?,
            fresh: helper(self.deeds.observe_cluster(&item.fresh_id).await?),
            retired: helper(self.deeds.observe_cluster(&item.retired_id).await?),
        })
    }

    fn clone_deed(&self, deed: Option<Deed>) -> Result<Deed, AwsError> {
        deed.ok_or_else(|| AwsError::permanent("Refresh", "CloneGone", "the clone's deed is gone"))
    }

    pub(super) async fn cutting_over(&self, item: &mut RefreshItem) -> Result<Stepped, AwsError> {
        let deed = self.clone_deed(self.deeds.deed(&item.cluster_id).await?)?;
        let seen = self.seen(item).await?;
        let now = self.core.now_secs();
        let retired_deed = helper_deed(&deed, item, &item.retired_id, deed.root.clone(), now);
        match cut_over(item, seen.names(), &retired_deed) {
            CutOver::Act(action) => match self.applier.apply(&action, None).await? {
                Applied::Renamed(Renaming::Started) => {
                    self.count_rename(item).await?;
                    Ok(Stepped::Wait("RDS is renaming".into()))
                }
                Applied::Renamed(found) => {
                    self.late(item, format!("RDS answered the rename {found:?}"))
                }
                _ => Ok(Stepped::Wait("renaming".into())),
            },
            CutOver::Counted => {
                self.count_rename(item).await?;
                Ok(Stepped::Next)
            }
            CutOver::Wait(what) => self.late(item, what),
            CutOver::Finished => self.finish(item, deed, &seen).await,
        }
    }

    /// A wait in the cut-over; before the new clone took the clone's name, past the deadline the
    /// refresh is given up (names put back).
    fn late(&self, item: &RefreshItem, what: String) -> Result<Stepped, AwsError> {
        if item.renamed < NO_RETURN && self.core.now_secs() >= item.deadline {
            return Err(AwsError::permanent(
                "Refresh",
                "TimedOut",
                format!("the cut-over did not finish in time: {what}"),
            ));
        }
        Ok(Stepped::Wait(what))
    }

    async fn count_rename(&self, item: &mut RefreshItem) -> Result<(), AwsError> {
        let next = RefreshItem {
            renamed: item.renamed + 1,
            ..item.clone()
        };
        self.save(item, next).await
    }

    /// The new clone serves under the clone's name: the clone's deed takes its root, the new
    /// clone's own deed goes, `clone-refreshed` goes out, and the old clone is retired.
    async fn finish(
        &self,
        item: &mut RefreshItem,
        deed: Deed,
        seen: &Seen,
    ) -> Result<Stepped, AwsError> {
        let fresh_deed = self.deeds.deed(&item.fresh_id).await?;
        let refreshed = Deed {
            root: fresh_deed
                .as_ref()
                .and_then(|d| d.root.clone())
                .or(deed.root.clone()),
            born: deed.born.or(Some(deed.recorded)),
            refreshing: None,
            ..deed
        };
        let refreshed = self.deeds.amend_deed(&refreshed).await?;
        if fresh_deed.is_some() {
            self.deeds.strike(&item.fresh_id).await?;
        }
        if let Some(clone) = &seen.clone {
            let serving = Cluster {
                deed: Some(refreshed),
                ..clone.clone()
            };
            let previous = seen
                .retired
                .as_ref()
                .and_then(|r| r.lineage())
                .map(|l| l.data_timestamp);
            let event = LifecycleEvent::refreshed(&serving, previous);
            self.applier.apply(&Action::Publish(event), None).await?;
        }
        tracing::info!(cluster = %item.cluster_id, "refreshed in place");
        let next = RefreshItem {
            stage: RefreshStage::Retiring,
            ..item.clone()
        };
        self.save(item, next).await?;
        Ok(Stepped::Next)
    }

    /// The old clone is deleted by reap work (RDS may list it only once its rename settles);
    /// the refresh is over.
    pub(super) async fn retiring(
        &self,
        item: &mut RefreshItem,
        inv: &Invocation,
    ) -> Result<Stepped, AwsError> {
        self.reap_later(&item.retired_id, item, inv).await?;
        self.refreshes.end(&item.cluster_id, &item.attempt).await?;
        Ok(Stepped::Finished)
    }

    /// Removal work for a cluster of this refresh, watched for an hour (a restore or a rename
    /// still in flight may yet list it).
    async fn reap_later(
        &self,
        cluster_id: &str,
        item: &RefreshItem,
        inv: &Invocation,
    ) -> Result<(), AwsError> {
        let now = self.core.now_secs();
        let reap = ReapItem {
            cluster_id: cluster_id.to_string(),
            request_id: Some(item.request_id()),
            since: now,
            watch_until: now + 3600,
            attempts: 0,
            last_error: None,
            given_up: false,
        };
        self.state.put_reap(&reap, true).await?;
        self.rule.arm_follow_ups(inv).await
    }

    /// Giving up: the names back, the new clone removed, the clone's mark cleared,
    /// `clone-refresh-failed`, and the refresh is over.
    pub(super) async fn abandoning(
        &self,
        item: &mut RefreshItem,
        inv: &Invocation,
    ) -> Result<Stepped, AwsError> {
        let seen = self.seen(item).await?;
        if let Some(step) = put_back(item, seen.names()) {
            return self.put_back(item, step).await;
        }
        self.reap_later(&item.fresh_id, item, inv).await?;
        if seen.retired.is_none() && self.deeds.deed(&item.retired_id).await?.is_some() {
            self.deeds.strike(&item.retired_id).await?;
        }
        if let Some(deed) = self.deeds.deed(&item.cluster_id).await? {
            if deed.refreshing.as_deref() == Some(item.attempt.as_str()) {
                self.deeds
                    .amend_deed(&Deed {
                        refreshing: None,
                        ..deed
                    })
                    .await?;
            }
        }
        let reason = item.reason.clone().unwrap_or_else(|| "given up".into());
        let clone = seen
            .clone
            .unwrap_or_else(|| Cluster::new(&item.cluster_id, "unknown"));
        let event = LifecycleEvent::refresh_failed(&clone, &reason);
        self.applier.apply(&Action::Publish(event), None).await?;
        tracing::warn!(cluster = %item.cluster_id, %reason, "refresh given up; the clone keeps serving");
        self.refreshes.end(&item.cluster_id, &item.attempt).await?;
        Ok(Stepped::Finished)
    }

    async fn put_back(&self, item: &RefreshItem, step: CutOver) -> Result<Stepped, AwsError> {
        let too_long = self.core.now_secs() > item.since + 2 * REFRESH_LIMIT_SECS;
        match step {
            CutOver::Act(action) => {
                self.applier.apply(&action, None).await?;
                Ok(Stepped::Wait("putting the clone's names back".into()))
            }
            CutOver::Wait(what) if too_long => Err(AwsError::transient("Refresh", "Stuck", what)),
            CutOver::Wait(what) => Ok(Stepped::Wait(what)),
            _ => Ok(Stepped::Next),
        }
    }
}
