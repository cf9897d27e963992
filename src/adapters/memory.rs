//! In-process adapters: a pending store and a responder that live as long as the process. The
//! operator CLI serves its own requests with them (it has no ResponseURL and no follow-up rule),
//! and the tests use them as fakes.

use crate::cfn::ResponseBody;
use crate::error::{AwsError, Result};
use crate::pending::PendingWork;
use crate::ports::{Added, FollowUps, PendingStore, Responder};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pending store in memory, with the same create-if-absent and take-once semantics.
#[derive(Default)]
pub struct MemoryPending {
    records: Mutex<BTreeMap<String, PendingWork>>,
}

impl MemoryPending {
    pub fn keys(&self) -> Vec<String> {
        lock(&self.records).keys().cloned().collect()
    }
}

#[async_trait]
impl PendingStore for MemoryPending {
    async fn add(&self, key: &str, work: &PendingWork) -> Result<Added> {
        let mut r = lock(&self.records);
        if r.contains_key(key) {
            return Ok(Added::Exists);
        }
        r.insert(key.to_string(), work.clone());
        Ok(Added::New)
    }

    async fn get(&self, key: &str) -> Result<Option<PendingWork>> {
        Ok(lock(&self.records).get(key).cloned())
    }

    async fn list(&self) -> Result<Vec<(String, PendingWork)>> {
        Ok(lock(&self.records)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn take(&self, key: &str) -> Result<bool> {
        Ok(lock(&self.records).remove(key).is_some())
    }
}

/// Keeps every response sent, parsed from the exact bytes the real responder would PUT.
#[derive(Default)]
pub struct MemoryResponder {
    sent: Mutex<Vec<Value>>,
}

impl MemoryResponder {
    pub fn sent(&self) -> Vec<Value> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Responder for MemoryResponder {
    async fn send(&self, _url: &str, body: &ResponseBody) -> Result<()> {
        let v = serde_json::from_slice(&body.to_bytes()).unwrap_or(Value::Null);
        lock(&self.sent).push(v);
        Ok(())
    }
}

/// Follow-ups for a process that polls by itself (the CLI's `--wait`): nothing to arm.
pub struct NoFollowUps;

#[async_trait]
impl FollowUps for NoFollowUps {
    async fn ensure(&self, _function_arn: &str) -> Result<(), AwsError> {
        Ok(())
    }

    async fn stop(&self) -> Result<(), AwsError> {
        Ok(())
    }
}
