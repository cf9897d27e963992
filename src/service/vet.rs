//! Is a request what it says? Anyone who may invoke the function can send a request with any
//! StackId, LogicalResourceId and PhysicalResourceId. Before anything is recorded: the resource
//! type must be the one this manager serves, and (with `VERIFY_STACK_REQUESTS`) CloudFormation
//! itself must be updating or deleting that very resource now.

use super::Manager;
use crate::cfn::{CfnRequest, RequestType};
use crate::error::AwsError;
use crate::ports::StackResource;

/// Why a request is not served.
#[derive(Debug)]
pub enum Refusal {
    /// Answered FAILED with this reason; nothing is changed.
    Refused(String),
    /// The check itself could not be made now (throttled): delivered again later.
    Unchecked(AwsError),
}

impl Manager {
    pub(super) async fn vet(&self, request: &CfnRequest) -> Result<(), Refusal> {
        let ours = &self.settings.resource_type;
        // A Delete is served whatever type it names: it can only remove clones whose ownership
        // tags name its stack and logical id, and refusing it would block the stack's deletion.
        if request.request_type != RequestType::Delete
            && !request.resource_type.is_empty()
            && request.resource_type != *ours
        {
            return Err(Refusal::Refused(format!(
                "this clone manager serves {ours}, not {}",
                request.resource_type
            )));
        }
        if !self.settings.guard.verify_stack_requests || request.request_type == RequestType::Create
        {
            return Ok(());
        }
        let found = self
            .ports
            .stacks
            .resource(&request.stack_id, &request.logical_resource_id)
            .await;
        match found {
            Ok(resource) => judge(request, ours, &resource).map_err(Refusal::Refused),
            Err(e) if e.retryable => Err(Refusal::Unchecked(e)),
            Err(e) => Err(Refusal::Refused(format!(
                "the request could not be checked with CloudFormation, so nothing was changed: {e}"
            ))),
        }
    }
}

/// What the stack says of the resource, against what the request claims.
fn judge(request: &CfnRequest, ours: &str, found: &StackResource) -> Result<(), String> {
    let who = format!(
        "{} of stack {}",
        request.logical_resource_id, request.stack_id
    );
    let StackResource::Found {
        resource_type,
        status,
        physical_id,
    } = found
    else {
        return Err(format!("CloudFormation has no resource {who}: the request is not CloudFormation's; nothing was changed"));
    };
    if resource_type != ours {
        return Err(format!(
            "{who} is a {resource_type}, not a {ours}; nothing was changed"
        ));
    }
    let current = physical_id.as_deref() == request.physical_resource_id.as_deref();
    let fits = match request.request_type {
        RequestType::Update => status.starts_with("UPDATE") && status.ends_with("IN_PROGRESS"),
        // The Delete of a replaced clone comes during the stack's clean-up, when the resource
        // itself (now the new clone) is complete: only the current clone needs the resource in
        // deletion.
        RequestType::Delete => !current || status.ends_with("IN_PROGRESS"),
        RequestType::Create => true,
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "CloudFormation is not working on {who} (it is {status}): the request is not CloudFormation's; nothing was changed"
        ))
    }
}
