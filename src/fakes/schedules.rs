//! EventBridge Scheduler in memory: one-time schedules, which a test fires when their time has
//! come (Scheduler deletes each after it fires), and recurring ones (refreshes), fired by hand.

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

/// A recurring schedule (a clone's refresh), which a test fires by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeRecurring {
    pub expression: String,
    pub timezone: Option<String>,
    pub target: ScheduleTarget,
    pub input: String,
}

#[derive(Default)]
pub struct FakeSchedules {
    schedules: Mutex<BTreeMap<String, FakeSchedule>>,
    recurring: Mutex<BTreeMap<String, FakeRecurring>>,
}

impl FakeSchedules {
    pub fn all(&self) -> BTreeMap<String, FakeSchedule> {
        lock(&self.schedules).clone()
    }

    pub fn recurring(&self) -> BTreeMap<String, FakeRecurring> {
        lock(&self.recurring).clone()
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
        // A group's names are one namespace, one-time and recurring schedules alike.
        if all.contains_key(name) || lock(&self.recurring).contains_key(name) {
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

    async fn recurring(
        &self,
        name: &str,
        expression: &str,
        timezone: Option<&str>,
        target: &ScheduleTarget,
        input: &str,
    ) -> Result<(), AwsError> {
        let s = FakeRecurring {
            expression: expression.to_string(),
            timezone: timezone.map(str::to_string),
            target: target.clone(),
            input: input.to_string(),
        };
        // Locks taken in `once`'s order. A one-time schedule of this name becomes this one, as
        // the adapter's UpdateSchedule (after CreateSchedule's conflict) makes it.
        let mut once = lock(&self.schedules);
        once.remove(name);
        lock(&self.recurring).insert(name.to_string(), s);
        Ok(())
    }

    async fn remove(&self, name: &str) -> Result<(), AwsError> {
        lock(&self.schedules).remove(name);
        lock(&self.recurring).remove(name);
        Ok(())
    }
}
