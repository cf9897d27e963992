//! The follow-up rule: armed whenever work is recorded that a later invocation must take up.

use super::Invocation;
use crate::error::AwsError;
use crate::ports::FollowUps;
use std::sync::Arc;
use std::time::Duration;

/// Arms the follow-up rule.
#[derive(Clone)]
pub struct Rule {
    pub(super) follow_ups: Arc<dyn FollowUps>,
}

impl Rule {
    /// Enables the follow-up rule (where there is one), trying a few times.
    pub(crate) async fn arm_follow_ups(&self, inv: &Invocation) -> Result<(), AwsError> {
        let Some(arn) = &inv.function_arn else {
            return Ok(());
        };
        let mut last = None;
        for attempt in 0..3u32 {
            match self.follow_ups.ensure(arn).await {
                Ok(()) => return Ok(()),
                Err(e) if e.retryable => last = Some(e),
                Err(e) => return Err(e),
            }
            tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt + 1))).await;
        }
        Err(last.unwrap_or_else(|| AwsError::out_of_time("EnableRule")))
    }
}
