//! CloudFormation in memory: what each stack says of its resources.

use super::lock;
use crate::error::AwsError;
use crate::ports::{StackResource, Stacks};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeStacks {
    resources: Mutex<BTreeMap<(String, String), StackResource>>,
    denied: Mutex<Vec<String>>,
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

    /// Every call about `stack_id` is refused (a stack this role may not read).
    pub fn deny(&self, stack_id: &str) {
        lock(&self.denied).push(stack_id.into());
    }
}

#[async_trait]
impl Stacks for FakeStacks {
    async fn resource(&self, stack_id: &str, logical_id: &str) -> Result<StackResource, AwsError> {
        if lock(&self.denied).iter().any(|s| s == stack_id) {
            return Err(AwsError::permanent(
                "DescribeStackResource",
                "AccessDenied",
                "not authorized to perform cloudformation:DescribeStackResource",
            ));
        }
        Ok(lock(&self.resources)
            .get(&(stack_id.to_string(), logical_id.to_string()))
            .cloned()
            .unwrap_or(StackResource::Missing))
    }
}
