//! Leases in the state table, fenced. The item `lease#<name>` keeps `holder`, `expires` (epoch
//! seconds), `fence` and `ttl`. Every take by a new holder, or after expiry, adds one to `fence`
//! in the same conditional write; a renewal keeps it; a release removes the holder and keeps the
//! item, so that a number is never handed out twice. A write made under a lease first confirms,
//! at the table, that the holder and its fence still stand.

use super::{condition_failed, n, number, s, text, DynamoState, Item};
use crate::adapters::{aws_error, skew};
use crate::error::AwsError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// How long a lease item outlives its expiry before DynamoDB's TTL may remove it (and with it
/// its fencing number: by then no holder of an old number can still be acting).
const LEASE_TTL_SECS: i64 = 86_400;

fn pk(name: &str) -> String {
    format!("lease#{name}")
}

/// What a conditional lease write did.
enum Written {
    Fence(u64),
    /// The condition failed; the item as it was, when DynamoDB returned it.
    Refused(Option<Item>),
}

/// True when `item` is `holder`'s lease, unexpired at `now`.
fn held_by(item: &Item, holder: &str, now: i64) -> bool {
    text(item, "holder") == Some(holder) && number(item, "expires").is_some_and(|e| e >= now)
}

/// The item a failed condition returned (`ReturnValuesOnConditionCheckFailure`).
fn failed_item(e: &SdkError<UpdateItemError, HttpResponse>) -> Option<Item> {
    match e.as_service_error()? {
        UpdateItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
        _ => None,
    }
}

impl DynamoState {
    /// Refuses a lease when this machine's clock is too far off AWS's, read from the `Date` of
    /// a recent response of this client, or of one cheap read made now.
    pub(super) async fn check_clock(&self, name: &str) -> Result<(), AwsError> {
        if self.skew.fresh_skew().is_none() {
            self.get(&pk(name)).await?;
        }
        match self.skew.fresh_skew() {
            Some(skew) => skew::judge(skew),
            None => {
                // Every AWS response carries a Date; some local emulators' do not.
                tracing::debug!("no Date header from the state table: clock skew unchecked");
                Ok(())
            }
        }
    }

    /// Takes the lease (free, expired or released: a new fence) or renews it (already the
    /// holder's: the same fence). `None` when someone else holds it: one call, as the failed
    /// condition returns the item that failed it.
    pub(super) async fn lease_take(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl: i64,
    ) -> Result<Option<u64>, AwsError> {
        match self.lease_write(name, holder, now, ttl, true).await? {
            Written::Fence(fence) => Ok(Some(fence)),
            Written::Refused(Some(item)) if !held_by(&item, holder, now) => Ok(None),
            // Ours already: a renewal, or our own take whose reply was lost and was retried.
            Written::Refused(_) => match self.lease_write(name, holder, now, ttl, false).await? {
                Written::Fence(fence) => Ok(Some(fence)),
                Written::Refused(_) => Ok(None),
            },
        }
    }

    /// One conditional take (`new`) or renewal: the fence as stored afterwards, or the item as
    /// it was when the condition failed.
    async fn lease_write(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl: i64,
        new: bool,
    ) -> Result<Written, AwsError> {
        let (set_fence, condition) = if new {
            (
                "if_not_exists(fence, :zero) + :one",
                "attribute_not_exists(pk) OR expires < :now",
            )
        } else {
            (
                "if_not_exists(fence, :zero)",
                "holder = :me AND expires >= :now",
            )
        };
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(name)))
            .update_expression(format!(
                "SET holder = :me, expires = :exp, #t = :ttl, fence = {set_fence}"
            ))
            .condition_expression(condition)
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + ttl))
            .expression_attribute_values(":ttl", n(now + ttl + LEASE_TTL_SECS))
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        // DynamoDB refuses a value the expressions do not use.
        let call = if new {
            call.expression_attribute_values(":one", n(1))
        } else {
            call
        };
        match call.send().await {
            Ok(o) => Ok(Written::Fence(
                o.attributes
                    .as_ref()
                    .and_then(|i| number(i, "fence"))
                    .unwrap_or(0) as u64,
            )),
            Err(e) if condition_failed(&e) => Ok(Written::Refused(failed_item(&e))),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    /// True when `holder` holds the lease with `fence`, unexpired at `now`: a conditional
    /// write, so the check is made at the table, against every take.
    pub(super) async fn lease_confirm(
        &self,
        name: &str,
        holder: &str,
        fence: u64,
        now: i64,
    ) -> Result<bool, AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(name)))
            .update_expression("SET confirmed = :now")
            .condition_expression("holder = :me AND fence = :f AND expires >= :now")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":f", n(fence))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }

    /// Frees the lease if `holder` holds it; the item and its fence stay.
    pub(super) async fn lease_release(&self, name: &str, holder: &str) -> Result<(), AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(name)))
            .update_expression("SET expires = :zero REMOVE holder")
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(aws_error("UpdateItem", e)),
        }
    }
}
