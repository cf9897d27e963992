//! CloudFormation as the World's stacks see it: a record of each stack (its status) and of its
//! resources (type, status, physical id), from which DescribeStackResource and DescribeStacks
//! answer (`FakeStacks`). Each answer the function sends updates the record as CloudFormation
//! would: a SUCCESS Create or Update names the new physical id, a SUCCESS Delete of the current
//! one removes it, a FAILED Create leaves CREATE_FAILED, a FAILED Delete DELETE_FAILED; a stack
//! first heard of through a Create's answer is CREATE_COMPLETE (or ROLLBACK_IN_PROGRESS). The
//! tests move stacks and resources through CloudFormation's other phases with `phase` and
//! `resource_phase`.

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
        if kind.as_deref() == Some("Create") && self.stacks.status_of(stack).is_none() {
            let phase = match body.status {
                Status::Success => "CREATE_COMPLETE",
                Status::Failed => "ROLLBACK_IN_PROGRESS",
            };
            self.stacks.set_stack_status(stack, phase);
        }
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

impl CloudFormation {
    /// The stack enters `status` (e.g. `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`).
    pub fn phase(&self, stack_id: &str, status: &str) {
        self.stacks.set_stack_status(stack_id, status);
    }

    /// The resource enters `status`, keeping its type and physical id.
    pub fn resource_phase(&self, stack_id: &str, logical_id: &str, status: &str) {
        if let Some(StackResource::Found {
            resource_type,
            physical_id,
            ..
        }) = self.stacks.get(stack_id, logical_id)
        {
            let found = StackResource::Found {
                resource_type,
                status: status.into(),
                physical_id,
            };
            self.stacks.set(stack_id, logical_id, found);
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
