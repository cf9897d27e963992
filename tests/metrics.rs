//! CloudWatch metrics in Embedded Metric Format (issue 11 item 3), checked as CloudWatch Logs
//! would read them (`support::emf`): every document the builders make reads as CloudWatch reads
//! it. Then the values the builders produce for realistic inputs, and the dashboard and alarm in
//! example/dashboard.yaml against what is emitted. Throttles counted at the SDK boundary are in
//! tests/metrics_flow.rs.

mod support;

use aurora_clone_manager::cfn::{Outcome, Status};
use aurora_clone_manager::metrics::{self, Metrics, METRICS, NAMESPACE};
use aurora_clone_manager::state::{
    Answer, MaintainItem, Phase, ReapItem, RequestItem, RequestRecord, Work,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use support::emf::{extract, extract_doc, m, value, STACK, T};
use support::render;
use support::values::{cfn_request, APP_STACK, NOWHERE};

fn record(kind: &str, received: i64, service_timeout: i64) -> RequestRecord {
    let props = json!({"SourceClusterId": "orders"});
    let request = cfn_request(kind, APP_STACK, &format!("req-{received}"), NOWHERE, props);
    RequestRecord {
        request,
        cluster_id: "orders-clone".into(),
        fallback_id: None,
        received,
        deadline: received + service_timeout - 120,
        adopted: false,
        preparation: None,
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
