//! Secrets Manager in memory.

use super::lock;
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::*;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Secrets Manager in memory: secrets by name, with their value, key, tags, policy and state.
#[derive(Default)]
pub struct FakeSecrets {
    pub secrets: Mutex<BTreeMap<String, FakeSecret>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSecret {
    pub arn: String,
    pub value: String,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
    pub policy: Option<String>,
    pub deleted: bool,
}

impl FakeSecrets {
    pub fn all(&self) -> BTreeMap<String, FakeSecret> {
        lock(&self.secrets).clone()
    }
}

#[async_trait]
impl Secrets for FakeSecrets {
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<(SecretRef, Option<String>), AwsError> {
        let mut all = lock(&self.secrets);
        if let Some(s) = all.get(name) {
            return Ok((
                SecretRef {
                    arn: s.arn.clone(),
                    name: name.into(),
                },
                Some(s.value.clone()),
            ));
        }
        let arn = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf");
        let secret = FakeSecret {
            arn: arn.clone(),
            value: value.into(),
            kms_key_id: kms_key_id.map(str::to_string),
            tags: tags.clone(),
            policy: None,
            deleted: false,
        };
        all.insert(name.into(), secret);
        Ok((
            SecretRef {
                arn,
                name: name.into(),
            },
            None,
        ))
    }

    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError> {
        let mut all = lock(&self.secrets);
        let s = all
            .values_mut()
            .find(|s| s.arn == secret_id)
            .ok_or_else(|| {
                AwsError::permanent(
                    "PutResourcePolicy",
                    "ResourceNotFoundException",
                    "no secret",
                )
            })?;
        s.policy = policy.map(str::to_string);
        Ok(())
    }

    async fn delete(&self, secret_id: &str) -> Result<(), AwsError> {
        if let Some(s) = lock(&self.secrets)
            .values_mut()
            .find(|s| s.arn == secret_id)
        {
            s.deleted = true;
        }
        Ok(())
    }
}
