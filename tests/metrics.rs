//! CloudWatch metrics in Embedded Metric Format (issue 11 item 3), checked as CloudWatch Logs
//! would read them: every emitted line is one JSON object whose `_aws` envelope (integer
//! `Timestamp`, directives with a Namespace, dimension sets and metric definitions) resolves to
//! top-level members of the right types, with units from CloudWatch's list and within the
//! spec's limits. Then the values the builders produce for realistic inputs, the dashboard and
//! alarm in example/dashboard.yaml against what is emitted, and throttles counted at the SDK
//! boundary (through the fault layer over moto).

#[path = "iam/render.rs"]
mod render;
mod support;

use aurora_clone_manager::adapters::counting::throttle_code;
use aurora_clone_manager::adapters::Clients;
use aurora_clone_manager::cfn::{CfnRequest, Outcome, Status};
use aurora_clone_manager::metrics::{self, Metrics, METRICS, NAMESPACE};
use aurora_clone_manager::state::{
    Answer, MaintainItem, Phase, ReapItem, RequestItem, RequestRecord, Work,
};
use aws_config::retry::RetryConfig;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::fault::{Fault, Faults};
use support::moto::sdk_config;

/// CloudWatch's units (MetricDatum), as the EMF schema lists them.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One metric datum as CloudWatch extracts it from a line.
#[derive(Debug, Clone, PartialEq)]
struct Datum {
    timestamp: i64,
    namespace: String,
    name: String,
    unit: String,
    dimensions: BTreeMap<String, String>,
    values: Vec<f64>,
}

fn ascii_text(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii() && !c.is_control())
}

/// Reads one log line as CloudWatch Logs does an EMF event; panics naming the first rule it
/// breaks.
fn extract(line: &str) -> Vec<Datum> {
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(
        line.starts_with('{') && line.ends_with('}'),
        "nothing before or after the object: {line}"
    );
    assert!(line.len() <= 256 * 1024, "a log event is at most 256 KB");
    let root: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let root = root.as_object().expect("the root is an object");
    let aws = root["_aws"].as_object().expect("_aws is an object");
    let ts = &aws["Timestamp"];
    assert!(ts.is_i64() || ts.is_u64(), "Timestamp is an integer: {ts}");
    let timestamp = ts.as_i64().expect("Timestamp fits");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty(), "at least one directive");
    let mut out = vec![];
    for d in directives {
        let d = d.as_object().expect("a directive is an object");
        for k in d.keys() {
            assert!(
                ["Namespace", "Dimensions", "Metrics"].contains(&k.as_str()),
                "no other member in a directive: {k}"
            );
        }
        let namespace = d["Namespace"].as_str().expect("Namespace is a string");
        assert!(ascii_text(namespace, 255), "Namespace: {namespace:?}");
        assert!(!namespace.starts_with("AWS/"), "AWS/ is reserved");
        let sets = d["Dimensions"].as_array().expect("Dimensions is an array");
        assert!(!sets.is_empty(), "at least one dimension set");
        let mut dim_keys = BTreeSet::new();
        let mut dimension_sets = vec![];
        for set in sets {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(set.len() <= 30, "at most 30 keys per dimension set");
            assert!(set.len() <= 9, "and 9, as the older schema allows");
            let mut dims = BTreeMap::new();
            for key in set {
                let key = key.as_str().expect("a dimension key is a string");
                assert!(ascii_text(key, 255) && !key.starts_with(':'), "key {key:?}");
                let value = root
                    .get(key)
                    .unwrap_or_else(|| panic!("dimension {key} is a top-level member"));
                let value = value
                    .as_str()
                    .unwrap_or_else(|| panic!("dimension {key} is a string: {value}"));
                assert!(ascii_text(value, 1024), "dimension value {value:?}");
                dims.insert(key.to_string(), value.to_string());
                dim_keys.insert(key.to_string());
            }
            dimension_sets.push(dims);
        }
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!(
            !metrics.is_empty() && metrics.len() <= 100,
            "1 to 100 metrics"
        );
        let mut names = BTreeSet::new();
        for m in metrics {
            let m = m.as_object().expect("a metric definition is an object");
            for k in m.keys() {
                assert!(
                    ["Name", "Unit", "StorageResolution"].contains(&k.as_str()),
                    "no other member in a metric definition: {k}"
                );
            }
            let name = m["Name"].as_str().expect("Name is a string");
            assert!(ascii_text(name, 255), "Name {name:?}");
            assert!(names.insert(name), "{name} defined twice");
            assert!(
                !dim_keys.contains(name),
                "{name} is both metric and dimension"
            );
            let unit = m.get("Unit").map_or("None", |u| u.as_str().expect("Unit"));
            assert!(UNITS.contains(&unit), "unit {unit} is CloudWatch's");
            if let Some(r) = m.get("StorageResolution") {
                assert!(r == 1 || r == 60, "StorageResolution 1 or 60");
            }
            let target = root
                .get(name)
                .unwrap_or_else(|| panic!("metric {name} is a top-level member"));
            let values: Vec<f64> = match target {
                Value::Number(n) => vec![n.as_f64().unwrap()],
                Value::Array(a) => {
                    assert!(a.len() <= 100, "at most 100 values");
                    a.iter()
                        .map(|v| v.as_f64().expect("an array of numbers"))
                        .collect()
                }
                other => panic!("metric {name} is a number: {other}"),
            };
            for dims in &dimension_sets {
                out.push(Datum {
                    timestamp,
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    unit: unit.to_string(),
                    dimensions: dims.clone(),
                    values: values.clone(),
                });
            }
        }
    }
    out
}

fn extract_doc(doc: &Value) -> Vec<Datum> {
    let mut line = Vec::new();
    metrics::emit_to(doc, &mut line).unwrap();
    let text = String::from_utf8(line).unwrap();
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
    extract(text.trim_end_matches('\n'))
}

/// The value of `name` under exactly these dimensions.
fn value(data: &[Datum], name: &str, dims: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = dims
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<&Datum> = data
        .iter()
        .filter(|d| d.name == name && d.dimensions == want)
        .collect();
    assert_eq!(found.len(), 1, "{name} {dims:?} in {data:#?}");
    assert_eq!(found[0].values.len(), 1);
    found[0].values[0]
}

const STACK: &str = "aurora-clone-manager";
const T: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn m() -> Metrics {
    Metrics::new(STACK).at(T)
}

fn record(kind: &str, received: i64, service_timeout: i64) -> RequestRecord {
    let request: CfnRequest = serde_json::from_value(json!({"RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1", "RequestId": format!("req-{received}"),
        "ResourceType": "Custom::AuroraClone", "LogicalResourceId": "Db",
        "ResourceProperties": {"SourceClusterId": "orders"}}))
    .unwrap();
    RequestRecord {
        request,
        cluster_id: "orders-clone".into(),
        fallback_id: None,
        received,
        deadline: received + service_timeout - 120,
        adopted: false,
    }
}

fn item(record: RequestRecord, phase: Phase) -> Work {
    Work::Request(Box::new(RequestItem {
        record,
        phase,
        version: 1,
    }))
}

fn reap(id: &str, given_up: bool) -> Work {
    Work::Reap(ReapItem {
        cluster_id: id.into(),
        request_id: None,
        since: 0,
        watch_until: 0,
        attempts: 3,
        last_error: Some("InvalidDBClusterStateFault".into()),
        given_up,
    })
}

/// One document of each builder, with realistic inputs.
fn samples() -> Vec<Value> {
    let now = 1_767_225_600;
    let work = vec![
        item(record("Create", now - 2000, 3600), Phase::Pending),
        reap("orders-old-copy", false),
    ];
    vec![
        m().answered("Create", "SUCCESS", 754.5),
        m().answered_request(&record("Delete", now - 40, 3600), Status::Failed, now),
        m().pool("orders", 13, 15, 2, 1),
        m().pending(3, 1820.0, 1, 2, 0),
        m().pending_work(&work, now),
        m().invocation(20, 2, "request"),
    ]
}

#[test]
fn every_document_reads_as_cloudwatch_reads_it() {
    let mut seen = BTreeSet::new();
    for doc in samples() {
        let data = extract_doc(&doc);
        assert!(!data.is_empty());
        for d in &data {
            assert_eq!(d.namespace, NAMESPACE);
            assert_eq!(d.timestamp, T);
            assert_eq!(d.dimensions["Stack"], STACK, "every metric has the Stack");
            let (_, unit) = METRICS
                .iter()
                .find(|(n, _)| *n == d.name)
                .unwrap_or_else(|| panic!("{} is in the catalogue", d.name));
            assert_eq!(unit.as_str(), d.unit, "{}", d.name);
            seen.insert(d.name.clone());
        }
    }
    let catalogue: BTreeSet<String> = METRICS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(seen, catalogue, "every catalogued metric is emitted");
}

#[test]
fn emitted_lines_are_captured_one_per_document() {
    let captured = metrics::capture();
    for doc in samples() {
        metrics::emit(&doc);
    }
    let lines = captured.lines();
    assert_eq!(lines.len(), samples().len());
    for line in &lines {
        extract(line);
    }
}

#[test]
fn the_system_clock_stamps_documents_by_default() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let data = extract_doc(&Metrics::new(STACK).invocation(1, 0, "other"));
    assert!(data[0].timestamp >= before && data[0].timestamp < before + 60_000);
}

#[test]
fn an_answer_counts_with_its_type_outcome_and_time() {
    let data = extract_doc(&m().answered("Create", "SUCCESS", 754.5));
    let all = [("Stack", STACK)];
    let create_ok = [
        ("Stack", STACK),
        ("RequestType", "Create"),
        ("Status", "SUCCESS"),
    ];
    for dims in [&all[..], &create_ok[..]] {
        assert_eq!(value(&data, "RequestAnswered", dims), 1.0);
        assert_eq!(value(&data, "RequestFailed", dims), 0.0);
        assert_eq!(value(&data, "TimeToAnswer", dims), 754.5);
    }
    assert_eq!(data.len(), 6, "three metrics under two dimension sets");

    let now = 1_767_225_600;
    let data =
        extract_doc(&m().answered_request(&record("Delete", now - 40, 3600), Status::Failed, now));
    let delete_failed = [
        ("Stack", STACK),
        ("RequestType", "Delete"),
        ("Status", "FAILED"),
    ];
    assert_eq!(value(&data, "RequestFailed", &delete_failed), 1.0);
    assert_eq!(value(&data, "TimeToAnswer", &delete_failed), 40.0);

    // Dimension values stay few: anything unexpected is folded.
    let data = extract_doc(&m().answered("Destroy", "MAYBE", f64::NAN));
    let odd = [
        ("Stack", STACK),
        ("RequestType", "Other"),
        ("Status", "OTHER"),
    ];
    assert_eq!(
        value(&data, "TimeToAnswer", &odd),
        0.0,
        "NaN is never written"
    );
}

#[test]
fn a_pool_reports_slots_and_copies_per_source() {
    let data = extract_doc(&m().pool("orders", 13, 15, 2, 1));
    let dims = [("Stack", STACK), ("Source", "orders")];
    assert_eq!(value(&data, "FreeCloneSlots", &dims), 13.0);
    assert_eq!(value(&data, "CloneSlotsComing", &dims), 15.0);
    assert_eq!(value(&data, "PoolCopies", &dims), 2.0);
    assert_eq!(value(&data, "PoolCopiesComing", &dims), 1.0);
    assert_eq!(data.len(), 4, "only per source");
}

#[test]
fn pending_work_is_summarised_from_the_state_table() {
    let now = 1_767_225_600;
    let decided = Answer {
        outcome: Outcome::failed("x".to_string(), "deadline"),
        event: None,
        event_sent: false,
    };
    let work = vec![
        // Half of 3480 s is 1740 s: 2000 s old is past it, 100 s and 1740 s are not.
        item(record("Create", now - 2000, 3600), Phase::Pending),
        item(record("Create", now - 1740, 3600), Phase::Pending),
        item(record("Update", now - 100, 3600), Phase::Answering(decided)),
        // A short ServiceTimeout: 600 s (480 s to the deadline), 300 s old.
        item(record("Create", now - 300, 600), Phase::Pending),
        item(record("Create", now - 90_000, 3600), Phase::Done),
        reap("orders-old-copy", false),
        reap("orders-stuck", true),
        reap("orders-stuck-2", true),
        Work::Maintain(MaintainItem {
            sources: vec!["orders".into()],
            dry_run: false,
            not_before: 0,
            version: 1,
        }),
    ];
    let data = extract_doc(&m().pending_work(&work, now));
    let dims = [("Stack", STACK)];
    assert_eq!(
        value(&data, "PendingRequests", &dims),
        4.0,
        "done is not pending"
    );
    assert_eq!(value(&data, "OldestPendingAge", &dims), 2000.0);
    assert_eq!(value(&data, "PendingPastHalfDeadline", &dims), 2.0);
    assert_eq!(value(&data, "ReapWork", &dims), 1.0);
    assert_eq!(value(&data, "ReapGivenUp", &dims), 2.0);

    let data = extract_doc(&m().pending_work(&[], now));
    for (name, _) in METRICS.iter().filter(|(n, _)| {
        [
            "PendingRequests",
            "OldestPendingAge",
            "PendingPastHalfDeadline",
            "ReapWork",
            "ReapGivenUp",
        ]
        .contains(n)
    }) {
        assert_eq!(
            value(&data, name, &dims),
            0.0,
            "{name} with nothing pending"
        );
    }
}

#[test]
fn an_invocation_reports_its_calls_and_throttles_by_kind() {
    let data = extract_doc(&m().invocation(20, 2, "request"));
    for dims in [
        &[("Stack", STACK)][..],
        &[("Stack", STACK), ("InvocationKind", "request")][..],
    ] {
        assert_eq!(value(&data, "AwsCalls", dims), 20.0);
        assert_eq!(value(&data, "Throttles", dims), 2.0);
    }
    for kind in metrics::INVOCATION_KINDS {
        let data = extract_doc(&m().invocation(1, 0, kind));
        value(
            &data,
            "AwsCalls",
            &[("Stack", STACK), ("InvocationKind", kind)],
        );
    }
    let data = extract_doc(&m().invocation(3, 0, "cron"));
    let other = [("Stack", STACK), ("InvocationKind", "other")];
    assert_eq!(value(&data, "AwsCalls", &other), 3.0);
}

#[test]
fn odd_stack_and_source_names_still_make_valid_dimensions() {
    for name in ["", "   ", "ünïcode-src", &"x".repeat(3000)] {
        extract_doc(&Metrics::new(name).at(T).pool(name, 1, 0, 0, 0));
    }
}

// --- the dashboard and the alarm -----------------------------------------------------------

/// (metric name, dimension keys) of every metric the builders emit.
fn identities() -> BTreeSet<(String, BTreeSet<String>)> {
    samples()
        .iter()
        .flat_map(extract_doc)
        .map(|d| (d.name, d.dimensions.into_keys().collect()))
        .collect()
}

/// The metrics a dashboard widget reads: plain metric rows and SEARCH expressions.
fn widget_metrics(widget: &Value, stack: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out = vec![];
    let rows = widget["properties"]["metrics"].as_array().cloned();
    for row in rows.unwrap_or_default() {
        let row = row.as_array().unwrap();
        if let Some(expr) = row[0].get("expression").and_then(Value::as_str) {
            // SEARCH('{Namespace,Key1,Key2} MetricName="X" Stack="s"', 'Stat', period)
            let schema = &expr[expr.find('{').unwrap() + 1..expr.find('}').unwrap()];
            let mut parts = schema.split(',');
            assert_eq!(parts.next(), Some(NAMESPACE), "{expr}");
            let keys: BTreeSet<String> = parts.map(str::to_string).collect();
            let name = expr.split("MetricName=\"").nth(1).unwrap();
            let name = &name[..name.find('"').unwrap()];
            assert!(
                expr.contains(&format!("Stack=\"{stack}\"")),
                "the search names the stack: {expr}"
            );
            out.push((name.to_string(), keys));
            continue;
        }
        let texts: Vec<&str> = row.iter().filter_map(Value::as_str).collect();
        assert_eq!(texts[0], NAMESPACE, "{row:?}");
        let keys: BTreeSet<String> = texts[2..].chunks(2).map(|kv| kv[0].to_string()).collect();
        let dims: BTreeMap<&str, &str> = texts[2..].chunks(2).map(|kv| (kv[0], kv[1])).collect();
        assert_eq!(dims.get("Stack"), Some(&stack), "{row:?}");
        out.push((texts[1].to_string(), keys));
    }
    out
}

#[test]
fn the_dashboard_and_the_alarm_read_metrics_that_are_emitted() {
    let stack = "acm-prod";
    let rendered = render::render_file(
        "example/dashboard.yaml",
        &[
            ("CloneManagerStack", stack),
            ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:ops"),
        ],
    );
    let emitted = identities();
    let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();

    let alarm = render::properties(&rendered, "PastHalfDeadlineAlarm");
    assert_eq!(alarm["Namespace"], NAMESPACE);
    assert_eq!(alarm["MetricName"], "PendingPastHalfDeadline");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "Stack", "Value": stack}])
    );
    assert!(emitted.contains(&("PendingPastHalfDeadline".into(), keys(&["Stack"]))));
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(alarm["Threshold"], 0);
    assert_eq!(alarm["TreatMissingData"], "notBreaching");
    assert_eq!(
        alarm["AlarmActions"],
        json!(["arn:aws:sns:eu-west-1:123456789012:ops"])
    );
    let alarm_name = alarm["AlarmName"].as_str().unwrap();

    let dashboard = render::properties(&rendered, "Dashboard");
    let body: Value = serde_json::from_str(dashboard["DashboardBody"].as_str().unwrap())
        .expect("the dashboard body is JSON");
    let mut read = BTreeSet::new();
    let mut alarm_widget = false;
    for w in body["widgets"].as_array().unwrap() {
        let (x, width) = (w["x"].as_u64().unwrap(), w["width"].as_u64().unwrap());
        assert!(x + width <= 24, "inside the 24-column grid: {w}");
        if w["type"] == "alarm" {
            let arn = w["properties"]["alarms"][0].as_str().unwrap();
            assert_eq!(
                arn,
                format!(
                    "arn:aws:cloudwatch:{}:{}:alarm:{alarm_name}",
                    render::REGION,
                    render::ACCOUNT
                )
            );
            alarm_widget = true;
        }
        if w["type"] == "metric" {
            assert_eq!(w["properties"]["region"], render::REGION);
            for id in widget_metrics(w, stack) {
                assert!(
                    emitted.contains(&id),
                    "the dashboard reads {id:?}, never emitted"
                );
                read.insert(id.0);
            }
        }
    }
    assert!(alarm_widget, "the alarm is on the dashboard");
    for name in [
        "FreeCloneSlots",
        "PoolCopies",
        "PoolCopiesComing",
        "PendingRequests",
        "OldestPendingAge",
        "TimeToAnswer",
        "RequestAnswered",
        "AwsCalls",
        "Throttles",
    ] {
        assert!(read.contains(name), "the dashboard shows {name}");
    }

    let quiet = render::render_file("example/dashboard.yaml", &[]);
    let alarm = render::properties(&quiet, "PastHalfDeadlineAlarm");
    assert!(alarm.get("AlarmActions").is_none(), "no topic, no action");
}

// --- throttles at the SDK boundary ---------------------------------------------------------

#[test]
fn throttling_codes_are_read_in_every_protocol() {
    let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
    assert_eq!(
        throttle_code(400, None, query).as_deref(),
        Some("Throttling")
    );
    let ec2 =
        b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
    assert_eq!(
        throttle_code(503, None, ec2),
        None,
        "only 400 and 429 are throttles"
    );
    assert_eq!(
        throttle_code(400, None, ec2).as_deref(),
        Some("RequestLimitExceeded")
    );
    let json = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#;
    assert_eq!(
        throttle_code(400, None, json).as_deref(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        throttle_code(
            400,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"),
            b""
        )
        .as_deref(),
        Some("ThrottlingException")
    );
    assert_eq!(
        throttle_code(429, None, br#"{"message":"Too Many Requests"}"#).as_deref(),
        Some("TooManyRequests")
    );
    assert_eq!(
        throttle_code(429, Some("TooManyRequestsException"), b"").as_deref(),
        Some("TooManyRequestsException")
    );
    let not_found = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"}"#;
    assert_eq!(throttle_code(400, None, not_found), None);
    assert_eq!(
        throttle_code(
            400,
            None,
            b"<Error><Code>DBClusterNotFoundFault</Code></Error>"
        ),
        None
    );
    assert_eq!(throttle_code(500, None, query), None);
    assert_eq!(throttle_code(200, None, b"{}"), None);
    assert_eq!(throttle_code(400, None, b"\xff\xfe not text"), None);
}

/// Clients through the fault layer, retrying as in Lambda (three attempts) from 10 ms.
fn faulty_clients(faults: &Faults) -> Clients {
    let conf = sdk_config()
        .into_builder()
        .http_client(faults.clone())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build();
    Clients::new(&conf)
}

#[tokio::test]
async fn throttled_attempts_are_counted_through_the_interceptor() {
    let faults = Faults::default();
    let clients = faulty_clients(&faults);

    // DynamoDB (JSON protocol): the first two attempts throttled, the third answered by moto.
    let throttled = Arc::new(AtomicU32::new(0));
    let t = throttled.clone();
    faults.set(move |_, op| {
        if op == "dynamodb:ListTables" && t.fetch_add(1, Ordering::SeqCst) < 2 {
            Fault::Throttle
        } else {
            Fault::Pass
        }
    });
    clients
        .dynamodb
        .list_tables()
        .send()
        .await
        .expect("the third attempt passes");
    assert_eq!(
        clients.calls.take(),
        BTreeMap::from([("DynamoDB.ListTables".to_string(), 1)]),
        "one call"
    );
    assert_eq!(
        clients.calls.take_throttles(),
        BTreeMap::from([("DynamoDB.ListTables".to_string(), 2)]),
        "two throttled attempts"
    );

    // RDS (Query protocol, XML errors): every attempt throttled.
    faults.set(|_, op| {
        if op == "rds:DescribeDBClusters" {
            Fault::Throttle
        } else {
            Fault::Pass
        }
    });
    let err = clients.rds.describe_db_clusters().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_rds::error::ProvideErrorMetadata::code(&err),
        Some("Throttling"),
        "{err:?}"
    );
    assert_eq!(
        clients.calls.take_throttles(),
        BTreeMap::from([("RDS.DescribeDBClusters".to_string(), 3)])
    );
    assert_eq!(
        clients.calls.take(),
        BTreeMap::from([("RDS.DescribeDBClusters".to_string(), 1)])
    );

    // Server errors and moto's own refusals are not throttles.
    faults.set(|_, op| {
        if op == "rds:DescribeDBClusters" {
            Fault::ServerError
        } else {
            Fault::Pass
        }
    });
    clients.rds.describe_db_clusters().send().await.unwrap_err();
    faults.clear();
    clients
        .dynamodb
        .describe_table()
        .table_name(support::moto::unique("no-such-table-"))
        .send()
        .await
        .unwrap_err();
    clients
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(support::moto::unique("no-such-cluster-"))
        .send()
        .await
        .unwrap_err();
    assert!(clients.calls.take_throttles().is_empty());
    assert_eq!(clients.calls.take().values().sum::<u64>(), 3);

    // And the invocation's document carries them.
    let data = extract_doc(&m().invocation(5, 7, "follow-up"));
    assert_eq!(value(&data, "Throttles", &[("Stack", STACK)]), 7.0);
}
