//! The `Stacks` port over aws-sdk-cloudformation: `DescribeStackResource`, `DescribeStacks`; and
//! for the CLI, a deployed stack's parameters and resources.

use super::aws_error;
use crate::domain::StackStatus;
use crate::error::AwsError;
use crate::ports::{StackResource, Stacks};
use async_trait::async_trait;
use aws_sdk_cloudformation::Client;

pub struct SdkStacks {
    client: Client,
}

impl SdkStacks {
    pub fn new(client: Client) -> SdkStacks {
        SdkStacks { client }
    }

    /// The parameters a deployed stack runs with (defaults included), or `None` when there is
    /// no such stack in this account and region.
    pub async fn parameters(
        &self,
        stack: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, AwsError> {
        let out = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = aws_error("DescribeStacks", e);
                if e.code == "ValidationError" && e.message.contains("does not exist") {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        Ok(out.stacks().first().map(|s| {
            s.parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_string(),
                        p.parameter_value()?.to_string(),
                    ))
                })
                .collect()
        }))
    }

    /// The physical ids of a deployed stack's resources, by logical id, in one call (the CLI's
    /// reading of the deployed settings; a stack has far fewer than the 100 resources one
    /// answer holds).
    pub async fn physical_ids(
        &self,
        stack: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
        let out = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| aws_error("DescribeStackResources", e))?;
        Ok(out
            .stack_resources()
            .iter()
            .filter_map(|r| {
                let physical = r.physical_resource_id().filter(|p| !p.is_empty())?;
                Some((r.logical_resource_id()?.to_string(), physical.to_string()))
            })
            .collect())
    }
}

#[async_trait]
impl Stacks for SdkStacks {
    async fn resource(&self, stack_id: &str, logical_id: &str) -> Result<StackResource, AwsError> {
        let out = self
            .client
            .describe_stack_resource()
            .stack_name(stack_id)
            .logical_resource_id(logical_id)
            .send()
            .await;
        match out {
            Ok(o) => Ok(match o.stack_resource_detail() {
                Some(d) => StackResource::Found {
                    resource_type: d.resource_type().unwrap_or_default().to_string(),
                    status: d
                        .resource_status()
                        .map(|s| s.as_str())
                        .unwrap_or_default()
                        .into(),
                    physical_id: d.physical_resource_id().map(str::to_string),
                },
                None => StackResource::Missing,
            }),
            Err(e) => {
                let e = aws_error("DescribeStackResource", e);
                // CloudFormation says "does not exist" with a ValidationError, for a stack that
                // is gone and for a logical id it has no more.
                if e.code == "ValidationError" && e.message.contains("does not exist") {
                    Ok(StackResource::Missing)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn stack_status(&self, stack_id: &str) -> Result<Option<StackStatus>, AwsError> {
        let out = self
            .client
            .describe_stacks()
            .stack_name(stack_id)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| StackStatus::from(s.as_str()))),
            Err(e) => {
                let e = aws_error("DescribeStacks", e);
                // A stack name that names no stack (a deleted stack's id still answers, with
                // DELETE_COMPLETE).
                if e.code == "ValidationError" && e.message.contains("does not exist") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}
