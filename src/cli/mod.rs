//! The operator CLI: the same flows as the Lambda, for people at a terminal, against their AWS
//! credentials (`--profile`, `--region`, or `AWS_ENDPOINT_URL` for the local AWS) and the
//! deployed stack's settings (`deployed`). Tables by default, `--output json` for scripts (one
//! document per command); what changes or removes something asks first (`confirm`). Exit codes:
//! 0 done, 1 failed, 2 bad usage or configuration, 3 refused or not confirmed.

mod args;
mod confirm;
mod cost;
pub mod deployed;
mod json;
mod lifecycle;
mod provision;
mod refresh;
mod requests;
pub mod state;
mod status;
mod term;
mod view;

use crate::adapters::{
    self,
    memory::{MemoryResponder, MemoryState, NoFollowUps},
};
use crate::clock::Clock;
use crate::config::Settings;
use crate::ports::Ports;
use crate::ports::StateStore;
use crate::service::{Flows, Invocation};
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

pub use args::{Cli, Command, Output};

/// Exit codes (`args` tells them in `--help`).
pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const REFUSED: u8 = 3;

pub async fn run() -> ExitCode {
    crate::logging::init_text();
    let cli = Cli::parse();
    let shared = cli.command.uses_stack_table();
    let clients =
        adapters::Clients::from_env_with(cli.profile.as_deref(), cli.region.as_deref()).await;
    let built = match settings(cli.stack.as_deref(), &clients).await {
        Ok((settings, deployed_table)) => {
            // The table the stack reported, unless named: no second look at the stack for it.
            let table = cli.state_table.as_deref().or(deployed_table.as_deref());
            manager(settings, &clients, table, shared).await
        }
        Err(e) => Err(e),
    };
    let (manager, answers, volumes) = match built {
        Ok(m) => m,
        Err(e) => {
            eprintln!("aurora-clone-manager: {e}");
            return ExitCode::from(USAGE);
        }
    };
    if let Err((code, message)) = confirm::confirm(&cli) {
        eprintln!("aurora-clone-manager: {message}");
        return ExitCode::from(code);
    }
    match execute(&manager, &answers, volumes.as_ref(), &cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("aurora-clone-manager: {message}");
            ExitCode::from(code)
        }
    }
}

/// The settings: the deployed stack's where it is deployed here (the Lambda's own), else the
/// environment's; and the state table the deployed stack reported. The stack is
/// `--stack`/`ACM_STACK`, else `STACK_NAME`.
async fn settings(
    stack: Option<&str>,
    clients: &adapters::Clients,
) -> Result<(Settings, Option<String>), String> {
    let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    let stack = stack
        .map(str::to_string)
        .or_else(|| vars.get("STACK_NAME").cloned())
        .filter(|s| !s.trim().is_empty())
        .ok_or("name the clone manager's stack with --stack or ACM_STACK")?;
    vars.insert("STACK_NAME".into(), stack.clone());
    let mut table = None;
    match deployed::stack_settings(&stack, clients).await {
        Ok(Some(deployed)) => {
            table = deployed.get("STATE_TABLE").cloned();
            vars.extend(deployed);
        }
        Ok(None) => eprintln!(
            "note: stack {stack} is not deployed in this account and region: using the environment's settings"
        ),
        Err(e) => eprintln!("note: {e}; using the environment's settings"),
    }
    let settings = Settings::from_map(&vars).map_err(|e| e.to_string())?;
    Ok((settings, table))
}

/// The flows over the real AWS adapters, serving their own requests in process. With `shared`,
/// its state is the stack's table (`state_table` names it, else the stack does); without, in
/// memory.
pub async fn manager(
    mut settings: Settings,
    clients: &adapters::Clients,
    state_table: Option<&str>,
    shared: bool,
) -> Result<(Flows, Arc<MemoryResponder>, Volumes), String> {
    let stacks = adapters::stacks::SdkStacks::new(clients.cloudformation.clone());
    let table = state::table_name(&settings.stack_name, state_table, &stacks).await;
    type Held = (Arc<dyn StateStore>, Arc<dyn crate::ports::Refreshes>);
    let (state, refreshes): Held = if shared {
        let table = table.clone()?;
        settings.state_table = table.clone();
        let refreshes =
            adapters::dynamo::DynamoRefreshes::new(clients.dynamodb.clone(), table.as_str());
        (
            Arc::new(state::shared_state(&table, clients).await?),
            Arc::new(refreshes),
        )
    } else {
        let memory = Arc::new(MemoryState::default());
        (memory.clone(), memory)
    };
    // Ownership is the stack's ledger's alone, for every command: without a table nothing is
    // this stack's (plans and listings still run; nothing can be changed).
    let ledger: Arc<dyn crate::ports::Ledger> = match &table {
        Ok(t) => Arc::new(adapters::dynamo::DynamoLedger::new(
            clients.dynamodb.clone(),
            t,
        )),
        Err(why) => {
            eprintln!("note: {why}; without its ownership ledger no cluster shows as this stack's");
            Arc::new(state::NoLedger)
        }
    };
    let answers = Arc::new(MemoryResponder::default());
    let responder = Arc::new(state::CliResponder::new(answers.clone()));
    let base = adapters::sdk_ports(&settings, clients, responder);
    // Served in process: the CLI's own requests have no ResponseURL, and it has no follow-up
    // rule of its own (a request it leaves pending in the table, the Lambda's follow-ups may
    // finish).
    let ports = Ports {
        state,
        refreshes,
        ledger,
        follow_ups: Arc::new(NoFollowUps),
        ..base
    };
    let volumes = Arc::new(adapters::volumes::CloudWatchVolumes::new(
        clients.cloudwatch.clone(),
    ));
    Ok((Flows::new(settings, ports, Clock::System), answers, volumes))
}

pub type Outcome = Result<(), (u8, String)>;

/// Where the cost estimates read volume sizes.
pub type Volumes = Arc<dyn crate::ports::VolumeSizes>;

async fn execute(
    m: &Flows,
    answers: &MemoryResponder,
    volumes: &dyn crate::ports::VolumeSizes,
    cli: &Cli,
) -> Outcome {
    match &cli.command {
        Command::Plan {
            source,
            copy_ok,
            copy_created_since,
        } => {
            let since = copy_created_since.as_deref();
            view::plan(m, volumes, source, *copy_ok, since, cli.as_json()).await
        }
        Command::Provision { .. } => {
            provision::provision(m, answers, volumes, &cli.command, cli.as_json()).await
        }
        Command::Maintain { dry_run } => {
            let report = m
                .maintain
                .maintain(*dry_run, &Invocation::default())
                .await
                .map_err(|e| (FAILED, e.to_string()))?;
            view::maintenance(&report, cli.as_json());
            Ok(())
        }
        Command::Status => status::status(m, volumes, cli.as_json()).await,
        Command::Requests { fail: None, .. } => requests::requests(m, cli.as_json()).await,
        Command::Requests {
            fail: Some(id),
            reason,
        } => requests::fail(m, id, reason.as_deref(), cli.as_json()).await,
        Command::Extend {
            cluster_id,
            by,
            dry_run,
        } => lifecycle::extend(m, cluster_id, by, *dry_run, cli.as_json()).await,
        Command::Sweep { dry_run } => lifecycle::sweep(m, *dry_run, cli.as_json()).await,
        Command::Adopt { dry_run } => lifecycle::adopt(m, *dry_run, cli.as_json()).await,
        Command::Refresh {
            cluster_id,
            wait,
            dry_run,
        } => refresh::refresh(m, cluster_id, *wait, *dry_run, cli.as_json()).await,
        Command::Delete {
            cluster_id,
            force,
            dry_run,
            wait,
        } => {
            let options = provision::Deleting {
                force: *force,
                dry_run: *dry_run,
                wait: *wait,
            };
            provision::delete(m, cluster_id, options, cli.as_json()).await
        }
    }
}
