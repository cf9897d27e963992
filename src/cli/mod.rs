//! The operator CLI: the same flows as the Lambda, for people at a terminal, against their AWS
//! credentials (`--profile`, `--region`, or `AWS_ENDPOINT_URL` for the local AWS) and the
//! deployed stack's settings (`deployed`). Tables by default, `--output json` for scripts (one
//! document per command); what changes or removes something asks first (`confirm`). Exit codes:
//! 0 done, 1 failed, 2 bad usage or configuration, 3 refused or not confirmed.

mod confirm;
mod cost;
pub mod deployed;
mod json;
mod lifecycle;
mod provision;
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
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "aurora-clone-manager",
    version,
    about = "Aurora copy-on-write clones and their pools of full copies.",
    long_about = "Aurora copy-on-write clones and their pools of full copies.\n\n\
Run as an AWS Lambda it serves Custom::AuroraClone resources; run here it lets you see the pools,\n\
plan and make clones, run maintenance and delete what it made. It uses your AWS credentials, or\n\
the local AWS when AWS_ENDPOINT_URL is set. --stack (or ACM_STACK) names the clone manager's\n\
stack: it is the owner recorded on every cluster this tool makes, its deployed settings (prefix,\n\
ages, grace, default key) are the ones used here, and commands that change something keep their\n\
requests and leases in its state table, shared with the Lambda."
)]
pub struct Cli {
    /// The clone manager's stack: the owner of clones and copies, whose deployed settings are
    /// used (STACK_NAME is read when neither is given).
    #[arg(long, env = "ACM_STACK", global = true)]
    pub stack: Option<String>,
    /// The AWS profile to use (SSO profiles need the `sso` build feature).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// The AWS region to use.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, global = true, default_value = "table")]
    pub output: Output,
    /// The stack's state table (default: read from the stack, its `StateTable`).
    #[arg(long, env = "STATE_TABLE", global = true)]
    pub state_table: Option<String>,
    /// The same as --output json.
    #[arg(long, global = true)]
    pub json: bool,
    /// Go ahead without asking (delete, sweep, maintain and adopt ask first; without a terminal
    /// they need --yes).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Tables and sentences, for people.
    Table,
    /// One JSON document on stdout, for scripts.
    Json,
}

impl Cli {
    /// True when the output is JSON (`--output json` or `--json`).
    pub fn as_json(&self) -> bool {
        self.json || self.output == Output::Json
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a source's pool (root and copies: age, data time, clones, free slots) and where a
    /// new clone would go.
    Plan {
        /// The root cluster.
        #[arg(long)]
        source: String,
        /// Allow waiting for a new pool copy when no slot is free.
        #[arg(long)]
        copy_ok: bool,
        /// Only copies with data newer than this (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        copy_created_since: Option<String>,
    },
    /// Make a clone now, with the same planner as the Lambda.
    Provision {
        #[arg(long)]
        source: String,
        /// The clone's identifier (default: generated).
        #[arg(long)]
        cluster_id: Option<String>,
        #[arg(long)]
        instance_class: Option<String>,
        #[arg(long)]
        copy_ok: bool,
        /// Give the clone its own master password in Secrets Manager (needs --wait).
        #[arg(long)]
        set_password: bool,
        /// When the clone expires, as an ISO-8601 duration from now (P7D, PT12H): stopped then
        /// (or deleted, with --expiry-action delete). A clone made here has no stack to delete
        /// it: give it an expiry.
        #[arg(long)]
        expires_after: Option<String>,
        /// What its expiry does: stop (default) or delete.
        #[arg(long)]
        expiry_action: Option<String>,
        /// A tag for the clone, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// Show the plan only.
        #[arg(long)]
        dry_run: bool,
        /// Wait, showing progress, until the clone is usable.
        #[arg(long)]
        wait: bool,
    },
    /// Run pool maintenance from the config in SSM.
    Maintain {
        /// Plan and report without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the clones and pool copies this stack manages, with each clone's expiry.
    Status,
    /// List the work in the stack's state table: requests (pending, being answered, done),
    /// clean-ups and maintenance, most urgent first, for a stack that seems to wait.
    Requests,
    /// Move a clone's expiry later (tagged as an extension: the stack's next change of
    /// ExpiresAfter/ExpiresAt replaces it; an Update that leaves them alone keeps it).
    Extend {
        #[arg(long)]
        cluster_id: String,
        /// How much later, as an ISO-8601 duration (P7D, PT12H); from now if it has passed.
        #[arg(long)]
        by: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Find clones whose stack no longer claims them and, a grace period (ORPHAN_GRACE) after
    /// first seeing them orphaned, remove them with their secrets and keys.
    Sweep {
        /// Ask and report every candidate with the reason; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record in the ownership ledger the clusters whose tags say this stack made them (clones
    /// and copies made before the ledger existed). Only the ledger gives the manager authority
    /// over a cluster: run this once after upgrading, after checking the list with --dry-run.
    Adopt {
        /// List what would be recorded; record nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete a clone this stack made (never anything else).
    Delete {
        #[arg(long)]
        cluster_id: String,
        /// Also delete a clone that belongs to a CloudFormation stack.
        #[arg(long)]
        force: bool,
        /// Show what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Wait until the clone is gone.
        #[arg(long)]
        wait: bool,
    },
}

/// Exit codes.
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

impl Command {
    /// True when the command works on the stack's state table: those that may change something
    /// in AWS, and `requests`, which lists it. Plans, listings and dry runs change nothing and
    /// keep what little state they touch in memory, so that they run without a deployed stack.
    pub fn uses_stack_table(&self) -> bool {
        match self {
            Command::Plan { .. } | Command::Status => false,
            // Reads only, but the stack's table is what it reads.
            Command::Requests => true,
            Command::Provision { dry_run, .. }
            | Command::Maintain { dry_run }
            | Command::Extend { dry_run, .. }
            | Command::Sweep { dry_run }
            | Command::Adopt { dry_run }
            | Command::Delete { dry_run, .. } => !dry_run,
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
    let state: Arc<dyn StateStore> = if shared {
        let table = table.clone()?;
        settings.state_table = table.clone();
        Arc::new(state::shared_state(&table, clients).await?)
    } else {
        Arc::new(MemoryState::default())
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
    let base = adapters::sdk_ports(&settings, clients, answers.clone());
    // Served in process: the CLI has no ResponseURL and no follow-up rule of its own (a
    // request it leaves pending in the table, the Lambda's follow-ups may finish).
    let ports = Ports {
        state,
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
        Command::Requests => requests::requests(m, cli.as_json()).await,
        Command::Extend {
            cluster_id,
            by,
            dry_run,
        } => lifecycle::extend(m, cluster_id, by, *dry_run, cli.as_json()).await,
        Command::Sweep { dry_run } => lifecycle::sweep(m, *dry_run, cli.as_json()).await,
        Command::Adopt { dry_run } => lifecycle::adopt(m, *dry_run, cli.as_json()).await,
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
