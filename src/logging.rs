//! Structured logs. Under Lambda: JSON lines with the request's span fields (stack id, logical
//! id, request id). Level from `LOG_LEVEL` (the stack's LogLevel parameter), default `info`.
//! Nothing this tool logs carries a ResponseURL, a password or a secret value.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

fn filter() -> Targets {
    filter_for(&std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()))
}

/// `LOG_LEVEL` applies to this crate only; every other crate is capped at `warn`, whatever the
/// level: at debug and trace the Lambda runtime logs each raw event (ResponseURL included) and
/// the SDK logs request bodies (a `CreateSecret`'s value, a `ModifyDBCluster`'s password).
pub fn filter_for(level: &str) -> Targets {
    let level = match level.trim().to_ascii_lowercase().as_str() {
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("aurora_clone_manager", level)
}

pub fn init_json() {
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(filter())
        .try_init();
}

/// Human-readable logs on stderr for the CLI.
pub fn init_text() {
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(filter())
        .try_init();
}
