//! Is a request what it says? Anyone who may invoke the function can send a request with any
//! StackId, LogicalResourceId and PhysicalResourceId. Two checks:
//!
//! - `screen`, before anything is recorded and without asking AWS anything: the resource type
//!   must be the one this manager serves, and an ARN given as PhysicalResourceId must name a
//!   cluster of this function's own partition, region and account.
//! - `vet_stack` (with `VERIFY_STACK_REQUESTS`), inside the request's work, whenever an
//!   invocation takes up a pending Update or Delete, before it acts: CloudFormation itself must
//!   be doing that to that resource now.
//!   It runs after the request is recorded, so a throttled CloudFormation only delays the
//!   request (its deadline still answers it in time), never drops it.

use super::Core;
use super::Invocation;
use crate::cfn::{CfnRequest, Home, PhysicalId, RequestType};
use crate::domain::{StackResource, StackStatus};
use crate::error::AwsError;
use std::sync::Arc;

/// Why a request is not served (yet).
#[derive(Debug)]
pub enum Refusal {
    /// Answered FAILED with this reason; nothing is changed.
    Refused(String),
    /// The check itself could not be made now (throttled): the next follow-up checks again.
    Unchecked(AwsError),
}

/// Screening requests, and the stack check of Updates and Deletes.
#[derive(Clone)]
pub struct Vet {
    pub(super) core: Core,
    pub(super) stacks: Arc<dyn crate::ports::Stacks>,
}

impl Vet {
    /// This function's partition, region and account, from its own ARN or its role's.
    pub(super) fn home(&self, inv: &Invocation) -> Option<Home> {
        Home::of(
            inv.function_arn.as_deref(),
            self.core.settings.guard.role_arn.as_deref(),
        )
    }

    /// What is refused before anything is recorded: another resource type, and a physical id
    /// spelled as an ARN that names no cluster of this function.
    pub(super) fn screen(&self, request: &CfnRequest, inv: &Invocation) -> Result<(), String> {
        let ours = &self.core.settings.resource_type;
        // A Delete is served whatever type it names: it can only remove clones of its stack and
        // logical id, and refusing it would block the stack's deletion.
        if request.request_type != RequestType::Delete
            && !request.resource_type.is_empty()
            && request.resource_type != *ours
        {
            return Err(format!(
                "this clone manager serves {ours}, not {}",
                request.resource_type
            ));
        }
        let Some(id) = request.physical_resource_id.as_deref() else {
            return Ok(());
        };
        let home = self.home(inv);
        match PhysicalId::parse_in(Some(id), home.as_ref()) {
            PhysicalId::Foreign if PhysicalId::looks_like_arn(id) => Err(format!(
                "the PhysicalResourceId {id:?} names no cluster of this clone manager (not an RDS cluster ARN of its own partition, region and account); nothing was changed"
            )),
            _ => Ok(()),
        }
    }

    /// CloudFormation's own record of the resource and the stack, against what a pending Update
    /// or Delete claims. Creates, and every request without `VERIFY_STACK_REQUESTS`, pass.
    pub(super) async fn vet_stack(&self, request: &CfnRequest) -> Result<(), Refusal> {
        if !self.core.settings.guard.verify_stack_requests
            || request.request_type == RequestType::Create
        {
            return Ok(());
        }
        let stacks = &self.stacks;
        let found = stacks
            .resource(&request.stack_id, &request.logical_resource_id)
            .await
            .map_err(unchecked)?;
        let current =
            judge(request, &self.core.settings.resource_type, &found).map_err(Refusal::Refused)?;
        let Some(phases) = delete_needs_stack(request, current, &found) else {
            return Ok(());
        };
        let status = stacks
            .stack_status(&request.stack_id)
            .await
            .map_err(unchecked)?;
        match status.filter(phases) {
            Some(_) => Ok(()),
            None => Err(Refusal::Refused(not_deleting(request, current))),
        }
    }
}

fn unchecked(e: AwsError) -> Refusal {
    if e.retryable {
        Refusal::Unchecked(e)
    } else {
        Refusal::Refused(format!(
            "the request could not be checked with CloudFormation, so nothing was changed: {e}"
        ))
    }
}

/// The stack phases a Delete needs, or `None` when the resource's own status settles it (it is
/// being deleted) or the request is an Update.
fn delete_needs_stack(
    request: &CfnRequest,
    current: bool,
    found: &StackResource,
) -> Option<fn(&StackStatus) -> bool> {
    let deleting = matches!(found, StackResource::Found { status, .. } if status.is_deleting());
    match request.request_type {
        RequestType::Delete if current && deleting => None,
        RequestType::Delete if current => Some(StackStatus::deletes_current_ids),
        RequestType::Delete => Some(StackStatus::deletes_other_ids),
        _ => None,
    }
}

fn not_deleting(request: &CfnRequest, current: bool) -> String {
    let which = if current {
        "its current physical id, which CloudFormation is not deleting"
    } else {
        "a physical id other than its current one, outside the stack's clean-up, deletion or rollback"
    };
    format!(
        "the Delete of {} of stack {} names {which}: the request is not CloudFormation's; nothing was changed",
        request.logical_resource_id, request.stack_id
    )
}

/// What the stack says of the resource, against what the request claims. `Ok(current)`: the
/// request names the resource's current physical id.
fn judge(request: &CfnRequest, ours: &str, found: &StackResource) -> Result<bool, String> {
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
    let updating = status.is_updating();
    if request.request_type == RequestType::Update && !updating {
        return Err(format!(
            "CloudFormation is not working on {who} (it is {status}): the request is not CloudFormation's; nothing was changed"
        ));
    }
    Ok(current)
}
