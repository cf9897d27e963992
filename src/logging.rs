//! Structured logs. Under Lambda: JSON lines with the request's span fields (stack id, logical
//! id, request id). Level from `LOG_LEVEL` (the stack's LogLevel parameter), default `info`.
//! Nothing this tool logs carries a ResponseURL, a password or a secret value.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into());
    EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"))
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
