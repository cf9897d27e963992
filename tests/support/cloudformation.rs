//! CloudFormation as the World's stacks see it: each answer the function sends updates what
//! DescribeStackResource says of the resource, as CloudFormation would (a SUCCESS Create or
//! Update names the new physical id, a SUCCESS Delete of the current one removes it, a FAILED
//! Create leaves CREATE_FAILED, a FAILED Delete DELETE_FAILED).

use async_trait::async_trait;
use aurora_clone_manager::cfn::response::{ResponseBody, Status};
use aurora_clone_manager::fakes::{FakeResponder, FakeStacks};
use aurora_clone_manager::ports::{Responder, StackResource};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

pub struct CloudFormation {
    pub answers: Arc<FakeResponder>,
    pub stacks: Arc<FakeStacks>,
    /// Request id -> request type, as the World made them.
    pub kinds: Arc<Mutex<HashMap<String, String>>>,
}

impl CloudFormation {
    fn record(&self, body: &ResponseBody) {
        let kind = self.kinds.lock().unwrap().get(&body.request_id).cloned();
        let (stack, logical) = (&body.stack_id, &body.logical_resource_id);
        let found = |status: &str| StackResource::Found {
            resource_type: "Custom::AuroraClone".into(),
            status: status.into(),
            physical_id: Some(body.physical_resource_id.clone()),
        };
        let current = self.stacks.get(stack, logical);
        let is_current = matches!(&current, Some(StackResource::Found { physical_id: Some(p), .. }) if *p == body.physical_resource_id);
        match (kind.as_deref(), body.status) {
            (Some("Create"), Status::Success) => {
                self.stacks.set(stack, logical, found("CREATE_COMPLETE"))
            }
            (Some("Create"), Status::Failed) => {
                self.stacks.set(stack, logical, found("CREATE_FAILED"))
            }
            (Some("Update"), Status::Success) => {
                self.stacks.set(stack, logical, found("UPDATE_COMPLETE"))
            }
            (Some("Delete"), Status::Success) if is_current => self.stacks.forget(stack, logical),
            (Some("Delete"), Status::Failed) if is_current => {
                self.stacks.set(stack, logical, found("DELETE_FAILED"))
            }
            _ => {}
        }
    }
}

#[async_trait]
impl Responder for CloudFormation {
    async fn send(
        &self,
        url: &str,
        body: &ResponseBody,
        until: Option<Instant>,
    ) -> Result<(), String> {
        self.answers.send(url, body, until).await?;
        self.record(body);
        Ok(())
    }
}
