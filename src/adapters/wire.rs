//! The SDK adapters as one set of ports, for the Lambda and the CLI alike.

use super::Clients;
use crate::config::Settings;
use crate::ports::{Ports, Responder};
use std::sync::Arc;

/// Every port over the AWS SDK, named and scoped by the stack's settings.
pub fn sdk_ports(settings: &Settings, clients: &Clients, responder: Arc<dyn Responder>) -> Ports {
    let table = &settings.state_table;
    Ports {
        rds: Arc::new(super::rds::SdkRds::new(clients.rds.clone())),
        state: Arc::new(super::dynamo::DynamoState::new(
            clients.dynamodb.clone(),
            table,
        )),
        ledger: Arc::new(super::dynamo::DynamoLedger::new(
            clients.dynamodb.clone(),
            table,
        )),
        follow_ups: Arc::new(super::events::RuleFollowUps::new(
            clients.events.clone(),
            settings.follow_up_rule(),
        )),
        responder,
        secrets: Arc::new(super::secrets::SdkSecrets::new(clients.secrets.clone())),
        keys: Arc::new(super::kms::SdkKeys::new(clients.kms.clone())),
        events: Arc::new(super::events::BusEvents::new(
            clients.events.clone(),
            &settings.event_bus_name,
            &settings.event_source,
        )),
        parameters: Arc::new(super::ssm::SsmParameters::new(clients.ssm.clone())),
        stacks: Arc::new(super::stacks::SdkStacks::new(
            clients.cloudformation.clone(),
        )),
        schedules: Arc::new(super::schedules::SdkSchedules::new(
            clients.scheduler.clone(),
            settings.expiry_group(),
        )),
        refreshes: Arc::new(super::dynamo::DynamoRefreshes::new(
            clients.dynamodb.clone(),
            table,
        )),
    }
}
