//! Where the CLI keeps request state: the deployed stack's state table, the one the Lambda uses,
//! so that a `provision` or `maintain` from a terminal takes the same placement leases as the
//! Lambda's placements (and its requests, reap work and leases are visible to both). The table
//! is found from the stack (`DescribeStackResource` of `StateTable`); `--state-table` or
//! `STATE_TABLE` names it instead. A command that would change something and finds no table
//! fails: an in-memory state would serialise with nothing.

use crate::adapters::{self, dynamo::DynamoState, http::HttpResponder, memory::MemoryResponder};
use crate::cfn::ResponseBody;
use crate::domain::Deed;
use crate::error::AwsError;
use crate::ports::{Entered, Ledger, Responder, StackResource, Stacks, StateStore};
use std::sync::Arc;
use tokio::time::Instant;

/// The state table's logical id in `template.yaml`.
pub const STATE_TABLE_LOGICAL_ID: &str = "StateTable";

/// The table's name: `explicit` when given, else the physical id of the stack's `StateTable`.
pub async fn table_name(
    stack: &str,
    explicit: Option<&str>,
    stacks: &dyn Stacks,
) -> Result<String, String> {
    if let Some(name) = explicit.map(str::trim).filter(|n| !n.is_empty()) {
        return Ok(name.to_string());
    }
    let found = stacks
        .resource(stack, STATE_TABLE_LOGICAL_ID)
        .await
        .map_err(|e| {
            format!("could not read the state table of stack {stack} from CloudFormation: {e} (name it with --state-table or STATE_TABLE)")
        })?;
    match found {
        StackResource::Found {
            physical_id: Some(id),
            ..
        } if !id.is_empty() => Ok(id),
        _ => Err(format!(
            "stack {stack} has no state table ({STATE_TABLE_LOGICAL_ID}): is it the clone manager's stack, deployed in this account and region? \
             Commands that change something share the Lambda's state table, and run without one only as --dry-run; \
             name the table with --state-table or STATE_TABLE"
        )),
    }
}

/// The state store over `table`, once one read shows the table is there.
pub async fn shared_state(table: &str, clients: &adapters::Clients) -> Result<DynamoState, String> {
    let state = DynamoState::new(clients.dynamodb.clone(), table);
    match state.request("cli-probe").await {
        Ok(_) => Ok(state),
        Err(e) if e.code == "ResourceNotFoundException" => Err(format!(
            "the state table {table} does not exist in this account and region (name the stack's table with --state-table or STATE_TABLE)"
        )),
        Err(e) => Err(format!("the state table {table} cannot be read: {e}")),
    }
}

/// The ledger of a stack whose state table cannot be found (the CLI's plans and listings without
/// a deployed stack): it holds nothing, so nothing is this stack's, and it takes no writes.
pub struct NoLedger;

#[async_trait::async_trait]
impl Ledger for NoLedger {
    async fn deed(&self, _: &str) -> Result<Option<Deed>, AwsError> {
        Ok(None)
    }

    async fn deeds(&self) -> Result<Vec<Deed>, AwsError> {
        Ok(vec![])
    }

    async fn enter(&self, _: &Deed) -> Result<Entered, AwsError> {
        Err(no_table())
    }

    async fn amend(&self, _: &Deed) -> Result<Option<Deed>, AwsError> {
        Err(no_table())
    }

    async fn strike(&self, _: &str) -> Result<(), AwsError> {
        Err(no_table())
    }
}

/// The CLI's answers: each one kept in memory (what `provision` reports), and an answer to one
/// of CloudFormation's requests (it has a ResponseURL: `requests --fail`) also PUT there, as the
/// Lambda sends it, so that no stack's request is marked done without CloudFormation being told.
/// A request made at the terminal has no ResponseURL and goes to nobody.
pub struct CliResponder {
    kept: Arc<MemoryResponder>,
    http: HttpResponder,
}

impl CliResponder {
    pub fn new(kept: Arc<MemoryResponder>) -> CliResponder {
        CliResponder {
            kept,
            http: HttpResponder::new(),
        }
    }
}

#[async_trait::async_trait]
impl Responder for CliResponder {
    async fn send(
        &self,
        url: &str,
        body: &ResponseBody,
        until: Option<Instant>,
    ) -> Result<(), String> {
        self.http.send(url, body, until).await?;
        self.kept.send(url, body, until).await
    }
}

fn no_table() -> AwsError {
    AwsError::permanent(
        "ledger",
        "NoStateTable",
        "no state table: the ownership ledger cannot be written",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AwsError;
    use async_trait::async_trait;

    struct OneStack(StackResource);

    #[async_trait]
    impl Stacks for OneStack {
        async fn resource(&self, stack: &str, logical: &str) -> Result<StackResource, AwsError> {
            assert_eq!((stack, logical), ("acm", STATE_TABLE_LOGICAL_ID));
            Ok(self.0.clone())
        }

        async fn stack_status(
            &self,
            _: &str,
        ) -> Result<Option<crate::domain::StackStatus>, AwsError> {
            Ok(None)
        }
    }

    fn found(id: &str) -> StackResource {
        StackResource::Found {
            resource_type: "AWS::DynamoDB::Table".into(),
            status: "CREATE_COMPLETE".into(),
            physical_id: Some(id.into()),
        }
    }

    #[tokio::test]
    async fn the_table_comes_from_the_stack_unless_named() {
        let stacks = OneStack(found("acm-state-x"));
        assert_eq!(
            table_name("acm", None, &stacks).await.unwrap(),
            "acm-state-x"
        );
        assert_eq!(
            table_name("acm", Some("mine"), &stacks).await.unwrap(),
            "mine"
        );
        assert_eq!(
            table_name("acm", Some(" "), &stacks).await.unwrap(),
            "acm-state-x"
        );
        let e = table_name("acm", None, &OneStack(StackResource::Missing))
            .await
            .unwrap_err();
        assert!(e.contains("stack acm has no state table"), "{e}");
    }
}
