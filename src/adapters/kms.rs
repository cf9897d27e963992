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

    async fn find_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, AwsError> {
        let mut pages = self.client.list_keys().limit(1000).into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ListKeys", e))?;
            for id in page.keys().iter().filter_map(|k| k.key_id()) {
                let tags = match self.client.list_resource_tags().key_id(id).send().await {
                    Ok(t) => t,
                    // Keys whose tags this role may not read are not ones it made.
                    Err(_) => continue,
                };
                if tags
                    .tags()
                    .iter()
                    .any(|t| t.tag_key() == key && t.tag_value() == value)
                {
                    found.push(id.to_string());
                }
            }
        }
        Ok(found)
    }

    async fn tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError> {
        match self.client.list_resource_tags().key_id(key_id).send().await {
            Ok(out) => Ok(Some(
                out.tags()
                    .iter()
                    .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                    .collect(),
            )),
            Err(e) => {
                let e = aws_error("ListResourceTags", e);
                if is_not_found(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
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

    async fn retag(&self, key_id: &str, add: &Tags, remove: &[String]) -> Result<(), AwsError> {
        if !add.is_empty() {
            let tags: Vec<Tag> = add
                .iter()
                .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
                .collect();
            self.client
                .tag_resource()
                .key_id(key_id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error("TagResource", e))?;
        }
        if !remove.is_empty() {
            self.client
                .untag_resource()
                .key_id(key_id)
                .set_tag_keys(Some(remove.to_vec()))
                .send()
                .await
                .map_err(|e| aws_error("UntagResource", e))?;
        }
        Ok(())
    }
}
