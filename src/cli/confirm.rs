//! Asking before a command changes or removes something: `--yes` answers for the operator; at a
//! terminal the operator is asked; without one (a script, CI) the command is refused, with
//! what to pass, and nothing is changed.

use super::{Cli, Command, Outcome, REFUSED};
use std::io::{BufRead, IsTerminal};

/// What the command is about to do, as the question put to the operator; `None` for commands
/// that change nothing (plans, listings, dry runs) or only add (`provision`, `extend`).
pub fn question(command: &Command) -> Option<String> {
    match command {
        Command::Delete {
            cluster_id,
            force,
            dry_run: false,
            ..
        } => Some(format!(
            "Delete clone {cluster_id}{}, with its secret and key?",
            if *force { " (even if a stack still claims it)" } else { "" }
        )),
        Command::Sweep { dry_run: false } => Some(
            "Remove the clones whose stack no longer claims them, past their grace (see sweep --dry-run)?".into(),
        ),
        Command::Maintain { dry_run: false } => Some(
            "Run maintenance: make and retire full pool copies as the config asks (see maintain --dry-run)?".into(),
        ),
        Command::Requests {
            fail: Some(id),
            ..
        } => Some(format!(
            "Answer request {id} FAILED now (CloudFormation gets the answer; the clone it was making is removed)?"
        )),
        Command::Adopt { dry_run: false } => Some(
            "Record the clusters tagged as this stack's in its ownership ledger, giving it authority to delete them (see adopt --dry-run)?".into(),
        ),
        Command::Refresh {
            cluster_id,
            dry_run: false,
            ..
        } => Some(format!(
            "Refresh clone {cluster_id} in place: its data is replaced by a new clone of its source, and the old cluster deleted?"
        )),
        _ => None,
    }
}

/// Asks the operator where the command needs it.
pub fn confirm(cli: &Cli) -> Outcome {
    let Some(question) = question(&cli.command) else {
        return Ok(());
    };
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    answer(&question, cli.yes, terminal, &mut stdin.lock())
}

/// The decision, from `--yes`, whether there is a terminal, and what the operator typed.
pub fn answer(question: &str, yes: bool, terminal: bool, input: &mut dyn BufRead) -> Outcome {
    if yes {
        return Ok(());
    }
    if !terminal {
        return Err((
            REFUSED,
            format!("{question} Pass --yes to confirm (there is no terminal to ask); nothing was changed"),
        ));
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    if input.read_line(&mut line).is_err() {
        line.clear();
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err((REFUSED, "not confirmed: nothing was changed".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_or_a_yes_at_the_terminal_goes_ahead() {
        let ask =
            |yes, terminal, typed: &str| answer("Delete?", yes, terminal, &mut typed.as_bytes());
        assert!(ask(true, false, "").is_ok());
        assert!(ask(false, true, "y\n").is_ok());
        assert!(ask(false, true, "YES\n").is_ok());
        for (terminal, typed) in [
            (true, "\n"),
            (true, "n\n"),
            (true, "yep\n"),
            (true, ""),
            (false, "y\n"),
        ] {
            let refused = ask(false, terminal, typed).expect_err("refused");
            assert_eq!(refused.0, REFUSED);
            assert!(refused.1.contains("nothing was changed"), "{}", refused.1);
        }
        let (_, why) = ask(false, false, "").unwrap_err();
        assert!(why.contains("--yes"), "{why}");
    }

    #[test]
    fn dry_runs_and_listings_are_never_asked() {
        let dry = [
            Command::Delete {
                cluster_id: "c".into(),
                force: true,
                dry_run: true,
                wait: false,
            },
            Command::Sweep { dry_run: true },
            Command::Maintain { dry_run: true },
            Command::Adopt { dry_run: true },
            Command::Refresh {
                cluster_id: "c".into(),
                wait: true,
                dry_run: true,
            },
            Command::Status,
            Command::Requests {
                fail: None,
                reason: None,
            },
        ];
        assert!(dry.iter().all(|c| question(c).is_none()));
        let live = [
            Command::Delete {
                cluster_id: "c".into(),
                force: false,
                dry_run: false,
                wait: true,
            },
            Command::Sweep { dry_run: false },
            Command::Maintain { dry_run: false },
            Command::Adopt { dry_run: false },
            Command::Refresh {
                cluster_id: "c".into(),
                wait: false,
                dry_run: false,
            },
            Command::Requests {
                fail: Some("r".into()),
                reason: None,
            },
        ];
        assert!(live.iter().all(|c| question(c).is_some()));
    }
}
