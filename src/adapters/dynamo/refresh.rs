//! The `Refreshes` port over DynamoDB, in the stack's state table: `refresh#<clone id>` with
//! `refresh` (JSON) and `version`. Written only if absent, changed only at the version read,
//! removed only by its own attempt. A condition that fails is judged from the item read again,
//! so a retried write whose first reply was lost finds its own effect.

use super::items::{decode, json, number, s};
use super::{condition_failed, get_item, Item};
use crate::adapters::aws_error;
use crate::domain::refresh::RefreshItem;
use crate::error::AwsError;
use crate::ports::Refreshes;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_sdk_dynamodb::Client;

pub(super) const PREFIX: &str = "refresh#";

pub struct DynamoRefreshes {
    client: Client,
    table: String,
}

impl DynamoRefreshes {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoRefreshes {
        DynamoRefreshes {
            client,
            table: table.into(),
        }
    }
}

fn pk(cluster_id: &str) -> Av {
    s(format!("{PREFIX}{cluster_id}"))
}

/// A refresh item read back, with its version.
pub(super) fn to_refresh(item: &Item) -> Result<RefreshItem, AwsError> {
    let mut r: RefreshItem = decode(item, "refresh")?;
    r.version = number(item, "version").unwrap_or(0) as u64;
    Ok(r)
}

#[async_trait]
impl Refreshes for DynamoRefreshes {
    async fn begin(&self, item: &RefreshItem) -> Result<RefreshItem, AwsError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk(&item.cluster_id))
            .item("refresh", s(json(item)?))
            .item("version", Av::N("1".into()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(RefreshItem {
                version: 1,
                ..item.clone()
            }),
            Err(e) if condition_failed(&e) => {
                self.refresh(&item.cluster_id).await?.ok_or_else(|| {
                    AwsError::transient("PutItem", "Vanished", "the refresh was there and is gone")
                })
            }
            Err(e) => Err(aws_error("PutItem", e)),
        }
    }

    async fn refresh(&self, cluster_id: &str) -> Result<Option<RefreshItem>, AwsError> {
        get_item(&self.client, &self.table, pk(cluster_id))
            .await?
            .as_ref()
            .map(to_refresh)
            .transpose()
    }

    async fn amend(&self, item: &RefreshItem) -> Result<Option<RefreshItem>, AwsError> {
        let next = item.version + 1;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(&item.cluster_id))
            .update_expression("SET #r = :r, version = :next")
            .condition_expression("version = :v")
            .expression_attribute_names("#r", "refresh")
            .expression_attribute_values(":r", s(json(item)?))
            .expression_attribute_values(":next", Av::N(next.to_string()))
            .expression_attribute_values(":v", Av::N(item.version.to_string()))
            .send()
            .await;
        let amended = RefreshItem {
            version: next,
            ..item.clone()
        };
        match out {
            Ok(_) => Ok(Some(amended)),
            Err(e) if condition_failed(&e) => Ok(self
                .refresh(&item.cluster_id)
                .await?
                .filter(|now| *now == amended)),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn end(&self, cluster_id: &str, attempt: &str) -> Result<(), AwsError> {
        let Some(stored) = self.refresh(cluster_id).await? else {
            return Ok(());
        };
        if stored.attempt != attempt {
            return Ok(());
        }
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", pk(cluster_id))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", Av::N(stored.version.to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Changed meanwhile: the next follow-up reads it again.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(aws_error("DeleteItem", e)),
        }
    }
}
