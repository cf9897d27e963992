//! The one binary: a Lambda under the Lambda runtime, an operator CLI anywhere else (the CLI
//! only where the `cli` feature is on: the Lambda's zip is built without it).

use std::process::ExitCode;

// One invocation at a time: a single-threaded runtime keeps memory and start-up small.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        aurora_clone_manager::logging::init_json();
        match aurora_clone_manager::lambda::run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "Lambda runtime stopped");
                ExitCode::FAILURE
            }
        }
    } else {
        operator().await
    }
}

#[cfg(feature = "cli")]
async fn operator() -> ExitCode {
    aurora_clone_manager::cli::run().await
}

/// The Lambda's own build has no CLI: say so, with the usage exit code, rather than start as a
/// Lambda without a runtime to poll.
#[cfg(not(feature = "cli"))]
async fn operator() -> ExitCode {
    eprintln!(
        "aurora-clone-manager: this is the Lambda's build (without the `cli` feature): it runs \
         only under the Lambda runtime (AWS_LAMBDA_RUNTIME_API). For the operator CLI build it \
         with the default features: cargo install --path ."
    );
    ExitCode::from(2)
}
