//! The `FollowUps` port over EventBridge: one schedule rule per manager stack that re-invokes
//! the function every minute while anything is pending, and is disabled when nothing is.

use super::{aws_error, is_not_found};
use crate::domain::events::LifecycleEvent;
use crate::error::AwsError;
use crate::ports::FollowUps;
use async_trait::async_trait;
use aws_sdk_eventbridge::types::{RuleState, Target};
use aws_sdk_eventbridge::Client;

/// The constant input of the follow-up rule; `lambda::Event` recognises it.
pub const FOLLOW_UP_INPUT: &str = r#"{"source":"aurora-clone-manager","action":"follow-up"}"#;

pub struct RuleFollowUps {
    client: Client,
    rule: String,
}

impl RuleFollowUps {
    pub fn new(client: Client, rule: impl Into<String>) -> RuleFollowUps {
        RuleFollowUps {
            client,
            rule: rule.into(),
        }
    }
}

impl RuleFollowUps {
    /// Creates the rule and its target (the stack creates both; this is for a rule deleted by
    /// hand, and for local runs).
    async fn create(&self, function_arn: &str) -> Result<(), AwsError> {
        self.client
            .put_rule()
            .name(&self.rule)
            .schedule_expression("rate(1 minute)")
            .state(RuleState::Enabled)
            .description("aurora-clone-manager: follow-ups while clones are pending")
            .send()
            .await
            .map_err(|e| aws_error("PutRule", e))?;
        let target = Target::builder()
            .id("follow-up")
            .arn(function_arn)
            .input(FOLLOW_UP_INPUT)
            .build()
            .map_err(|e| AwsError::permanent("PutTargets", "Build", e.to_string()))?;
        let out = self
            .client
            .put_targets()
            .rule(&self.rule)
            .targets(target)
            .send()
            .await
            .map_err(|e| aws_error("PutTargets", e))?;
        match out.failed_entry_count() {
            0 => Ok(()),
            n => Err(AwsError::permanent(
                "PutTargets",
                "FailedEntries",
                format!("{n} targets not added"),
            )),
        }
    }
}

#[async_trait]
impl FollowUps for RuleFollowUps {
    /// One call where the stack made the rule (it exists, with its target): `EnableRule`.
    async fn ensure(&self, function_arn: &str) -> Result<(), AwsError> {
        match self.client.enable_rule().name(&self.rule).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("EnableRule", e);
                if is_not_found(&e) {
                    self.create(function_arn).await
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn stop(&self) -> Result<(), AwsError> {
        match self.client.disable_rule().name(&self.rule).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("DisableRule", e);
                if is_not_found(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// The `Events` port: lifecycle events on the configured bus.
pub struct BusEvents {
    client: Client,
    bus: String,
    source: String,
}

impl BusEvents {
    pub fn new(client: Client, bus: impl Into<String>, source: impl Into<String>) -> BusEvents {
        BusEvents {
            client,
            bus: bus.into(),
            source: source.into(),
        }
    }
}

#[async_trait]
impl crate::ports::Events for BusEvents {
    async fn put(&self, event: &LifecycleEvent) -> Result<(), AwsError> {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&self.source)
            .detail_type(event.detail_type())
            .detail(event.detail().to_string())
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| aws_error("PutEvents", e))?;
        match out.failed_entry_count() {
            0 => Ok(()),
            n => Err(AwsError::permanent(
                "PutEvents",
                "FailedEntries",
                format!("{n} events not accepted"),
            )),
        }
    }
}
