//! CloudWatch metrics in Embedded Metric Format (EMF): each document is one JSON line on stdout,
//! which Lambda sends to CloudWatch Logs, where the `_aws` envelope turns it into metrics. No
//! API call, no agent.
//!
//! The builders are pure: they return the document, and `emit` writes it. Emission is off until
//! `to_stdout()` is called (the Lambda front door does): the CLI's stdout is for people, and tests
//! `capture()` what would have been written.
//!
//! Spec followed (CloudWatch User Guide, "Specification: Embedded metric format"): the root holds
//! `_aws` {`Timestamp`: integer milliseconds since the epoch, `CloudWatchMetrics`: [MetricDirective]}
//! and every target member; a MetricDirective has `Namespace`, `Dimensions` (DimensionSets of at
//! most 30 keys; at most 9 here, as the older schema allows) and `Metrics` (at most 100
//! MetricDefinitions, each `Name` and a `Unit` from CloudWatch's list); dimension targets are
//! strings, metric targets numbers. Dimension values are kept to CloudWatch's rules (ASCII, at
//! least one non-space character, at most 1024 characters).

use crate::cfn::{RequestType, Status};
use crate::state::{Phase, RequestRecord, Work};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "AuroraCloneManager";

/// Dimension keys.
pub const STACK: &str = "Stack";
pub const REQUEST_TYPE: &str = "RequestType";
pub const STATUS: &str = "Status";
pub const SOURCE: &str = "Source";
pub const INVOCATION_KIND: &str = "InvocationKind";

/// CloudWatch units used here (a subset of the allowed list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

/// Every metric this tool emits, with its unit.
pub const METRICS: &[(&str, Unit)] = &[
    ("RequestAnswered", Unit::Count),
    ("RequestFailed", Unit::Count),
    ("TimeToAnswer", Unit::Seconds),
    ("FreeCloneSlots", Unit::Count),
    ("CloneSlotsComing", Unit::Count),
    ("PoolCopies", Unit::Count),
    ("PoolCopiesComing", Unit::Count),
    ("PendingRequests", Unit::Count),
    ("OldestPendingAge", Unit::Seconds),
    ("PendingPastHalfDeadline", Unit::Count),
    ("ReapWork", Unit::Count),
    ("ReapGivenUp", Unit::Count),
    ("AwsCalls", Unit::Count),
    ("Throttles", Unit::Count),
];

/// The kinds of invocation (`InvocationKind` values).
pub const INVOCATION_KINDS: &[&str] = &["request", "follow-up", "maintenance", "other"];

fn unit_of(name: &str) -> Unit {
    METRICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, u)| *u)
        .unwrap_or(Unit::Count)
}

/// The document builders of one clone manager stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    namespace: String,
    stack: String,
    /// Fixed timestamp (ms since the epoch); the system clock when `None`.
    timestamp_ms: Option<i64>,
}

impl Metrics {
    /// Builders for the clone manager stack `stack` (the `Stack` dimension of every metric).
    pub fn new(stack: &str) -> Metrics {
        Metrics {
            namespace: NAMESPACE.to_string(),
            stack: dimension_value(stack),
            timestamp_ms: None,
        }
    }

    /// The same builders, stamping documents with `ms` (e.g. the manager's clock) instead of
    /// the system clock.
    pub fn at(self, ms: i64) -> Metrics {
        Metrics {
            timestamp_ms: Some(ms),
            ..self
        }
    }

    /// A request answered (the response delivered): `RequestAnswered` 1, `RequestFailed` 1 or 0,
    /// `TimeToAnswer` (seconds from first receipt to delivery; for a Create that SUCCEEDED, the
    /// time to a usable clone). Dimensions [Stack] and [Stack, RequestType, Status].
    pub fn answered(&self, request_type: &str, status: &str, seconds: f64) -> Value {
        let request_type = match request_type {
            "Create" | "Update" | "Delete" => request_type,
            _ => "Other",
        };
        let status = match status {
            "SUCCESS" | "FAILED" => status,
            _ => "OTHER",
        };
        let failed = if status == "FAILED" { 1.0 } else { 0.0 };
        self.document(
            &[(REQUEST_TYPE, request_type), (STATUS, status)],
            &[&[STACK], &[STACK, REQUEST_TYPE, STATUS]],
            &[
                ("RequestAnswered", 1.0),
                ("RequestFailed", failed),
                ("TimeToAnswer", seconds),
            ],
        )
    }

    /// `answered` for a recorded request, its delivered status and the time now (unix seconds).
    pub fn answered_request(&self, record: &RequestRecord, status: Status, now_secs: i64) -> Value {
        let request_type = match record.request.request_type {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        };
        let status = match status {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        };
        self.answered(request_type, status, (now_secs - record.received) as f64)
    }

    /// One source's pool: free clone slots on usable volumes, slots that copies being made will
    /// bring, pool copies, copies being made. Dimensions [Stack, Source].
    pub fn pool(
        &self,
        source: &str,
        free_slots: u32,
        slots_coming: u32,
        copies: u32,
        copies_coming: u32,
    ) -> Value {
        let source = dimension_value(source);
        self.document(
            &[(SOURCE, &source)],
            &[&[STACK, SOURCE]],
            &[
                ("FreeCloneSlots", free_slots.into()),
                ("CloneSlotsComing", slots_coming.into()),
                ("PoolCopies", copies.into()),
                ("PoolCopiesComing", copies_coming.into()),
            ],
        )
    }

    /// Pending work: requests not yet answered and delivered, the age of the oldest (seconds),
    /// how many are past half of their time to the deadline, reap work followed up and reap
    /// work given up. Dimensions [Stack].
    pub fn pending(
        &self,
        requests: u32,
        oldest_age_secs: f64,
        past_half_deadline: u32,
        reaps: u32,
        given_up: u32,
    ) -> Value {
        self.document(
            &[],
            &[&[STACK]],
            &[
                ("PendingRequests", requests.into()),
                ("OldestPendingAge", oldest_age_secs),
                ("PendingPastHalfDeadline", past_half_deadline.into()),
                ("ReapWork", reaps.into()),
                ("ReapGivenUp", given_up.into()),
            ],
        )
    }

    /// `pending` for the state table's work items (all of them, given-up reaps included) at
    /// `now_secs`. A request counts while it is not `done` (pending, or answered and not yet
    /// delivered); it is past half its deadline when more than half the time from its receipt
    /// to its deadline has gone.
    pub fn pending_work(&self, work: &[Work], now_secs: i64) -> Value {
        let (mut requests, mut oldest, mut past_half, mut reaps, mut given_up) = (0, 0, 0, 0, 0);
        for w in work {
            match w {
                Work::Request(item) if item.phase != Phase::Done => {
                    let r = &item.record;
                    let age = (now_secs - r.received).max(0);
                    requests += 1;
                    oldest = oldest.max(age);
                    if 2 * age > r.deadline - r.received {
                        past_half += 1;
                    }
                }
                Work::Reap(r) if r.given_up => given_up += 1,
                Work::Reap(_) => reaps += 1,
                _ => {}
            }
        }
        self.pending(requests, oldest as f64, past_half, reaps, given_up)
    }

    /// One invocation: the AWS calls it made and its throttled attempts. `kind` is one of
    /// `INVOCATION_KINDS` (anything else counts as `other`). Dimensions [Stack] and
    /// [Stack, InvocationKind].
    pub fn invocation(&self, aws_calls: u64, throttles: u64, kind: &str) -> Value {
        let kind = if INVOCATION_KINDS.contains(&kind) {
            kind
        } else {
            "other"
        };
        self.document(
            &[(INVOCATION_KIND, kind)],
            &[&[STACK], &[STACK, INVOCATION_KIND]],
            &[
                ("AwsCalls", aws_calls as f64),
                ("Throttles", throttles as f64),
            ],
        )
    }

    fn timestamp(&self) -> i64 {
        self.timestamp_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        })
    }

    /// One document with one directive: the `Stack` dimension and `dims`, the dimension sets
    /// `sets` and the metrics `values`.
    fn document(&self, dims: &[(&str, &str)], sets: &[&[&str]], values: &[(&str, f64)]) -> Value {
        let mut root = Map::new();
        let definitions: Vec<Value> = values
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": unit_of(name).as_str()}))
            .collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": self.timestamp(),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": sets,
                    "Metrics": definitions,
                }],
            }),
        );
        root.insert(STACK.into(), Value::from(self.stack.as_str()));
        for (k, v) in dims {
            root.insert((*k).into(), Value::from(*v));
        }
        for (name, v) in values {
            root.insert((*name).into(), number(*v));
        }
        Value::Object(root)
    }
}

/// A metric value: an integer when it is one, and never NaN or infinite (JSON has no such
/// numbers; serde_json would write `null`, which CloudWatch rejects).
fn number(v: f64) -> Value {
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    if v.fract() == 0.0 && v < 9.0e15 {
        Value::from(v as u64)
    } else {
        Value::from(v)
    }
}

/// A dimension value CloudWatch accepts: printable ASCII (others become `?`), not blank, at
/// most 1024 characters.
fn dimension_value(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(1024)
        .collect();
    if v.trim().is_empty() {
        "unknown".into()
    } else {
        v
    }
}

enum Sink {
    Off,
    Stdout,
    Capture(Arc<Mutex<Vec<u8>>>),
}

static SINK: Mutex<Sink> = Mutex::new(Sink::Off);
static CAPTURING: Mutex<()> = Mutex::new(());

fn sink() -> MutexGuard<'static, Sink> {
    SINK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Turns emission on, to stdout. The Lambda front door calls it once; until then `emit` writes
/// nothing (the CLI and library users see no EMF lines).
pub fn to_stdout() {
    *sink() = Sink::Stdout;
}

/// Writes `doc` as one line of JSON (one `write_all`, so a log line of another thread never
/// lands inside it) to wherever emission goes. A failed write is ignored: metrics never fail
/// the work they describe.
pub fn emit(doc: &Value) {
    match &*sink() {
        Sink::Off => {}
        Sink::Stdout => {
            let _ = emit_to(doc, &mut std::io::stdout().lock());
        }
        Sink::Capture(buf) => {
            let _ = emit_to(doc, &mut *buf.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

/// Writes `doc` as one line of JSON to `out`.
pub fn emit_to(doc: &Value, out: &mut impl Write) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(doc).map_err(std::io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// Every line emitted while it lives (tests). Captures are taken one at a time (a second waits
/// for the first to drop); dropping one turns emission off again.
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    _one_at_a_time: MutexGuard<'static, ()>,
}

/// Starts capturing what `emit` writes.
pub fn capture() -> Capture {
    let one = CAPTURING.lock().unwrap_or_else(|p| p.into_inner());
    let buf = Arc::new(Mutex::new(Vec::new()));
    *sink() = Sink::Capture(buf.clone());
    Capture {
        buf,
        _one_at_a_time: one,
    }
}

impl Capture {
    /// The lines emitted so far.
    pub fn lines(&self) -> Vec<String> {
        let buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&buf)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        *sink() = Sink::Off;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_an_allowed_unit_and_documents_stay_small() {
        for (name, unit) in METRICS {
            assert!(!name.is_empty() && name.len() <= 255);
            assert!(["Count", "Seconds"].contains(&unit.as_str()));
        }
        assert!(METRICS.len() <= 100);
    }

    #[test]
    fn numbers_are_finite_and_integral_when_whole() {
        assert_eq!(number(3.0), json!(3));
        assert_eq!(number(2.5), json!(2.5));
        assert_eq!(number(f64::NAN), json!(0));
        assert_eq!(number(f64::INFINITY), json!(0));
        assert_eq!(number(-4.0), json!(0));
    }

    #[test]
    fn dimension_values_are_cloudwatch_safe() {
        assert_eq!(dimension_value("orders-db"), "orders-db");
        assert_eq!(dimension_value(""), "unknown");
        assert_eq!(dimension_value("  "), "unknown");
        assert_eq!(dimension_value("é\n"), "??");
        assert_eq!(dimension_value(&"a".repeat(2000)).len(), 1024);
    }

    #[test]
    fn emission_is_off_until_turned_on() {
        let captured = capture();
        emit(&Metrics::new("s").at(1).invocation(1, 0, "request"));
        assert_eq!(captured.lines().len(), 1);
        drop(captured);
        emit(&Metrics::new("s").at(1).invocation(1, 0, "request"));
        let again = capture();
        assert!(again.lines().is_empty());
    }
}
