//! The ownership ledger as the flows use it: observing joins each cluster with its deed (the
//! only proof that this manager made it), a restore is entered in the ledger before it is asked
//! for, and a deed is struck once its cluster is gone.

use super::Core;
use crate::domain::{Cluster, Deed, Lineage, Ownership, RestoreRequest};
use crate::error::AwsError;
use crate::ports::{Deletion, Entered};
use crate::state::RequestItem;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How long a deed whose cluster RDS does not list is kept: a restore just asked for may not be
/// listed at once, and one that never appears was never made.
pub const UNSEEN_DEED_SECS: i64 = 3600;

/// RDS's creation time and this function's clock may differ by this much.
const CREATE_TIME_SLACK_SECS: i64 = 300;

/// Observing clusters joined with their deeds, and keeping the ledger.
#[derive(Clone)]
pub struct Deeds {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) ledger: Arc<dyn crate::ports::Ledger>,
}

impl Deeds {
    /// One cluster, with its deed.
    pub async fn observe_cluster(&self, id: &str) -> Result<Option<Cluster>, AwsError> {
        let Some(mut cluster) = self.rds.cluster(id).await? else {
            return Ok(None);
        };
        cluster.deed = self.ledger.deed(&cluster.id).await?;
        Ok(Some(cluster))
    }

    /// The deed of `cluster_id`, whether or not RDS lists the cluster now.
    pub async fn deed(&self, cluster_id: &str) -> Result<Option<Deed>, AwsError> {
        self.ledger.deed(cluster_id).await
    }

    /// An error that says "try again later" while a refresh of `cluster_id` is under way. An
    /// Update or a Delete of the clone waits for it: a refresh still making its new clone gives
    /// way to the request (and clears its mark) at its next step; one cutting over finishes in
    /// minutes. Acting while the names move could find the clone's name empty (a Delete would
    /// leave the new cluster behind, an Update would replace the clone).
    pub(super) async fn refresh_settled(&self, cluster_id: &str) -> Result<(), AwsError> {
        match self.ledger.deed(cluster_id).await? {
            Some(d) if d.refreshing.is_some() => Err(AwsError::transient(
                "Refresh",
                "RefreshUnderWay",
                format!("a refresh of {cluster_id} is under way; the request goes on once it has given way or finished"),
            )),
            _ => Ok(()),
        }
    }

    /// Strikes a deed whose cluster is gone or was never made (a refresh's own helpers).
    pub(super) async fn strike(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.ledger.strike(cluster_id).await
    }

    /// Every instance in the account and region (the CLI's listings).
    pub async fn observe_instances(&self) -> Result<Vec<crate::domain::Instance>, AwsError> {
        self.rds.all_instances().await
    }

    /// Every cluster, each with its deed. Only reads: a dry run and the CLI's listings change
    /// nothing.
    pub async fn observe_clusters(&self) -> Result<Vec<Cluster>, AwsError> {
        let mut clusters = self.rds.clusters().await?;
        let mut deeds: BTreeMap<String, Deed> = self
            .ledger
            .deeds()
            .await?
            .into_iter()
            .map(|d| (d.cluster_id.clone(), d))
            .collect();
        for c in &mut clusters {
            c.deed = deeds.remove(&c.id);
        }
        Ok(clusters)
    }

    /// Strikes the deeds of clusters `seen` (every cluster of the account, as listed) no longer
    /// holds: one being deleted, or one entered over an hour ago that RDS never listed (its
    /// restore never happened). The scheduled maintenance run does this once a day.
    pub async fn strike_unseen(&self, seen: &[Cluster]) -> Result<usize, AwsError> {
        let listed: std::collections::BTreeSet<&str> = seen.iter().map(|c| c.id.as_str()).collect();
        let now = self.core.now_secs();
        let mut struck = 0;
        for gone in self.ledger.deeds().await? {
            let unseen = !listed.contains(gone.cluster_id.as_str());
            // A refresh renames its clusters: RDS lists neither name for minutes meanwhile.
            let refreshing = gone.in_refresh()
                && !gone.deleting
                && now - gone.recorded < crate::domain::refresh::REFRESH_LIMIT_SECS;
            if unseen && !refreshing && (gone.deleting || now - gone.recorded > UNSEEN_DEED_SECS) {
                tracing::info!(cluster = %gone.cluster_id, "striking the deed of a cluster that is gone");
                self.ledger.strike(&gone.cluster_id).await?;
                struck += 1;
            }
        }
        Ok(struck)
    }

    /// Enters the restore's cluster in the ledger before RDS is asked for it: the same intent
    /// found there (a retry) is fine; another owner's deed stops the restore.
    pub(super) async fn enter_restore(
        &self,
        r: &RestoreRequest,
        item: Option<&RequestItem>,
    ) -> Result<Deed, AwsError> {
        let deed = self.deed_for(r, item)?;
        match self.ledger.enter(&deed).await? {
            Entered::New(d) | Entered::Held(d) => Ok(d),
            Entered::Other(other) if other.deleting && self.is_gone(&other.cluster_id).await? => {
                self.ledger.strike(&other.cluster_id).await?;
                Err(AwsError::transient(
                    "PutItem",
                    "DeedStruck",
                    format!("the deed of an earlier cluster {} was struck; entering again", r.cluster_id),
                ))
            }
            Entered::Other(_) => Err(AwsError::permanent(
                "PutItem",
                "ClusterIdHeld",
                format!(
                    "cluster id {} is held in this manager's ledger by another resource or request; nothing was made",
                    r.cluster_id
                ),
            )),
        }
    }

    /// Enters a deed made whole by the caller (a refresh's new or retired cluster): the same
    /// intent found there is fine; another owner's stops what was to follow.
    pub(super) async fn enter_deed(&self, deed: &Deed) -> Result<Deed, AwsError> {
        match self.ledger.enter(deed).await? {
            Entered::New(d) | Entered::Held(d) => Ok(d),
            Entered::Other(_) => Err(AwsError::permanent(
                "PutItem",
                "ClusterIdHeld",
                format!(
                    "cluster id {} is held in this manager's ledger by another resource or request",
                    deed.cluster_id
                ),
            )),
        }
    }

    async fn is_gone(&self, id: &str) -> Result<bool, AwsError> {
        Ok(self.rds.cluster(id).await?.is_none())
    }

    /// The deed of a planned restore: its owner comes from the plan (the tags this manager
    /// means to write), never from anything observed.
    fn deed_for(&self, r: &RestoreRequest, item: Option<&RequestItem>) -> Result<Deed, AwsError> {
        let owner = Ownership::from_tags(&r.tags).ok_or_else(|| {
            AwsError::permanent("Restore", "NoOwner", "a restore planned without an owner")
        })?;
        Ok(Deed {
            cluster_id: r.cluster_id.clone(),
            manager: owner.managed_by,
            role: owner.role,
            stack_id: owner.stack_id,
            logical_id: owner.logical_id,
            request_id: owner.request_id,
            root: Lineage::from_tags(&r.tags).map(|l| l.root),
            recorded: self.core.now_secs(),
            properties: item.map(|i| i.record.request.resource_properties.clone()),
            secret: None,
            key: None,
            marked: 0,
            deleting: false,
            refreshing: None,
            refresh_of: None,
            born: None,
            version: 0,
        })
    }

    /// A restore that found its cluster already there: an earlier attempt's (a lost reply, a
    /// frozen process) or someone else's. RDS's creation time tells: a cluster made before this
    /// deed was entered cannot be this manager's, and the deed entered for it is struck again.
    pub(super) async fn restore_found(&self, r: &RestoreRequest) -> Result<(), AwsError> {
        let found = self.rds.cluster(&r.cluster_id).await?;
        let deed = self.ledger.deed(&r.cluster_id).await?;
        let (Some(found), Some(deed)) = (found, deed) else {
            return Ok(());
        };
        let before = found
            .created
            .is_some_and(|t| t.unix_timestamp() < deed.recorded - CREATE_TIME_SLACK_SECS);
        if !before {
            return Ok(());
        }
        self.ledger.strike(&r.cluster_id).await?;
        Err(AwsError::permanent(
            "RestoreDBClusterToPointInTime",
            "ClusterIdTaken",
            format!("cluster id {} is taken by a cluster this manager did not make; nothing was changed", r.cluster_id),
        ))
    }

    /// The ledger's answer to "is the deed of `cluster_id` still what it was?": the fresh deed.
    pub(super) async fn fresh_deed(&self, cluster_id: &str) -> Result<Deed, AwsError> {
        self.ledger.deed(cluster_id).await?.ok_or_else(|| {
            AwsError::permanent(
                "GetItem",
                "NotOurs",
                format!(
                    "cluster {cluster_id} is not in this manager's ledger; nothing was changed"
                ),
            )
        })
    }

    /// Amends a deed; a deed changed meanwhile is read again at the next step.
    pub(super) async fn amend_deed(&self, deed: &Deed) -> Result<Deed, AwsError> {
        self.ledger.amend(deed).await?.ok_or_else(|| {
            AwsError::transient(
                "UpdateItem",
                "DeedChanged",
                format!(
                    "the deed of {} changed meanwhile; reading it again next time",
                    deed.cluster_id
                ),
            )
        })
    }

    /// After a deletion call: a cluster gone is struck from the ledger; one being deleted keeps
    /// its deed, marked, until a later look finds it gone.
    pub(super) async fn settle_deed(
        &self,
        cluster_id: &str,
        outcome: Deletion,
    ) -> Result<(), AwsError> {
        if outcome == Deletion::AlreadyGone {
            return self.ledger.strike(cluster_id).await;
        }
        match self.ledger.deed(cluster_id).await? {
            Some(d) if !d.deleting => {
                self.amend_deed(&Deed {
                    deleting: true,
                    ..d
                })
                .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The operator's `adopt`: clusters whose tags say this stack made them but which the ledger
    /// does not hold (made before it kept one), each with the deed their tags describe;
    /// recorded unless `dry_run` (each by a conditional write: a deed already there stays).
    pub async fn adopt(&self, dry_run: bool) -> Result<Vec<Adoption>, AwsError> {
        let manager = &self.core.settings.stack_name;
        let mut out = vec![];
        for c in self.observe_clusters().await? {
            let Some(deed) = crate::domain::ledger::adopted(&c, self.core.now_secs()) else {
                continue;
            };
            if c.deed.is_some() || deed.manager != *manager || !self.core.manages_identifier(&c.id)
            {
                continue;
            }
            let recorded = !dry_run && matches!(self.ledger.enter(&deed).await?, Entered::New(_));
            out.push(Adoption { deed, recorded });
        }
        Ok(out)
    }
}

/// A cluster `adopt` found, with the deed its tags describe and whether it was recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adoption {
    pub deed: Deed,
    pub recorded: bool,
}
