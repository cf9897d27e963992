//! Logs of a whole flow, captured. In a test binary of its own: tracing caches per call site
//! whether anyone listens, and other tests' threads (with no subscriber) would spoil that.

mod support;

use serde_json::json;
use std::sync::{Arc, Mutex};
use support::flow::Flow;

/// Defect 12: the whole event, ResponseURL included, was logged. Passwords and secret values
/// must not be either. Capture every log line of a
/// Create → ready → Delete flow and look for the URL and its signature.
/// Issue 10.5: at `LOG_LEVEL=trace` (a choice the template offers) the filter still caps every
/// other crate, so the SDK's request bodies (a secret's value, a new master password) and the
/// runtime's raw events stay out.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_carry_the_response_url_or_a_secret() {
    let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let buf = buf.clone();
        move || LogWriter(buf.clone())
    };
    use tracing_subscriber::prelude::*;
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_writer(writer);
    let subscriber = tracing_subscriber::registry()
        .with(lines)
        .with(aurora_clone_manager::logging::filter_for("trace"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let f = Flow::new().await;
    let (r, a) = f
        .create(json!({"SourceClusterId": f.source, "SetPassword": "true",
        "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev"}))
        .await;
    assert_eq!(a["Status"], "SUCCESS");
    let sm = aws_sdk_secretsmanager::Client::new(&support::moto::sdk_config());
    let secret = sm
        .get_secret_value()
        .secret_id(a["Data"]["PasswordSecret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let secret_value = secret.secret_string().unwrap().to_string();
    let password: serde_json::Value = serde_json::from_str(&secret_value).unwrap();
    let password = password["password"].as_str().unwrap().to_string();
    let mut d = f.request("Delete", json!({"SourceClusterId": f.source}));
    d.physical_resource_id = a["PhysicalResourceId"].as_str().map(str::to_string);
    f.invoke(serde_json::to_value(&d).unwrap()).await;
    let logs = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"level\":\"TRACE\"") || logs.contains("\"level\":\"DEBUG\""),
        "the filter let this crate's debug lines through"
    );
    assert!(
        logs.contains(&r.request_id),
        "the logs carry the request id: {}",
        &logs[..logs.len().min(3000)]
    );
    assert!(logs.contains("\"logical_id\":\"Db\""));
    assert!(
        logs.contains("setting the clone's own master password"),
        "the password step ran and was logged"
    );
    assert!(!logs.contains(&password), "the password reached the logs");
    assert!(
        !logs.contains(&secret_value),
        "the secret value reached the logs"
    );
    assert!(!logs.contains("source-password-1"));
    assert!(
        !logs.contains("s3cr3t") && !logs.contains(&f.base_url),
        "a ResponseURL reached the logs"
    );
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
