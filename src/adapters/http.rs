//! The `Responder` port: a PUT to the presigned ResponseURL with an empty Content-Type and a
//! byte-accurate Content-Length, retried with backoff. The URL never reaches a log or an error
//! message (it is a write capability).

use crate::cfn::ResponseBody;
use crate::ports::Responder;
use async_trait::async_trait;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use std::time::Duration;
use tokio::time::Instant;

/// The longest one PUT attempt may take.
const ATTEMPT: Duration = Duration::from_secs(20);

pub struct HttpResponder {
    client: reqwest::Client,
    attempts: u32,
    first_backoff: Duration,
    attempt_timeout: Duration,
}

impl HttpResponder {
    pub fn new() -> HttpResponder {
        HttpResponder::with_retries(6, Duration::from_secs(1))
    }

    pub fn with_retries(attempts: u32, first_backoff: Duration) -> HttpResponder {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT)
            .build()
            .unwrap_or_default();
        HttpResponder {
            client,
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

    async fn put_once(&self, url: &str, bytes: &[u8]) -> std::result::Result<(), String> {
        let sent = self
            .client
            .put(url)
            .header(CONTENT_TYPE, "")
            .header(CONTENT_LENGTH, bytes.len())
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        match sent.status() {
            s if s.as_u16() < 400 => Ok(()),
            s => Err(format!("HTTP {s}")),
        }
    }
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
