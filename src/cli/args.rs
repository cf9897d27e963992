//! The CLI's arguments: global options, the commands and their options, each with its help
//! text, and the exit codes in `--help`.

use clap::{Parser, Subcommand};

/// The exit codes, as `--help` tells them (and `run` returns them).
const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed, 2 bad usage or configuration, \
3 refused or not confirmed (nothing was changed).";

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

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
requests and leases in its state table, shared with the Lambda.",
    after_help = EXIT_CODES,
    after_long_help = EXIT_CODES,
    subcommand_help_heading = "Commands"
)]
pub struct Cli {
    /// The clone manager's stack: the owner of clones and copies, whose deployed settings are
    /// used (STACK_NAME is read when neither is given).
    #[arg(long, env = "ACM_STACK", global = true, help_heading = GLOBAL)]
    pub stack: Option<String>,
    /// The AWS profile to use: its credentials and region (SSO profiles need the `sso` build
    /// feature).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub profile: Option<String>,
    /// The AWS region to use (before the profile's and the environment's).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub region: Option<String>,
    /// Output format: tables and sentences for people, or one JSON document (camelCase keys).
    #[arg(long, value_enum, global = true, default_value = "table", help_heading = GLOBAL)]
    pub output: Output,
    /// The stack's state table (default: read from the stack, its `StateTable`).
    #[arg(long, env = "STATE_TABLE", global = true, help_heading = GLOBAL)]
    pub state_table: Option<String>,
    /// The same as --output json.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Go ahead without asking (delete, sweep, maintain, adopt and requests --fail ask first;
    /// without a terminal they need --yes).
    #[arg(long, short = 'y', global = true, help_heading = GLOBAL)]
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
    #[command(after_help = EXIT_CODES)]
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
    #[command(after_help = EXIT_CODES)]
    Provision {
        /// The root cluster to clone.
        #[arg(long)]
        source: String,
        /// The clone's identifier (default: generated).
        #[arg(long)]
        cluster_id: Option<String>,
        /// The class of the clone's writer (db.serverless for Serverless v2; default
        /// db.r6g.large).
        #[arg(long)]
        instance_class: Option<String>,
        /// Allow waiting for a new pool copy (a full copy: slow) when no slot is free.
        #[arg(long)]
        copy_ok: bool,
        /// Give the clone its own master password in Secrets Manager (needs --wait).
        #[arg(long)]
        set_password: bool,
        /// When the clone expires, as an ISO-8601 duration from now (P7D, PT12H): stopped then
        /// (or deleted, with --expiry-action delete). A clone made here has no stack to delete
        /// it: give it an expiry.
        #[arg(long, conflicts_with = "expires_at")]
        expires_after: Option<String>,
        /// Or the moment it expires (RFC 3339, after now: 2026-12-24T18:00:00Z).
        #[arg(long)]
        expires_at: Option<String>,
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
    #[command(after_help = EXIT_CODES)]
    Maintain {
        /// Plan and report without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the clones and pool copies this stack manages, with each clone's expiry.
    #[command(after_help = EXIT_CODES)]
    Status,
    /// List the work in the stack's state table: requests (pending, being answered, done),
    /// clean-ups and maintenance, most urgent first, for a stack that seems to wait; or answer
    /// one pending request FAILED (--fail), to unstick its stack.
    #[command(after_help = EXIT_CODES)]
    Requests {
        /// Answer this pending request (its RequestId) FAILED now: the answer is recorded, PUT
        /// to its ResponseURL as the Lambda would, and the clone it was making is removed.
        #[arg(long, value_name = "REQUEST_ID")]
        fail: Option<String>,
        /// The reason CloudFormation shows with --fail.
        #[arg(long, requires = "fail")]
        reason: Option<String>,
    },
    /// Move a clone's expiry later (tagged as an extension: the stack's next change of
    /// ExpiresAfter/ExpiresAt replaces it; an Update that leaves them alone keeps it).
    #[command(after_help = EXIT_CODES)]
    Extend {
        /// The clone whose expiry moves.
        #[arg(long)]
        cluster_id: String,
        /// How much later, as an ISO-8601 duration (P7D, PT12H); from now if it has passed.
        #[arg(long)]
        by: String,
        /// Show the new expiry; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Find clones whose stack no longer claims them and, a grace period (ORPHAN_GRACE) after
    /// first seeing them orphaned, remove them with their secrets and keys.
    #[command(after_help = EXIT_CODES)]
    Sweep {
        /// Ask and report every candidate with the reason; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record in the ownership ledger the clusters whose tags say this stack made them (clones
    /// and copies made before the ledger existed). Only the ledger gives the manager authority
    /// over a cluster: run this once after upgrading, after checking the list with --dry-run.
    #[command(after_help = EXIT_CODES)]
    Adopt {
        /// List what would be recorded; record nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Refresh a clone in place: a new clone of its source takes its name, endpoint, password
    /// and secret; the old one is deleted (what its RefreshSchedule does on schedule).
    #[command(after_help = EXIT_CODES)]
    Refresh {
        /// The clone to refresh (one this stack made).
        #[arg(long)]
        cluster_id: String,
        /// Wait until the refresh is over (this terminal carries it on; minutes).
        #[arg(long)]
        wait: bool,
        /// Say whether the clone may be refreshed and under which names; record nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete a clone this stack made (never anything else).
    #[command(after_help = EXIT_CODES)]
    Delete {
        /// The clone to delete, with its instances, secret and key (no final snapshot).
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

impl Command {
    /// True when the command works on the stack's state table: those that may change something
    /// in AWS, and `requests`, which lists it. Plans, listings and dry runs change nothing and
    /// keep what little state they touch in memory, so that they run without a deployed stack.
    pub fn uses_stack_table(&self) -> bool {
        match self {
            Command::Plan { .. } | Command::Status => false,
            // Reads (or, with --fail, answers) the stack's table.
            Command::Requests { .. } => true,
            Command::Provision { dry_run, .. }
            | Command::Maintain { dry_run }
            | Command::Extend { dry_run, .. }
            | Command::Sweep { dry_run }
            | Command::Adopt { dry_run }
            | Command::Refresh { dry_run, .. }
            | Command::Delete { dry_run, .. } => !dry_run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option of every command says what it is for, and every `--help` ends with the
    /// exit codes.
    #[test]
    fn every_option_has_help_and_every_help_the_exit_codes() {
        let root = Cli::command();
        let mut commands = vec![root.clone()];
        commands.extend(root.get_subcommands().cloned());
        assert!(commands.len() > 9, "the commands: {}", commands.len());
        for mut command in commands {
            let name = command.get_name().to_string();
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                let helped = arg.get_help().is_some() || ["help", "version"].contains(&id);
                assert!(helped, "{name} --{id} has no help text");
            }
            let help = command.render_long_help().to_string();
            assert!(help.contains(EXIT_CODES), "{name} --help: {help}");
        }
    }
}
