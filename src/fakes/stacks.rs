//! CloudFormation in memory: what each stack says of its resources, and each stack's status.
//! `throttle(n)` refuses the next `n` calls as throttled (after the SDK's own retries).

use super::lock;
use crate::domain::StackStatus;
use crate::error::AwsError;
use crate::ports::{StackResource, Stacks};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeStacks {
    resources: Mutex<BTreeMap<(String, String), StackResource>>,
    denied: Mutex<Vec<String>>,
    statuses: Mutex<BTreeMap<String, StackStatus>>,
    throttled: std::sync::atomic::AtomicU32,
    calls: std::sync::atomic::AtomicU32,
}

impl FakeStacks {
    pub fn set(&self, stack_id: &str, logical_id: &str, resource: StackResource) {
        lock(&self.resources).insert((stack_id.into(), logical_id.into()), resource);
    }

    pub fn get(&self, stack_id: &str, logical_id: &str) -> Option<StackResource> {
        lock(&self.resources)
            .get(&(stack_id.to_string(), logical_id.to_string()))
            .cloned()
    }

    /// The resource is gone from its stack.
    pub fn forget(&self, stack_id: &str, logical_id: &str) {
        lock(&self.resources).remove(&(stack_id.to_string(), logical_id.to_string()));
    }

    /// The stack's own status (`DescribeStacks`).
    pub fn set_stack_status(&self, stack_id: &str, status: impl Into<StackStatus>) {
        lock(&self.statuses).insert(stack_id.into(), status.into());
    }

    pub fn status_of(&self, stack_id: &str) -> Option<StackStatus> {
        lock(&self.statuses).get(stack_id).cloned()
    }

    /// The stack is gone (with every resource of it).
    pub fn remove_stack(&self, stack_id: &str) {
        lock(&self.statuses).remove(stack_id);
        lock(&self.resources).retain(|(s, _), _| s != stack_id);
    }

    /// Refuses the next `n` calls as throttled (each as the SDK reports it after its retries).
    pub fn throttle(&self, n: u32) {
        self.throttled.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Calls made, throttled or not.
    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts the call; an error when it is throttled or the stack may not be read.
    fn admit(&self, operation: &'static str, stack_id: &str) -> Result<(), AwsError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.calls.fetch_add(1, SeqCst);
        let left = self.throttled.load(SeqCst);
        if left > 0 {
            self.throttled.store(left - 1, SeqCst);
            return Err(AwsError::transient(
                operation,
                "Throttling",
                "Rate exceeded",
            ));
        }
        if lock(&self.denied).iter().any(|s| s == stack_id) {
            return Err(AwsError::permanent(
                operation,
                "AccessDenied",
                format!("not authorized to perform cloudformation:{operation}"),
            ));
        }
        Ok(())
    }

    /// Every call about `stack_id` is refused (a stack this role may not read).
    pub fn deny(&self, stack_id: &str) {
        lock(&self.denied).push(stack_id.into());
    }
}

#[async_trait]
impl Stacks for FakeStacks {
    async fn resource(&self, stack_id: &str, logical_id: &str) -> Result<StackResource, AwsError> {
        self.admit("DescribeStackResource", stack_id)?;
        Ok(lock(&self.resources)
            .get(&(stack_id.to_string(), logical_id.to_string()))
            .cloned()
            .unwrap_or(StackResource::Missing))
    }

    async fn stack_status(&self, stack_id: &str) -> Result<Option<StackStatus>, AwsError> {
        self.admit("DescribeStacks", stack_id)?;
        Ok(lock(&self.statuses).get(stack_id).cloned())
    }
}
