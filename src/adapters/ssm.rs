//! The `PendingStore` port over SSM Parameter Store: one SecureString per pending item under
//! `/<stack>/pending/`. `PutParameter` without overwrite and `DeleteParameter` are atomic, which
//! gives create-if-absent and take-once semantics.

use super::aws_error;
use crate::error::{Error, Result};
use crate::pending::PendingWork;
use crate::ports::{Added, PendingStore};
use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_sdk_ssm::Client;

pub struct SsmPending {
    client: Client,
    path: String,
}

impl SsmPending {
    pub fn new(client: Client, path: impl Into<String>) -> SsmPending {
        SsmPending {
            client,
            path: path.into(),
        }
    }

    fn name(&self, key: &str) -> String {
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}{safe}", self.path)
    }
}

fn decode(value: Option<&str>) -> Result<PendingWork> {
    serde_json::from_str(value.unwrap_or_default()).map_err(|e| Error::Pending(e.to_string()))
}

#[async_trait]
impl PendingStore for SsmPending {
    async fn add(&self, key: &str, work: &PendingWork) -> Result<Added> {
        let value = serde_json::to_string(work).map_err(|e| Error::Pending(e.to_string()))?;
        let out = self
            .client
            .put_parameter()
            .name(self.name(key))
            .value(value)
            .r#type(ParameterType::SecureString)
            .tier(ParameterTier::IntelligentTiering)
            .overwrite(false)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Added::New),
            Err(e) => {
                let e = aws_error("PutParameter", e);
                if e.is_code("ParameterAlreadyExists") {
                    Ok(Added::Exists)
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Option<PendingWork>> {
        match self
            .client
            .get_parameter()
            .name(self.name(key))
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => decode(out.parameter().and_then(|p| p.value())).map(Some),
            Err(e) => {
                let e = aws_error("GetParameter", e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn list(&self) -> Result<Vec<(String, PendingWork)>> {
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(&self.path)
            .with_decryption(true)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("GetParametersByPath", e))?;
            for p in page.parameters() {
                let key = p
                    .name()
                    .unwrap_or_default()
                    .trim_start_matches(&self.path)
                    .to_string();
                match decode(p.value()) {
                    Ok(work) => out.push((key, work)),
                    Err(e) => {
                        tracing::error!(%key, error = %e, "skipping unreadable pending record")
                    }
                }
            }
        }
        Ok(out)
    }

    async fn take(&self, key: &str) -> Result<bool> {
        match self
            .client
            .delete_parameter()
            .name(self.name(key))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = aws_error("DeleteParameter", e);
                if e.is_not_found() {
                    Ok(false)
                } else {
                    Err(e.into())
                }
            }
        }
    }
}

/// The `Locks` port over SSM: a lock is a parameter created without overwrite, holding its
/// expiry. An expired lock (its holder died) is deleted and taken afresh.
pub struct SsmLocks {
    client: Client,
    path: String,
}

impl SsmLocks {
    pub fn new(client: Client, path: impl Into<String>) -> SsmLocks {
        SsmLocks {
            client,
            path: path.into(),
        }
    }

    async fn create(&self, name: &str, expiry: i64) -> Result<bool> {
        let out = self
            .client
            .put_parameter()
            .name(name)
            .value(expiry.to_string())
            .r#type(ParameterType::String)
            .overwrite(false)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = aws_error("PutParameter", e);
                if e.is_code("ParameterAlreadyExists") {
                    Ok(false)
                } else {
                    Err(e.into())
                }
            }
        }
    }
}

#[async_trait]
impl crate::ports::Locks for SsmLocks {
    async fn try_lock(&self, name: &str, now: i64, ttl_secs: i64) -> Result<bool> {
        let full = format!("{}{name}", self.path);
        if self.create(&full, now + ttl_secs).await? {
            return Ok(true);
        }
        let held_until = match self.client.get_parameter().name(&full).send().await {
            Ok(out) => out
                .parameter()
                .and_then(|p| p.value())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0),
            Err(_) => return Ok(false),
        };
        if held_until >= now {
            return Ok(false);
        }
        tracing::warn!(lock = %name, "taking over an expired lock");
        let _ = self.client.delete_parameter().name(&full).send().await;
        self.create(&full, now + ttl_secs).await
    }

    async fn unlock(&self, name: &str) -> Result<()> {
        let full = format!("{}{name}", self.path);
        match self.client.delete_parameter().name(full).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = aws_error("DeleteParameter", e);
                if e.is_not_found() {
                    Ok(())
                } else {
                    Err(e.into())
                }
            }
        }
    }
}

/// The `Parameters` port over SSM.
pub struct SsmParameters {
    client: Client,
}

impl SsmParameters {
    pub fn new(client: Client) -> SsmParameters {
        SsmParameters { client }
    }
}

#[async_trait]
impl crate::ports::Parameters for SsmParameters {
    async fn get(&self, name: &str) -> Result<Option<String>, crate::error::AwsError> {
        match self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
            Err(e) => {
                let e = aws_error("GetParameter", e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}
