//! The `Responder` port: a PUT to the presigned ResponseURL with an empty Content-Type and a
//! byte-accurate Content-Length, retried with backoff. The URL never reaches a log or an error
//! message (it is a write capability).
//!
//! The PUT goes through the HTTP client the AWS SDK already carries (`aws-smithy-http-client`:
//! hyper 1 with rustls on ring, the platform's root certificates, HTTP and HTTPS), built as the
//! SDK clients' own (`adapters::https_connector`), so the binary holds one HTTP stack and one TLS
//! setup. The client
//! is made on the first PUT, not at start-up: loading the root certificates is no part of a cold
//! start.

use crate::cfn::ResponseBody;
use crate::ports::Responder;
use async_trait::async_trait;
use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// The longest one PUT attempt may take.
const ATTEMPT: Duration = Duration::from_secs(20);

pub struct HttpResponder {
    client: OnceLock<SharedHttpConnector>,
    attempts: u32,
    first_backoff: Duration,
    attempt_timeout: Duration,
}

impl HttpResponder {
    pub fn new() -> HttpResponder {
        HttpResponder::with_retries(6, Duration::from_secs(1))
    }

    pub fn with_retries(attempts: u32, first_backoff: Duration) -> HttpResponder {
        HttpResponder {
            client: OnceLock::new(),
            attempts: attempts.max(1),
            first_backoff,
            attempt_timeout: ATTEMPT,
        }
    }

    /// Cuts each attempt at `timeout` (at most 20 s).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> HttpResponder {
        self.attempt_timeout = timeout.min(ATTEMPT);
        self
    }

    /// The SDK's own connector (no timeouts of its own: `send` cuts every attempt).
    fn client(&self) -> &SharedHttpConnector {
        self.client.get_or_init(super::https_connector)
    }

    async fn put_once(&self, url: &str, bytes: &[u8]) -> std::result::Result<(), String> {
        let client = self.client();
        let mut request = HttpRequest::new(SdkBody::from(bytes.to_vec()));
        request.set_method("PUT").map_err(|e| describe(&e, url))?;
        request.set_uri(url).map_err(|e| describe(&e, url))?;
        let headers = request.headers_mut();
        headers.insert("content-type", "");
        headers.insert("content-length", bytes.len().to_string());
        let status = client
            .call(request)
            .await
            .map_err(|e| describe(&e, url))?
            .status()
            .as_u16();
        match status {
            s if s < 400 => Ok(()),
            s => Err(format!("HTTP {s}")),
        }
    }
}

/// An error and its causes on one line, with the URL taken out should any part quote it.
fn describe(e: &dyn std::error::Error, url: &str) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .filter(|p| p.len() > 1);
    for secret in [Some(url), path].into_iter().flatten() {
        text = text.replace(secret, "<ResponseURL>");
    }
    text
}

impl Default for HttpResponder {
    fn default() -> Self {
        HttpResponder::new()
    }
}

#[async_trait]
impl Responder for HttpResponder {
    /// Attempts fit in the time left: each is cut at `until`, and no attempt starts with less
    /// than a second left. What does not fit is resent by the next follow-up.
    async fn send(
        &self,
        url: &str,
        body: &ResponseBody,
        until: Option<Instant>,
    ) -> Result<(), String> {
        // A request made by the operator CLI has no ResponseURL: it is recorded in the shared
        // state table, and whoever answers it (the CLI, or the Lambda's follow-ups) has no one
        // to tell; the CLI reads the outcome from the clone. (CloudFormation's requests always
        // carry one: the Lambda serves none without.)
        if url.is_empty() {
            return Ok(());
        }
        let bytes = body.to_bytes();
        let mut backoff = self.first_backoff;
        let mut last = String::from("no attempt fitted in the time left");
        for attempt in 1..=self.attempts {
            let left = until.map(|u| u.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l < Duration::from_secs(1)) {
                break;
            }
            let per_attempt = left.map_or(self.attempt_timeout, |l| l.min(self.attempt_timeout));
            match tokio::time::timeout(per_attempt, self.put_once(url, &bytes)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => last = e,
                Err(_) => last = format!("no reply within {per_attempt:?}"),
            }
            tracing::warn!(attempt, error = %last, "response PUT failed");
            if attempt < self.attempts {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug)]
    struct Quoting(String);

    impl std::fmt::Display for Quoting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "could not reach {}", self.0)
        }
    }

    impl std::error::Error for Quoting {}

    #[test]
    fn an_error_that_quotes_the_url_is_told_without_it() {
        let url = "https://bucket.s3.amazonaws.com/arn%3Aaws/req?X-Amz-Signature=abc";
        for quoted in [url, "/arn%3Aaws/req?X-Amz-Signature=abc"] {
            let text = describe(&Quoting(quoted.into()), url);
            assert!(!text.contains("Signature"), "{text}");
            assert!(text.contains("<ResponseURL>"), "{text}");
        }
    }
}
