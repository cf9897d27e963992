//! Secrets Manager in memory: secrets by name, found by name or ARN as AWS finds them, with a
//! resource policy that can be refused (a principal that does not exist).

use super::lock;
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::*;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeSecrets {
    pub secrets: Mutex<BTreeMap<String, FakeSecret>>,
    refuse_policies: AtomicBool,
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

    /// Puts a secret as someone else made it.
    pub fn put(&self, name: &str, value: &str, tags: Tags) {
        let secret = FakeSecret {
            arn: arn_of(name),
            value: value.into(),
            kms_key_id: None,
            tags,
            policy: None,
            deleted: false,
        };
        lock(&self.secrets).insert(name.into(), secret);
    }

    /// Every resource policy is refused from now on, as AWS refuses one naming a principal
    /// that does not exist.
    pub fn refuse_policies(&self) {
        self.refuse_policies.store(true, Ordering::SeqCst);
    }
}

fn arn_of(name: &str) -> String {
    format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf")
}

fn missing(op: &'static str) -> AwsError {
    AwsError::permanent(
        op,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
}

/// The secret named `id` (a name or an ARN), as AWS resolves either.
fn find<'a>(all: &'a mut BTreeMap<String, FakeSecret>, id: &str) -> Option<&'a mut FakeSecret> {
    find_named(all, id).map(|(_, s)| s)
}

/// The secret `id` (a name or an ARN) with its name.
fn find_named<'a>(
    all: &'a mut BTreeMap<String, FakeSecret>,
    id: &str,
) -> Option<(&'a String, &'a mut FakeSecret)> {
    all.iter_mut()
        .find(|(name, s)| name.as_str() == id || s.arn == id)
}

#[async_trait]
impl Secrets for FakeSecrets {
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<Created<SecretRef>, AwsError> {
        let mut all = lock(&self.secrets);
        if all.contains_key(name) {
            return Ok(Created::Exists);
        }
        let secret = FakeSecret {
            arn: arn_of(name),
            value: value.into(),
            kms_key_id: kms_key_id.map(str::to_string),
            tags: tags.clone(),
            policy: None,
            deleted: false,
        };
        all.insert(name.into(), secret);
        Ok(Created::New(SecretRef {
            arn: arn_of(name),
            name: name.into(),
        }))
    }

    /// Found by name or ARN, named by its name; a secret scheduled for deletion has no value
    /// to read, as GetSecretValue refuses it.
    async fn read(&self, name: &str) -> Result<Option<StoredSecret>, AwsError> {
        let mut all = lock(&self.secrets);
        let Some((name, s)) = find_named(&mut all, name) else {
            return Ok(None);
        };
        if s.deleted {
            return Err(AwsError::permanent(
                "GetSecretValue",
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ));
        }
        Ok(Some(StoredSecret {
            secret: SecretRef {
                arn: s.arn.clone(),
                name: name.clone(),
            },
            value: Some(s.value.clone()),
            tags: s.tags.clone(),
        }))
    }

    async fn tags(&self, secret_id: &str) -> Result<Option<Tags>, AwsError> {
        Ok(find(&mut lock(&self.secrets), secret_id).map(|s| s.tags.clone()))
    }

    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError> {
        if policy.is_some() && self.refuse_policies.load(Ordering::SeqCst) {
            return Err(AwsError::permanent(
                "PutResourcePolicy",
                "MalformedPolicyDocumentException",
                "This resource policy contains an unsupported principal.",
            ));
        }
        let mut all = lock(&self.secrets);
        let s = find(&mut all, secret_id).ok_or_else(|| missing("PutResourcePolicy"))?;
        s.policy = policy.map(str::to_string);
        Ok(())
    }

    async fn delete(&self, secret_id: &str) -> Result<(), AwsError> {
        if let Some(s) = find(&mut lock(&self.secrets), secret_id) {
            s.deleted = true;
        }
        Ok(())
    }

    async fn retag(&self, secret_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError> {
        let mut all = lock(&self.secrets);
        let s = find(&mut all, secret_id).ok_or_else(|| missing("TagResource"))?;
        s.tags.extend(add.clone());
        s.tags.retain(|k, _| !remove.contains(k));
        Ok(())
    }
}
