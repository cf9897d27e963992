//! The `Ledger` port over DynamoDB, in the stack's state table beside the request state: one
//! item per cluster this manager made, `deed#<cluster id>`, with `deed` (JSON) and `version`.
//! No TTL: a deed lives as long as its cluster, and is struck only once the cluster is gone.
//! Every write is conditional; a condition that fails is judged from the item read again
//! (strongly consistent), so a retried write whose first reply was lost finds its own effect.

use super::{condition_failed, get_item, number, Item};
use crate::adapters::aws_error;
use crate::domain::Deed;
use crate::error::AwsError;
use crate::ports::{Entered, Ledger};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_sdk_dynamodb::Client;

const PREFIX: &str = "deed#";

pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoLedger {
        DynamoLedger {
            client,
            table: table.into(),
        }
    }
}

fn pk(cluster_id: &str) -> Av {
    Av::S(format!("{PREFIX}{cluster_id}"))
}

fn encode(deed: &Deed) -> Result<Av, AwsError> {
    serde_json::to_string(deed)
        .map(Av::S)
        .map_err(|e| AwsError::permanent("encode", "Unreadable", format!("deed: {e}")))
}

fn decode(item: &Item) -> Result<Deed, AwsError> {
    let text = item.get("deed").and_then(|v| v.as_s().ok());
    let mut deed: Deed = serde_json::from_str(text.map(String::as_str).unwrap_or_default())
        .map_err(|e| AwsError::permanent("decode", "Unreadable", format!("deed: {e}")))?;
    deed.version = number(item, "version").unwrap_or(0) as u64;
    Ok(deed)
}

#[async_trait]
impl Ledger for DynamoLedger {
    async fn deed(&self, cluster_id: &str) -> Result<Option<Deed>, AwsError> {
        get_item(&self.client, &self.table, pk(cluster_id))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn deeds(&self) -> Result<Vec<Deed>, AwsError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", Av::S(PREFIX.into()))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("Scan", e))?;
            for item in page.items() {
                match decode(item) {
                    Ok(d) => out.push(d),
                    // An unreadable deed proves nothing: its cluster is treated as not ours.
                    Err(e) => tracing::error!(error = %e, "skipping an unreadable deed"),
                }
            }
        }
        Ok(out)
    }

    async fn enter(&self, deed: &Deed) -> Result<Entered, AwsError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk(&deed.cluster_id))
            .item("deed", encode(deed)?)
            .item("version", Av::N("1".into()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(Entered::New(Deed {
                version: 1,
                ..deed.clone()
            })),
            Err(e) if condition_failed(&e) => match self.deed(&deed.cluster_id).await? {
                Some(held) if held.same_intent(deed) => Ok(Entered::Held(held)),
                Some(other) => Ok(Entered::Other(other)),
                None => Err(AwsError::transient(
                    "PutItem",
                    "Vanished",
                    "the deed was there and is gone",
                )),
            },
            Err(e) => Err(aws_error("PutItem", e)),
        }
    }

    async fn amend(&self, deed: &Deed) -> Result<Option<Deed>, AwsError> {
        let next = deed.version + 1;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(&deed.cluster_id))
            .update_expression("SET deed = :d, version = :next")
            .condition_expression("version = :v")
            .expression_attribute_values(":d", encode(deed)?)
            .expression_attribute_values(":next", Av::N(next.to_string()))
            .expression_attribute_values(":v", Av::N(deed.version.to_string()))
            .send()
            .await;
        let amended = Deed {
            version: next,
            ..deed.clone()
        };
        match out {
            Ok(_) => Ok(Some(amended)),
            // A lost reply retried finds its own amendment: the same deed at the next version.
            Err(e) if condition_failed(&e) => Ok(self
                .deed(&deed.cluster_id)
                .await?
                .filter(|now| *now == amended)),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn strike(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", pk(cluster_id))
            .send()
            .await
            .map_err(|e| aws_error("DeleteItem", e))?;
        Ok(())
    }
}
