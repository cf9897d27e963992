//! The operator CLI (issue 5: in progress).

use std::process::ExitCode;

pub async fn run() -> ExitCode {
    eprintln!("aurora-clone-manager: the operator CLI is not built yet; run under AWS Lambda");
    ExitCode::from(2)
}
