//! The `Secrets` port over aws-sdk-secretsmanager.

use super::{aws_error, is_not_found};
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::{SecretRef, Secrets};
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

    async fn existing(&self, name: &str) -> Result<(SecretRef, Option<String>), AwsError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| aws_error("GetSecretValue", e))?;
        let secret = SecretRef {
            arn: out.arn().unwrap_or_default().to_string(),
            name: out.name().unwrap_or(name).to_string(),
        };
        Ok((secret, out.secret_string().map(str::to_string)))
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
    ) -> Result<(SecretRef, Option<String>), AwsError> {
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
            Ok(o) => Ok((
                SecretRef {
                    arn: o.arn().unwrap_or_default().to_string(),
                    name: o.name().unwrap_or(name).to_string(),
                },
                None,
            )),
            Err(e) => {
                let e = aws_error("CreateSecret", e);
                if e.code == "ResourceExistsException" {
                    self.existing(name).await
                } else {
                    Err(e)
                }
            }
        }
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
