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
}

impl FakeParameters {
    pub fn set(&self, name: &str, value: &str) {
        lock(&self.values).insert(name.into(), value.into());
    }
}

#[async_trait]
impl Parameters for FakeParameters {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError> {
        Ok(lock(&self.values).get(name).cloned())
    }
}
