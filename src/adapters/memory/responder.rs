//! Answers and follow-ups for a process that serves its own requests (the operator CLI) and
//! for tests: responses kept in memory, a follow-up rule that is never needed.

use super::lock;
use crate::cfn::ResponseBody;
use crate::error::AwsError;
use crate::ports::{FollowUps, Responder};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use tokio::time::Instant;

/// Keeps every response sent, parsed from the exact bytes the real responder would PUT.
/// `fail_next(n)` refuses the next `n` PUTs, as a ResponseURL answering 500 would. Like the HTTP
/// responder, it makes no attempt with less than a second left before `until`.
#[derive(Default)]
pub struct MemoryResponder {
    sent: Mutex<Vec<Value>>,
    failures: AtomicU32,
    attempts: AtomicU32,
}

impl MemoryResponder {
    pub fn sent(&self) -> Vec<Value> {
        lock(&self.sent).clone()
    }

    pub fn fail_next(&self, n: u32) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// PUTs attempted, delivered or not.
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Responder for MemoryResponder {
    async fn send(
        &self,
        _url: &str,
        body: &ResponseBody,
        until: Option<Instant>,
    ) -> Result<(), String> {
        let left = until.map(|u| u.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l < std::time::Duration::from_secs(1)) {
            return Err("no attempt fitted in the time left".into());
        }
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self.failures.load(Ordering::SeqCst);
        if failing > 0 {
            self.failures.store(failing - 1, Ordering::SeqCst);
            return Err("HTTP 500 Internal Server Error".into());
        }
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
