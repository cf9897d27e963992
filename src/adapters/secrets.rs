//! The `Secrets` port over aws-sdk-secretsmanager.

use super::{aws_error, is_not_found};
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::{Created, SecretRef, Secrets, StoredSecret};
use async_trait::async_trait;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;

pub struct SdkSecrets {
    client: Client,
}

impl SdkSecrets {
    pub fn new(client: Client) -> SdkSecrets {
        SdkSecrets { client }
    }

    /// Where the secret is and its tags (DescribeSecret: no value read).
    async fn describe(&self, id: &str) -> Result<Option<(SecretRef, Tags)>, AwsError> {
        let described = match self.client.describe_secret().secret_id(id).send().await {
            Ok(d) => d,
            Err(e) => {
                let e = aws_error("DescribeSecret", e);
                return if is_not_found(&e) { Ok(None) } else { Err(e) };
            }
        };
        let tags: Tags = described
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        let secret = SecretRef {
            arn: described.arn().unwrap_or_default().to_string(),
            name: described.name().unwrap_or(id).to_string(),
        };
        Ok(Some((secret, tags)))
    }
}

#[async_trait]
impl Secrets for SdkSecrets {
    async fn create(
        &self,
        name: &str,
        value: &str,
        kms_key_id: Option<&str>,
        tags: &Tags,
    ) -> Result<Created<SecretRef>, AwsError> {
        let tags: Vec<Tag> = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let out = self
            .client
            .create_secret()
            .name(name)
            .description("Master password of an Aurora clone (aurora-clone-manager)")
            .secret_string(value)
            .set_kms_key_id(kms_key_id.map(str::to_string))
            .set_tags(Some(tags))
            .send()
            .await;
        match out {
            Ok(o) => Ok(Created::New(SecretRef {
                arn: o.arn().unwrap_or_default().to_string(),
                name: o.name().unwrap_or(name).to_string(),
            })),
            Err(e) => {
                let e = aws_error("CreateSecret", e);
                if e.code == "ResourceExistsException" {
                    Ok(Created::Exists)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn tags(&self, secret_id: &str) -> Result<Option<Tags>, AwsError> {
        Ok(self.describe(secret_id).await?.map(|(_, tags)| tags))
    }

    async fn read(&self, name: &str) -> Result<Option<StoredSecret>, AwsError> {
        let Some((secret, tags)) = self.describe(name).await? else {
            return Ok(None);
        };
        let value = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| aws_error("GetSecretValue", e))?;
        Ok(Some(StoredSecret {
            secret,
            value: value.secret_string().map(str::to_string),
            tags,
        }))
    }

    async fn retag(&self, secret_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError> {
        if !add.is_empty() {
            let tags: Vec<Tag> = add
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect();
            self.client
                .tag_resource()
                .secret_id(secret_id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error("TagResource", e))?;
        }
        if !remove.is_empty() {
            self.client
                .untag_resource()
                .secret_id(secret_id)
                .set_tag_keys(Some(remove.to_vec()))
                .send()
                .await
                .map_err(|e| aws_error("UntagResource", e))?;
        }
        Ok(())
    }

    async fn set_readers(&self, secret_id: &str, policy: Option<&str>) -> Result<(), AwsError> {
        match policy {
            Some(p) => self
                .client
                .put_resource_policy()
                .secret_id(secret_id)
                .resource_policy(p)
                .block_public_policy(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutResourcePolicy", e)),
            None => self
                .client
                .delete_resource_policy()
                .secret_id(secret_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteResourcePolicy", e)),
        }
    }

    async fn delete(&self, secret_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_secret()
            .secret_id(secret_id)
            .recovery_window_in_days(7)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("DeleteSecret", e);
                if is_not_found(&e) || e.code == "InvalidRequestException" {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
