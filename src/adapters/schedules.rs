//! The `Schedules` port over EventBridge Scheduler: one-time `at(...)` schedules in the stack's
//! group (`<stack>-expiry`), deleted by Scheduler after they fire, and a clone's recurring
//! refresh schedule in the same group.

use super::{aws_error, is_not_found};
use crate::error::AwsError;
use crate::ports::{Created, ScheduleTarget, Schedules};
use async_trait::async_trait;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use aws_sdk_scheduler::Client;
use time::OffsetDateTime;

pub struct SdkSchedules {
    client: Client,
    group: String,
}

impl SdkSchedules {
    pub fn new(client: Client, group: impl Into<String>) -> SdkSchedules {
        SdkSchedules {
            client,
            group: group.into(),
        }
    }
}

/// `at(yyyy-mm-ddThh:mm:ss)`, UTC, whole seconds.
fn at_expression(at: OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// No flexible window: a schedule fires at its time.
fn window(op: &'static str) -> Result<FlexibleTimeWindow, AwsError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| AwsError::permanent(op, "Build", e.to_string()))
}

/// The function, invoked as the schedule's role with `input`.
fn invoking(target: &ScheduleTarget, input: &str, op: &'static str) -> Result<Target, AwsError> {
    Target::builder()
        .arn(&target.function_arn)
        .role_arn(&target.role_arn)
        .input(input)
        .build()
        .map_err(|e| AwsError::permanent(op, "Build", e.to_string()))
}

#[async_trait]
impl Schedules for SdkSchedules {
    async fn once(
        &self,
        name: &str,
        at: OffsetDateTime,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<Created, AwsError> {
        let out = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(at_expression(at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window("CreateSchedule")?)
            .target(invoking(target, input, "CreateSchedule")?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Created::New(())),
            Err(e) => {
                let e = aws_error("CreateSchedule", e);
                if e.code == "ConflictException" {
                    Ok(Created::Exists)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn recurring(
        &self,
        name: &str,
        expression: &str,
        timezone: Option<&str>,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<(), AwsError> {
        let zone = timezone.unwrap_or("UTC");
        let created = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(expression)
            .schedule_expression_timezone(zone)
            .flexible_time_window(window("CreateSchedule")?)
            .target(invoking(target, input, "CreateSchedule")?)
            .send()
            .await;
        match created.map_err(|e| aws_error("CreateSchedule", e)) {
            Ok(_) => Ok(()),
            // One of that name: its expression, zone or target changes (UpdateSchedule replaces
            // every setting).
            Err(e) if e.code == "ConflictException" => {
                self.client
                    .update_schedule()
                    .name(name)
                    .group_name(&self.group)
                    .schedule_expression(expression)
                    .schedule_expression_timezone(zone)
                    .flexible_time_window(window("UpdateSchedule")?)
                    .target(invoking(target, input, "UpdateSchedule")?)
                    .send()
                    .await
                    .map_err(|e| aws_error("UpdateSchedule", e))?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn remove(&self, name: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_schedule()
            .name(name)
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("DeleteSchedule", e);
                if is_not_found(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_expressions_are_utc_whole_seconds() {
        let t = time::macros::datetime!(2026-12-10 13:04:05.9 +01:00);
        assert_eq!(super::at_expression(t), "at(2026-12-10T12:04:05)");
    }
}
