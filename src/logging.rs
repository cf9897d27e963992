//! Structured logs. Under Lambda: JSON lines with the request's span fields (stack id, logical
//! id, request id). Level from `LOG_LEVEL` (the stack's LogLevel parameter), default `info`.
//! Nothing this tool logs carries a ResponseURL, a password or a secret value.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    filter_for(&std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()))
}

/// `LOG_LEVEL` applies to this crate only; every other crate is capped at `warn`, whatever the
/// level: at debug and trace the Lambda runtime logs each raw event (ResponseURL included) and
/// the SDK logs request bodies (a `CreateSecret`'s value, a `ModifyDBCluster`'s password).
pub fn filter_for(level: &str) -> EnvFilter {
    let level = match level.trim().to_ascii_lowercase().as_str() {
        l @ ("error" | "warn" | "info" | "debug" | "trace") => l.to_string(),
        _ => "info".to_string(),
    };
    EnvFilter::new(format!("warn,aurora_clone_manager={level}"))
}

pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .try_init();
}

/// Human-readable logs on stderr for the CLI.
pub fn init_text() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .try_init();
}
