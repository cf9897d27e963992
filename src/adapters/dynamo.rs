//! The `StateStore` port over DynamoDB: one table (`STATE_TABLE`), partition key `pk` (String),
//! TTL on `ttl`. Items:
//!
//! | pk | attributes |
//! |---|---|
//! | `request#<RequestId>` | `record` (JSON), `state` (`pending`/`answering`/`done`), `answer` (JSON), `version`, `ttl` |
//! | `reap#<cluster id>` | `reap` (JSON), `ttl` |
//! | `maintain` | `maintain` (JSON), `version`, `ttl` |
//! | `lease#<name>` | `holder`, `expires`, `fence`, `ttl` (see `dynamo::lease`) |
//! | `refresh#<clone id>` | `refresh` (JSON), `version` (see `dynamo::refresh`) |
//!
//! Every write is conditional. When a condition fails the item is read again (strongly
//! consistent) and judged from what is there: a write whose reply was lost and that the SDK
//! retried finds its own effect, never a false "someone else did it".

mod items;
mod lease;
mod ledger;
mod refresh;

pub use ledger::DynamoLedger;
pub use refresh::DynamoRefreshes;

use items::{json, n, number, reap_pk, request_pk, s, text, to_request, to_work, MAINTAIN_PK};

use super::aws_error;
use super::skew::SkewProbe;
use crate::error::AwsError;
use crate::ports::StateStore;
use crate::state::{Answer, MaintainItem, Phase, ReapItem, RequestItem, RequestRecord, Work};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

type Item = HashMap<String, Av>;

/// How long items outlive their purpose before DynamoDB's TTL may remove them.
const REQUEST_TTL_SECS: i64 = 3 * 86_400;
const DONE_TTL_SECS: i64 = 86_400;
const REAP_TTL_SECS: i64 = 14 * 86_400;

pub struct DynamoState {
    client: Client,
    table: String,
    /// AWS's clock as this client's responses show it: no lease is taken on a skewed clock.
    skew: SkewProbe,
}

impl DynamoState {
    /// Stores a request's first item in `phase` (pending, or answering at once), if it is not
    /// stored already: by a first delivery, or by this write whose reply was lost.
    async fn put_first(
        &self,
        record: &RequestRecord,
        phase: Phase,
    ) -> Result<RequestItem, AwsError> {
        let pk = request_pk(record.request_id());
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("record", s(json(record)?))
            .item("version", n(1))
            .item("ttl", n(record.deadline + REQUEST_TTL_SECS))
            .condition_expression("attribute_not_exists(pk)");
        put = match &phase {
            Phase::Answering(answer) => put
                .item("state", s("answering"))
                .item("answer", s(json(answer)?)),
            _ => put.item("state", s("pending")),
        };
        match put.send().await {
            Ok(_) => Ok(RequestItem {
                record: record.clone(),
                phase,
                version: 1,
            }),
            Err(e) if condition_failed(&e) => self.stored(&pk).await,
            Err(e) => Err(aws_error("PutItem", e)),
        }
    }

    pub fn new(client: Client, table: impl Into<String>) -> DynamoState {
        DynamoState::with_clock(client, table, crate::clock::Clock::System)
    }

    /// The adapter with `clock` as this machine's clock in the skew check (tests play a
    /// machine whose clock is off with a shifted one).
    pub fn with_clock(
        client: Client,
        table: impl Into<String>,
        clock: crate::clock::Clock,
    ) -> DynamoState {
        let skew = SkewProbe::new(clock);
        let conf = client
            .config()
            .to_builder()
            .interceptor(skew.clone())
            .build();
        DynamoState {
            client: Client::from_conf(conf),
            table: table.into(),
            skew,
        }
    }

    /// The request item a create-if-absent found in its way.
    async fn stored(&self, pk: &str) -> Result<RequestItem, AwsError> {
        match self.get(pk).await? {
            Some(item) => to_request(&item),
            None => Err(AwsError::transient(
                "PutItem",
                "Vanished",
                "the request item was there and is gone",
            )),
        }
    }

    async fn get(&self, pk: &str) -> Result<Option<Item>, AwsError> {
        get_item(&self.client, &self.table, s(pk)).await
    }
}

/// One item, read strongly consistent (the judge of every failed condition).
async fn get_item(client: &Client, table: &str, pk: Av) -> Result<Option<Item>, AwsError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", pk)
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| aws_error("GetItem", e))?;
    Ok(out.item)
}

/// True when the error is a failed condition (the item is not as the write expected).
fn condition_failed<E: ProvideErrorMetadata>(
    e: &SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> bool {
    matches!(e, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}

#[async_trait]
impl StateStore for DynamoState {
    async fn record(&self, record: &RequestRecord) -> Result<RequestItem, AwsError> {
        self.put_first(record, Phase::Pending).await
    }

    async fn refuse(
        &self,
        record: &RequestRecord,
        answer: &Answer,
    ) -> Result<RequestItem, AwsError> {
        self.put_first(record, Phase::Answering(answer.clone()))
            .await
    }

    async fn request(&self, request_id: &str) -> Result<Option<RequestItem>, AwsError> {
        self.get(&request_pk(request_id))
            .await?
            .map(|i| to_request(&i))
            .transpose()
    }

    async fn revise(
        &self,
        item: &RequestItem,
        record: &RequestRecord,
    ) -> Result<Option<RequestItem>, AwsError> {
        let next = item.version + 1;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(record.request_id())))
            .update_expression("SET #r = :r, version = :next")
            .condition_expression("#s = :pending AND version = :v")
            .expression_attribute_names("#r", "record")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":r", s(json(record)?))
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":v", n(item.version))
            .send()
            .await;
        match out {
            Ok(_) => Ok(Some(RequestItem {
                record: record.clone(),
                phase: Phase::Pending,
                version: next,
            })),
            // A lost reply retried finds its own revision: the same record at the next version.
            Err(e) if condition_failed(&e) => Ok(self
                .request(record.request_id())
                .await?
                .filter(|now| now.version == next && &now.record == record)),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn decide(
        &self,
        request_id: &str,
        answer: &Answer,
    ) -> Result<Option<RequestItem>, AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(request_id)))
            .update_expression("SET #s = :answering, answer = :a, version = version + :one")
            .condition_expression("#s = :pending")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":answering", s("answering"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":a", s(json(answer)?))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(o) => o.attributes.map(|i| to_request(&i)).transpose(),
            // Someone decided first (or our own reply was lost): whatever is stored wins.
            Err(e) if condition_failed(&e) => Ok(self
                .request(request_id)
                .await?
                .filter(|i| matches!(i.phase, Phase::Answering(_)))),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn event_sent(&self, request_id: &str) -> Result<(), AwsError> {
        let Some(item) = self.request(request_id).await? else {
            return Ok(());
        };
        let Phase::Answering(mut answer) = item.phase else {
            return Ok(());
        };
        answer.event_sent = true;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(request_id)))
            .update_expression("SET answer = :a")
            .condition_expression("#s = :answering")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":answering", s("answering"))
            .expression_attribute_values(":a", s(json(&answer)?))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn finish(&self, request_id: &str, now: i64) -> Result<(), AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(request_id)))
            .update_expression("SET #s = :done, #t = :ttl REMOVE answer")
            .condition_expression("#s = :answering")
            .expression_attribute_names("#s", "state")
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":answering", s("answering"))
            .expression_attribute_values(":ttl", n(now + DONE_TTL_SECS))
            .send()
            .await;
        match out {
            // Done already (a lost reply retried), or never answering: nothing to finish.
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    async fn list(&self) -> Result<Vec<Work>, AwsError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("Scan", e))?;
            for item in page.items() {
                match to_work(item) {
                    Ok(Some(w)) => out.push(w),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(pk = text(item, "pk").unwrap_or_default(), error = %e, "skipping an unreadable state item")
                    }
                }
            }
        }
        Ok(out)
    }

    async fn put_reap(&self, reap: &ReapItem, if_absent: bool) -> Result<(), AwsError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(reap_pk(&reap.cluster_id)))
            .item("reap", s(json(reap)?))
            .item("ttl", n(reap.since + REAP_TTL_SECS));
        let call = if if_absent {
            call.condition_expression("attribute_not_exists(pk)")
        } else {
            call
        };
        match call.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(aws_error("PutItem", e)),
        }
    }

    async fn remove_reap(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(reap_pk(cluster_id)))
            .send()
            .await
            .map_err(|e| aws_error("DeleteItem", e))?;
        Ok(())
    }

    /// Adds the sources to the item (a string set: two writers never lose each other's), and
    /// moves its retry time and version on.
    async fn put_maintain(&self, item: &MaintainItem) -> Result<(), AwsError> {
        if item.sources.is_empty() {
            return Ok(());
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(MAINTAIN_PK))
            .update_expression(
                "ADD sources :s, version :one SET not_before = :nb, dry_run = :d, #t = :ttl",
            )
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":s", Av::Ss(item.sources.clone()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":nb", n(item.not_before))
            .expression_attribute_values(":d", Av::Bool(item.dry_run))
            .expression_attribute_values(":ttl", n(item.not_before + REQUEST_TTL_SECS))
            .send()
            .await
            .map_err(|e| aws_error("UpdateItem", e))?;
        Ok(())
    }

    async fn take_maintain(&self, version: u64) -> Result<bool, AwsError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(MAINTAIN_PK))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            // Gone or replaced: a lost reply of our own delete also lands here, and then the
            // sources are left to the next scheduled run, never maintained twice at once.
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(aws_error("DeleteItem", e)),
        }
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl: i64,
    ) -> Result<Option<u64>, AwsError> {
        self.check_clock(name).await?;
        self.lease_take(name, holder, now, ttl).await
    }

    async fn confirm_lease(
        &self,
        name: &str,
        holder: &str,
        fence: u64,
        now: i64,
    ) -> Result<bool, AwsError> {
        self.lease_confirm(name, holder, fence, now).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), AwsError> {
        self.lease_release(name, holder).await
    }
}
