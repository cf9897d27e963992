//! Observing for a request's clone. When the clone exists, one narrowed call finds it (and one
//! its instances). When it does not, the root's placement lease is taken first and the whole
//! account is observed under it, the request's own clone and the quotas included: two requests
//! racing for the last free slot of a volume are serialised, and the second sees the first's
//! clone.

use super::{Invocation, Manager};
use crate::adapters::OPERATION_TIMEOUT;
use crate::domain::{Cluster, InstanceSettings};
use crate::error::AwsError;
use crate::planner::progress::Observed;
use std::time::Duration;

/// How long a placement may hold its lease: longer than observing and one restore can take
/// (each call is cut at the SDK's operation timeout).
pub const LEASE_SECS: i64 = 60;
/// Tries for a busy lease; a placement holds it for a second or two.
const LEASE_TRIES: u32 = 8;
const LEASE_PAUSE: Duration = Duration::from_millis(750);

/// A placement lease held by this invocation.
#[derive(Debug, Clone)]
pub struct Lease {
    pub name: String,
    pub expires: i64,
    /// The lease's fencing number for this take: confirmed at the table before acting.
    pub fence: u64,
}

/// What observing found, and the lease held while acting on it.
#[derive(Debug)]
pub struct Sighting {
    pub observed: Observed,
    pub lease: Option<Lease>,
}

impl Manager {
    /// Observes for the clone `cluster_id` of a request on `root`. `Ok(None)`: another
    /// placement holds the root's lease; try again later. `known_absent` skips the narrowed look
    /// (a request recorded just now has no clone yet).
    pub(super) async fn observe_clone(
        &self,
        cluster_id: &str,
        root: &str,
        known_absent: bool,
        inv: &Invocation,
    ) -> Result<Option<Sighting>, AwsError> {
        if !known_absent {
            if let Some(cluster) = self.observe_cluster(cluster_id).await? {
                return Ok(Some(Sighting {
                    observed: self.observe_found(cluster).await?,
                    lease: None,
                }));
            }
        }
        let Some(lease) = self
            .take_lease(&format!("place-{root}"), LEASE_TRIES, inv)
            .await?
        else {
            return Ok(None);
        };
        match self.observe_account(cluster_id, root).await {
            Ok(observed @ Observed::Absent { .. }) => self.confirmed(observed, lease, inv).await,
            other => {
                self.release(&lease, inv).await;
                other.map(|observed| {
                    Some(Sighting {
                        observed,
                        lease: None,
                    })
                })
            }
        }
    }

    /// The sighting to place on, once the table confirms the lease: the last look before the
    /// planner's restore (only the pure planner and the local lease-time check lie between this
    /// confirmation and the restore call). `None` when the lease was taken over.
    async fn confirmed(
        &self,
        observed: Observed,
        lease: Lease,
        inv: &Invocation,
    ) -> Result<Option<Sighting>, AwsError> {
        match self.confirm(&lease, inv).await {
            Ok(true) => Ok(Some(Sighting {
                observed,
                lease: Some(lease),
            })),
            Ok(false) => Ok(None),
            Err(e) => {
                self.release(&lease, inv).await;
                Err(e)
            }
        }
    }

    /// Every cluster and the quotas; the request's own clone, should it be there after all.
    async fn observe_account(&self, cluster_id: &str, root: &str) -> Result<Observed, AwsError> {
        let clusters = self.observe_clusters().await?;
        if let Some(cluster) = clusters.iter().find(|c| c.id == cluster_id).cloned() {
            return self.observe_found(cluster).await;
        }
        let quotas = self.quotas_near(&clusters).await;
        let source_config = match self.caches.source_config.get(root) {
            Some(c) => c,
            None => {
                let c = self.source_config(root).await;
                self.caches.source_config.put(root, c.clone());
                c
            }
        };
        Ok(Observed::Absent {
            clusters,
            quotas,
            source_config,
            root_writer: self.writer_settings_of(root).await?,
        })
    }

    /// The account's quotas, asked only when the listing shows the account near RDS's default
    /// quotas (40 clusters, 40 instances; quotas are only ever raised): farther from them a
    /// clone cannot hit one, and the call is saved. A preflight, not a gate: where AWS does not
    /// answer, RDS itself refuses later.
    async fn quotas_near(&self, clusters: &[Cluster]) -> Option<crate::domain::Quotas> {
        const DEFAULT_QUOTA: usize = 40;
        const NEAR: usize = 5;
        let members: usize = clusters.iter().map(|c| c.members.len()).sum();
        if clusters.len().max(members) + NEAR < DEFAULT_QUOTA {
            return None;
        }
        if let Some(q) = self.caches.quotas.get("") {
            return Some(q);
        }
        match self.ports.rds.quotas().await {
            Ok(q) => {
                self.caches.quotas.put("", q);
                Some(q)
            }
            Err(e) => {
                tracing::debug!(error = %e, "account quotas unknown");
                None
            }
        }
    }

    /// The clone and its instances; while it has none, how its source's writer is set up (its
    /// writer is set up the same).
    async fn observe_found(&self, cluster: Cluster) -> Result<Observed, AwsError> {
        let instances = self.ports.rds.instances(&cluster.id).await?;
        let source = cluster.lineage().map(|l| l.source);
        let source_writer = match source.filter(|_| instances.is_empty()) {
            Some(source) => self.writer_settings_of(&source).await?,
            None => None,
        };
        Ok(Observed::Clone {
            cluster: Box::new(cluster),
            instances,
            source_writer,
        })
    }

    /// How the instances of `cluster_id` are set up (the first, by identifier).
    async fn writer_settings_of(
        &self,
        cluster_id: &str,
    ) -> Result<Option<InstanceSettings>, AwsError> {
        if let Some(known) = self.caches.writer_settings.get(cluster_id) {
            return Ok(known);
        }
        let mut instances = self.ports.rds.instances(cluster_id).await?;
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        let settings = instances.into_iter().next().map(|i| i.settings);
        if settings.is_some() {
            self.caches
                .writer_settings
                .put(cluster_id, settings.clone());
        }
        Ok(settings)
    }

    /// Takes a placement lease, trying a few times while its holder finishes.
    async fn take_lease(
        &self,
        name: &str,
        tries: u32,
        inv: &Invocation,
    ) -> Result<Option<Lease>, AwsError> {
        for attempt in 0..tries {
            if let Some(lease) = self.take_lease_for(name, LEASE_SECS, inv).await? {
                return Ok(Some(lease));
            }
            if attempt + 1 < tries && inv.has_time_for(super::STEP_BUDGET + LEASE_PAUSE) {
                tokio::time::sleep(LEASE_PAUSE).await;
            }
        }
        Ok(None)
    }

    /// Takes a lease for `secs` if it is free (one try).
    pub(crate) async fn take_lease_for(
        &self,
        name: &str,
        secs: i64,
        inv: &Invocation,
    ) -> Result<Option<Lease>, AwsError> {
        let now = self.now_secs();
        let taken = self
            .ports
            .state
            .take_lease(name, &inv.holder, now, secs)
            .await?;
        Ok(taken.map(|fence| Lease {
            name: name.to_string(),
            expires: now + secs,
            fence,
        }))
    }

    /// True when this invocation still holds `lease` with its fence, as the table says: a
    /// holder whose lease expired and was taken over (its clock was behind, or it paused) learns
    /// it here, and leaves the placement to the new holder. Nothing to release then: the lease
    /// is someone else's.
    pub(crate) async fn confirm(&self, lease: &Lease, inv: &Invocation) -> Result<bool, AwsError> {
        let held = self
            .ports
            .state
            .confirm_lease(&lease.name, &inv.holder, lease.fence, self.now_secs())
            .await?;
        if !held {
            tracing::warn!(lease = %lease.name, fence = lease.fence, "the lease was taken over: not acting under it");
        }
        Ok(held)
    }

    /// `confirm`, for a holder that can simply leave the work for later: an error counts as
    /// not confirmed.
    pub(crate) async fn still_held(&self, lease: &Lease, inv: &Invocation) -> bool {
        self.confirm(lease, inv).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, lease = %lease.name, "could not confirm the lease; leaving the work for later");
            false
        })
    }

    /// True while the lease leaves room for one more call: a holder never acts past its lease.
    pub(crate) fn lease_holds(&self, lease: &Lease) -> bool {
        self.now_secs() + OPERATION_TIMEOUT.as_secs() as i64 <= lease.expires
    }

    pub(crate) async fn release(&self, lease: &Lease, inv: &Invocation) {
        if let Err(e) = self
            .ports
            .state
            .release_lease(&lease.name, &inv.holder)
            .await
        {
            tracing::warn!(error = %e, lease = %lease.name, "could not release a lease; it expires by itself");
        }
    }
}
