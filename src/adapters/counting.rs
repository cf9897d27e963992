//! Counts AWS calls at the SDK boundary (an interceptor on every client), so that each
//! invocation can log how many calls it made, and the bench can quote calls per Create,
//! per follow-up and per maintenance run. It also counts throttled attempts (every attempt,
//! retries included, whose response is a 400/429 with a throttling error code), for the
//! `Throttles` metric.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Error codes AWS services answer "slow down" with.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

type Tally = Arc<Mutex<BTreeMap<String, u64>>>;

#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    calls: Tally,
    throttles: Tally,
}

fn take(tally: &Tally) -> BTreeMap<String, u64> {
    std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()))
}

fn bump(tally: &Tally, cfg: &ConfigBag) {
    if let Some(m) = cfg.load::<Metadata>() {
        let key = format!("{}.{}", m.service(), m.name());
        *tally
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default() += 1;
    }
}

impl CallCounter {
    /// The calls since the last take, by `Service.Operation`, and resets.
    pub fn take(&self) -> BTreeMap<String, u64> {
        take(&self.calls)
    }

    /// The throttled attempts since the last take, by `Service.Operation`, and resets.
    pub fn take_throttles(&self) -> BTreeMap<String, u64> {
        take(&self.throttles)
    }
}

/// The throttling code of a response, if it is a throttle: HTTP 400 or 429 and a code from
/// `THROTTLING_CODES`, read from the `x-amzn-errortype` header (JSON protocols), else from the
/// body already read (`__type`/`code` of a JSON error, `<Code>` of a Query/XML error). A 429
/// without a readable code is a throttle too ("Too Many Requests").
pub fn throttle_code(status: u16, error_type: Option<&str>, body: &[u8]) -> Option<String> {
    if status != 400 && status != 429 {
        return None;
    }
    let code = error_type
        .map(str::to_string)
        .or_else(|| json_code(body))
        .or_else(|| xml_code(body))
        .map(|c| normalize(&c));
    match code {
        Some(c) if THROTTLING_CODES.contains(&c.as_str()) => Some(c),
        None if status == 429 => Some("TooManyRequests".into()),
        _ => None,
    }
}

/// `aws.protocoltests#ThrottlingException:http://…` -> `ThrottlingException`.
fn normalize(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim().to_string()
}

fn json_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["__type", "code", "Code"]
        .iter()
        .find_map(|k| v.get(k).and_then(|c| c.as_str()).map(str::to_string))
}

fn xml_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    Some(text[start..start + len].to_string())
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(&self.calls, cfg);
        Ok(())
    }

    /// Once per attempt that got a response; the body of an error response has been read into
    /// memory by now, so peeking at it consumes nothing.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        let error_type = response.headers().get("x-amzn-errortype");
        let body = response.body().bytes().unwrap_or_default();
        if throttle_code(status, error_type, body).is_some() {
            bump(&self.throttles, cfg);
        }
        Ok(())
    }
}
