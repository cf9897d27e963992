//! SSM parameters in memory.

use super::lock;
use crate::error::AwsError;
use crate::ports::*;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Parameters in memory.
#[derive(Default)]
pub struct FakeParameters {
    pub values: Mutex<BTreeMap<String, String>>,
    calls: std::sync::atomic::AtomicU32,
}

impl FakeParameters {
    pub fn set(&self, name: &str, value: &str) {
        lock(&self.values).insert(name.into(), value.into());
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl Parameters for FakeParameters {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(lock(&self.values).get(name).cloned())
    }
}
