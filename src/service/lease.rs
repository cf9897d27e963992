//! Fenced leases in the state table: a placement (or maintenance, or a sweep) of one root acts
//! only while it holds the root's lease, confirms its fence at the table before acting, and
//! never acts past the lease's expiry.

use super::{Core, Invocation};
use crate::error::AwsError;
use crate::ports::{StateStore, OPERATION_TIMEOUT};
use std::sync::Arc;

/// A placement lease held by this invocation.
#[derive(Debug, Clone)]
pub struct Lease {
    pub name: String,
    pub expires: i64,
    /// The lease's fencing number for this take: confirmed at the table before acting.
    pub fence: u64,
}

/// Taking, confirming and releasing leases.
#[derive(Clone)]
pub struct Leases {
    pub(super) core: Core,
    pub(super) state: Arc<dyn StateStore>,
}

impl Leases {
    /// Takes a lease for `secs` if it is free (one try).
    pub(crate) async fn take_lease_for(
        &self,
        name: &str,
        secs: i64,
        inv: &Invocation,
    ) -> Result<Option<Lease>, AwsError> {
        let now = self.core.now_secs();
        let taken = self.state.take_lease(name, &inv.holder, now, secs).await?;
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
            .state
            .confirm_lease(&lease.name, &inv.holder, lease.fence, self.core.now_secs())
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
        self.core.now_secs() + OPERATION_TIMEOUT.as_secs() as i64 <= lease.expires
    }

    pub(crate) async fn release(&self, lease: &Lease, inv: &Invocation) {
        if let Err(e) = self.state.release_lease(&lease.name, &inv.holder).await {
            tracing::warn!(error = %e, lease = %lease.name, "could not release a lease; it expires by itself");
        }
    }
}
