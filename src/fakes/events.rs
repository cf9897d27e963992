//! EventBridge in memory: the follow-up rule and the lifecycle events.

use super::lock;
use crate::domain::events::LifecycleEvent;
use crate::error::AwsError;
use crate::ports::*;
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Mutex;

/// Records whether the follow-up rule is on, and its target.
#[derive(Default)]
pub struct FakeFollowUps {
    state: Mutex<(bool, Option<String>)>,
    refuse: Mutex<bool>,
    calls: std::sync::atomic::AtomicU32,
}

impl FakeFollowUps {
    /// Makes the next `ensure` fail (EventBridge down, or a missing permission).
    pub fn refuse_next(&self) {
        *lock(&self.refuse) = true;
    }

    pub fn enabled(&self) -> bool {
        lock(&self.state).0
    }

    pub fn target(&self) -> Option<String> {
        lock(&self.state).1.clone()
    }

    /// Calls made (each one EventBridge call: the stack made the rule and its target).
    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn count(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl FollowUps for FakeFollowUps {
    async fn ensure(&self, function_arn: &str) -> Result<(), AwsError> {
        self.count();
        if std::mem::take(&mut *lock(&self.refuse)) {
            return Err(AwsError::permanent(
                "PutRule",
                "AccessDeniedException",
                "injected",
            ));
        }
        *lock(&self.state) = (true, Some(function_arn.to_string()));
        Ok(())
    }

    async fn stop(&self) -> Result<(), AwsError> {
        self.count();
        lock(&self.state).0 = false;
        Ok(())
    }
}

/// Records every event put.
#[derive(Default)]
pub struct FakeEvents {
    sent: Mutex<Vec<(String, Value)>>,
}

impl FakeEvents {
    pub fn sent(&self) -> Vec<(String, Value)> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Events for FakeEvents {
    async fn put(&self, event: &LifecycleEvent) -> Result<(), AwsError> {
        let sent = (event.detail_type().to_string(), event.detail());
        lock(&self.sent).push(sent);
        Ok(())
    }
}
