//! Observing for a request's clone. When the clone exists, one narrowed call finds it (and one
//! its instances). When it does not, the root's placement lease is taken first and the whole
//! account is observed under it, the request's own clone and the quotas included: two requests
//! racing for the last free slot of a volume are serialised, and the second sees the first's
//! clone.

use super::Core;
use super::{Invocation, Lease};
use crate::cfn::CfnRequest;
use crate::domain::properties::CloneProperties;
use crate::domain::{access, ident, Cluster, InstanceSettings};
use crate::error::AwsError;
use crate::planner::progress::Observed;
use std::sync::Arc;
use std::time::Duration;

/// How long a placement may hold its lease: longer than observing and one restore can take
/// (each call is cut at the SDK's operation timeout).
pub const LEASE_SECS: i64 = 60;
/// Tries for a busy lease; a placement holds it for a second or two.
const LEASE_TRIES: u32 = 8;
const LEASE_PAUSE: Duration = Duration::from_millis(750);

/// What observing found, and the lease held while acting on it.
#[derive(Debug)]
pub struct Sighting {
    pub observed: Observed,
    pub lease: Option<Lease>,
}

/// Making a clone: observe, plan, apply, under the root's placement lease.
#[derive(Clone)]
pub struct Place {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) caches: Arc<super::cache::Caches>,
    pub(super) answers: Arc<super::answer::Answers>,
    pub(super) applier: Arc<super::apply::Applier>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
    pub(super) expiry: Arc<super::expiry::Expiries>,
    pub(super) leases: Arc<super::lease::Leases>,
    pub(super) sources: Arc<super::sources::Sources>,
}

impl Place {
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
            if let Some(cluster) = self.deeds.observe_cluster(cluster_id).await? {
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
                self.leases.release(&lease, inv).await;
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
        match self.leases.confirm(&lease, inv).await {
            Ok(true) => Ok(Some(Sighting {
                observed,
                lease: Some(lease),
            })),
            Ok(false) => Ok(None),
            Err(e) => {
                self.leases.release(&lease, inv).await;
                Err(e)
            }
        }
    }

    /// Every cluster and the quotas; the request's own clone, should it be there after all.
    async fn observe_account(&self, cluster_id: &str, root: &str) -> Result<Observed, AwsError> {
        let clusters = self.deeds.observe_clusters().await?;
        if let Some(cluster) = clusters.iter().find(|c| c.id == cluster_id).cloned() {
            return self.observe_found(cluster).await;
        }
        let quotas = self.quotas_near(&clusters).await;
        let source_config = match self.caches.source_config.get(root) {
            Some(c) => c,
            None => {
                let c = self.sources.source_config(root).await;
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
        match self.rds.quotas().await {
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
        let instances = self.rds.instances(&cluster.id).await?;
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
        let mut instances = self.rds.instances(cluster_id).await?;
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
            if let Some(lease) = self.leases.take_lease_for(name, LEASE_SECS, inv).await? {
                return Ok(Some(lease));
            }
            if attempt + 1 < tries && inv.has_time_for(super::STEP_BUDGET + LEASE_PAUSE) {
                tokio::time::sleep(LEASE_PAUSE).await;
            }
        }
        Ok(None)
    }
}

impl Place {
    /// What the stack's security settings refuse, before anything is recorded or made: a
    /// `ClusterId` outside the identifier prefix, readers of other accounts than allowed, a
    /// secret prefix the stack does not allow.
    pub(super) fn admissible(&self, props: &CloneProperties, stack_id: &str) -> Result<(), String> {
        let guard = &self.core.settings.guard;
        let prefix = &guard.cluster_id_prefix;
        if let Some(id) = props
            .cluster_id
            .as_ref()
            .filter(|id| !id.starts_with(prefix.as_str()))
        {
            return Err(format!("invalid property ClusterId: must start with {prefix:?}, the clone manager's ClusterIdPrefix (its role may only write clusters named so), got {id:?}"));
        }
        let own = guard
            .role_arn
            .as_deref()
            .and_then(access::account_of)
            .or_else(|| access::account_of(stack_id))
            .unwrap_or_default();
        let mut readers = props.access_principal_arns.clone();
        readers.extend(props.prepare.iter().flat_map(|p| p.preparers.clone()));
        let foreign = access::foreign_principals(&readers, own, &guard.allowed_reader_accounts);
        if !foreign.is_empty() {
            return Err(format!("invalid property AccessPrincipalArns/PreparerArns: {foreign:?} are not principals of this account or of the clone manager's AllowedReaderAccounts"));
        }
        if let Some(p) = props.secret_prefix.as_ref().filter(|_| props.set_password) {
            let allowed = p.starts_with(self.core.settings.default_secret_prefix.as_str())
                || guard
                    .allowed_secret_prefixes
                    .iter()
                    .any(|a| p.starts_with(a.as_str()));
            if !allowed {
                return Err(format!("invalid property SecretPrefix: {p:?} is neither under the clone manager's DefaultSecretPrefix {:?} nor under one of its AllowedSecretPrefixes", self.core.settings.default_secret_prefix));
            }
        }
        Ok(())
    }

    /// The clone's identifier, and the one to take instead if it is another cluster's.
    pub(super) fn clone_ids(
        &self,
        props: &CloneProperties,
        received: i64,
        request: &CfnRequest,
    ) -> (String, Option<String>) {
        let at = time::OffsetDateTime::from_unix_timestamp(received)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        match &props.cluster_id {
            None => {
                let prefix = &self.core.settings.guard.cluster_id_prefix;
                let stem = format!("{prefix}{}", props.source_cluster_id);
                (
                    ident::generated_clone_id(&stem, at, &request.request_id),
                    None,
                )
            }
            Some(id) => (
                id.to_ascii_lowercase(),
                props
                    .no_fail_on_existing_cluster
                    .then(|| ident::generated_clone_id(id, at, &request.request_id)),
            ),
        }
    }
}
