//! The `Schedules` port over EventBridge Scheduler: one-time `at(...)` schedules in the stack's
//! group (`<stack>-expiry`), deleted by Scheduler after they fire.

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

#[async_trait]
impl Schedules for SdkSchedules {
    async fn once(
        &self,
        name: &str,
        at: OffsetDateTime,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<Created, AwsError> {
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| AwsError::permanent("CreateSchedule", "Build", e.to_string()))?;
        let target = Target::builder()
            .arn(&target.function_arn)
            .role_arn(&target.role_arn)
            .input(input)
            .build()
            .map_err(|e| AwsError::permanent("CreateSchedule", "Build", e.to_string()))?;
        let out = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(at_expression(at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
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
