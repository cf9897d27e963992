//! What tests inject into the fake RDS: failures, throttling, panics, stuck states, deletion
//! protection and quotas; and `begin`, the gate every call passes, where they fire.

use super::{lock, FakeRds, RdsState};
use crate::adapters::is_transient;
use crate::adapters::memory::{throttled, SDK_ATTEMPTS};
use crate::adapters::rds::{refusal_is_permanent, RDS_NOT_NOW};
use crate::domain::ClusterStatus;
use crate::error::AwsError;
use std::sync::MutexGuard;

/// An error as the SDK adapter would report it: retryable where the adapter says so.
pub fn rds_error(operation: &'static str, code: &str, message: &str) -> AwsError {
    AwsError {
        operation,
        code: code.to_string(),
        message: message.to_string(),
        retryable: is_transient(code, RDS_NOT_NOW) && !refusal_is_permanent(code, message),
    }
}

impl FakeRds {
    /// Sets the account's DB cluster and instance quotas (unlimited by default).
    pub fn set_quotas(&self, clusters: u64, instances: u64) {
        let mut st = lock(&self.state);
        st.max_clusters = Some(clusters);
        st.max_instances = Some(instances);
    }

    /// Makes the next call of `operation` fail with `code` (retryable as the adapter judges).
    pub fn fail_next(&self, operation: &'static str, code: &str) {
        lock(&self.state)
            .failures
            .insert(operation, rds_error(operation, code, "injected"));
    }

    /// Throttles `percent` of calls, spread evenly, before they take effect (0 stops it).
    pub fn throttle_percent(&self, percent: u32) {
        lock(&self.state).throttle_percent = percent.min(100);
    }

    /// Turns deletion protection on: deleting the cluster is refused until it is turned off.
    pub fn protect(&self, id: &str) {
        lock(&self.state).protected.insert(id.to_string());
    }

    /// Keeps a cluster in `status` until cleared (a terminal state, or `modifying`).
    pub fn stick(&self, id: &str, status: impl Into<ClusterStatus>) {
        lock(&self.state).stuck.insert(id.into(), status.into());
    }

    pub fn unstick(&self, id: &str) {
        lock(&self.state).stuck.remove(id);
    }

    /// Makes the next call of `operation` panic (to test that a panic still answers).
    pub fn panic_next(&self, operation: &'static str) {
        lock(&self.state).panics.push(operation);
    }

    /// Every call: its latency, then an injected panic, throttle or failure, if one is due;
    /// otherwise the state to act on.
    pub(super) async fn begin(
        &self,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, RdsState>, AwsError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut st = lock(&self.state);
        if let Some(i) = st.panics.iter().position(|p| *p == operation) {
            st.panics.remove(i);
            drop(st);
            panic!("injected panic in {operation}");
        }
        // As the SDK retries: the throttle surfaces only when every attempt was throttled.
        let throttled = (0..SDK_ATTEMPTS).all(|_| {
            st.attempts += 1;
            throttled(st.attempts, st.throttle_percent)
        });
        st.calls.push(operation.to_string());
        if throttled {
            return Err(rds_error(operation, "Throttling", "Rate exceeded"));
        }
        match st.failures.remove(operation) {
            Some(e) => Err(e),
            None => Ok(st),
        }
    }
}
