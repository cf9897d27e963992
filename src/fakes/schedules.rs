//! EventBridge Scheduler in memory: one-time schedules, which a test fires when their time has
//! come (Scheduler deletes each after it fires).

use super::lock;
use crate::error::AwsError;
use crate::ports::{Created, ScheduleTarget, Schedules};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSchedule {
    pub at: OffsetDateTime,
    pub target: ScheduleTarget,
    pub input: String,
}

#[derive(Default)]
pub struct FakeSchedules {
    schedules: Mutex<BTreeMap<String, FakeSchedule>>,
}

impl FakeSchedules {
    pub fn all(&self) -> BTreeMap<String, FakeSchedule> {
        lock(&self.schedules).clone()
    }

    /// The inputs of the schedules due by `now`, which are then gone.
    pub fn fire_due(&self, now: OffsetDateTime) -> Vec<String> {
        let mut all = lock(&self.schedules);
        let due: Vec<String> = all
            .iter()
            .filter(|(_, s)| s.at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        due.iter()
            .filter_map(|n| all.remove(n))
            .map(|s| s.input)
            .collect()
    }
}

#[async_trait]
impl Schedules for FakeSchedules {
    async fn once(
        &self,
        name: &str,
        at: OffsetDateTime,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<Created, AwsError> {
        let mut all = lock(&self.schedules);
        if all.contains_key(name) {
            return Ok(Created::Exists);
        }
        let s = FakeSchedule {
            at,
            target: target.clone(),
            input: input.to_string(),
        };
        all.insert(name.to_string(), s);
        Ok(Created::New(()))
    }

    async fn remove(&self, name: &str) -> Result<(), AwsError> {
        lock(&self.schedules).remove(name);
        Ok(())
    }
}
