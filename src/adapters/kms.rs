//! The `Keys` port over aws-sdk-kms.

use super::{aws_error, is_not_found};
use crate::domain::Tags;
use crate::error::AwsError;
use crate::ports::Keys;
use async_trait::async_trait;
use aws_sdk_kms::types::Tag;
use aws_sdk_kms::Client;

pub struct SdkKeys {
    client: Client,
}

impl SdkKeys {
    pub fn new(client: Client) -> SdkKeys {
        SdkKeys { client }
    }
}

#[async_trait]
impl Keys for SdkKeys {
    async fn create(
        &self,
        description: &str,
        policy: &str,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let tags: Vec<Tag> = tags
            .iter()
            .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
            .collect();
        let out = self
            .client
            .create_key()
            .description(description)
            .policy(policy)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_error("CreateKey", e))?;
        out.key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| AwsError::permanent("CreateKey", "EmptyResponse", "no key metadata"))
    }

    async fn set_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .put_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .policy(policy)
            .send()
            .await
            .map_err(|e| aws_error("PutKeyPolicy", e))?;
        Ok(())
    }

    async fn retire(&self, key_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .schedule_key_deletion()
            .key_id(key_id)
            .pending_window_in_days(7)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("ScheduleKeyDeletion", e);
                if is_not_found(&e) || e.code == "KMSInvalidStateException" {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
