//! The one binary: a Lambda under the Lambda runtime, an operator CLI anywhere else.

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
        aurora_clone_manager::cli::run().await
    }
}
