//! KMS in memory.

use super::lock;
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::*;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// KMS in memory: created keys with their policy and whether deletion is scheduled (and their
/// tags, kept apart).
#[derive(Default)]
pub struct FakeKeys {
    pub keys: Mutex<BTreeMap<String, (String, bool)>>,
    tags: Mutex<BTreeMap<String, Tags>>,
}

impl FakeKeys {
    pub fn all(&self) -> BTreeMap<String, (String, bool)> {
        lock(&self.keys).clone()
    }
}

/// What KMS says of a key that does not exist.
fn missing(operation: &'static str, key_id: &str) -> AwsError {
    AwsError::permanent(
        operation,
        "NotFoundException",
        format!("Key '{key_id}' does not exist"),
    )
}

#[async_trait]
impl Keys for FakeKeys {
    async fn create(
        &self,
        _description: &str,
        policy: &str,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut keys = lock(&self.keys);
        let id = format!("key-{}", keys.len() + 1);
        keys.insert(id.clone(), (policy.to_string(), false));
        lock(&self.tags).insert(id.clone(), tags.clone());
        Ok(id)
    }

    async fn find_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, AwsError> {
        Ok(lock(&self.tags)
            .iter()
            .filter(|(_, t)| t.get(key).map(String::as_str) == Some(value))
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError> {
        Ok(lock(&self.tags).get(key_id).cloned())
    }

    async fn set_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        let mut keys = lock(&self.keys);
        let k = keys
            .get_mut(key_id)
            .ok_or_else(|| missing("PutKeyPolicy", key_id))?;
        k.0 = policy.to_string();
        Ok(())
    }

    async fn retire(&self, key_id: &str) -> Result<(), AwsError> {
        if let Some(k) = lock(&self.keys).get_mut(key_id) {
            k.1 = true;
        }
        Ok(())
    }

    async fn retag(&self, key_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError> {
        let mut tags = lock(&self.tags);
        let t = tags
            .get_mut(key_id)
            .ok_or_else(|| missing("TagResource", key_id))?;
        t.extend(add.clone());
        t.retain(|k, _| !remove.contains(k));
        Ok(())
    }
}

impl FakeKeys {
    /// The tags a key carries.
    pub fn tags_of(&self, key_id: &str) -> Tags {
        lock(&self.tags).get(key_id).cloned().unwrap_or_default()
    }
}
