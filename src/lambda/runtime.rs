//! The Lambda runtime loop: each invocation's event is classified once, handled, and its AWS
//! calls reported.

use super::{deadline, handle_event, App, Event};
use crate::adapters;
use crate::service::Invocation;
use serde_json::Value;
use tokio::time::Instant;

/// Runs the function under the Lambda runtime.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let app = App::from_env().await;
    if let Err(e) = &app.flows {
        tracing::error!(error = %e, "invalid configuration: every CloudFormation request will be answered FAILED");
    }
    crate::metrics::to_stdout();
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| async move {
            let inv = Invocation::new(Some(event.context.invoked_function_arn.clone()), None);
            let deadline = instant_of(event.context.deadline);
            let classified = Event::classify(&event.payload);
            let kind = classified.kind();
            let result = handle_event(app, classified, inv, deadline).await;
            if let Some(counter) = &app.calls {
                report_calls(counter, &app.stack_name, kind);
            }
            result.map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}

/// The invocation's AWS calls and throttled attempts: one log line, one metric document.
fn report_calls(counter: &adapters::counting::CallCounter, stack: &str, kind: &str) {
    let (calls, throttles) = (counter.take(), counter.take_throttles());
    let (n, t) = (calls.values().sum::<u64>(), throttles.values().sum::<u64>());
    tracing::info!(aws_calls = n, calls = ?calls, throttles = ?throttles, "invocation done");
    crate::metrics::emit(&crate::metrics::Metrics::new(stack).invocation(n, t, kind));
}

/// Converts the runtime's deadline header into a tokio instant (`deadline` says how local
/// emulators' odd values are read).
fn instant_of(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let budget = deadline::read(deadline_ms, now_ms, deadline::CONFIGURED_TIMEOUT);
    match &budget {
        deadline::Budget::Deadline(_) => {}
        deadline::Budget::Duration(d) => {
            tracing::info!(
                secs = d.as_secs(),
                "the runtime's deadline is a duration (a local emulator): taken as one"
            )
        }
        deadline::Budget::Implausible(d) => {
            tracing::warn!(header_ms = deadline_ms, secs = d.as_secs(), "the runtime's deadline is in the past or implausibly far ahead: using the configured timeout")
        }
    }
    Instant::now() + budget.remaining()
}
