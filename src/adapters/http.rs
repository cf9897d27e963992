//! The `Responder` port: a PUT to the presigned ResponseURL with an empty Content-Type and a
//! byte-accurate Content-Length, retried with backoff. The URL never reaches a log or an error
//! message (it is a write capability).

use crate::cfn::ResponseBody;
use crate::error::{Error, Result};
use crate::ports::Responder;
use async_trait::async_trait;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use std::time::Duration;

pub struct HttpResponder {
    client: reqwest::Client,
    attempts: u32,
    first_backoff: Duration,
}

impl HttpResponder {
    pub fn new() -> HttpResponder {
        HttpResponder::with_retries(6, Duration::from_secs(1))
    }

    pub fn with_retries(attempts: u32, first_backoff: Duration) -> HttpResponder {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        HttpResponder {
            client,
            attempts: attempts.max(1),
            first_backoff,
        }
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
    async fn send(&self, url: &str, body: &ResponseBody) -> Result<()> {
        let bytes = body.to_bytes();
        let mut backoff = self.first_backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.put_once(url, &bytes).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "response PUT failed");
                    last = e;
                }
            }
            if attempt < self.attempts {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(Error::Response(format!(
            "gave up after {} attempts: {last}",
            self.attempts
        )))
    }
}
