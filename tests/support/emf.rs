//! Embedded Metric Format as CloudWatch Logs reads it: each emitted line checked against the
//! spec (an `_aws` envelope with an integer `Timestamp`, directives with a Namespace, dimension
//! sets and metric definitions, resolving to top-level members of the right types, units from
//! CloudWatch's list, within the spec's limits) and read into data points; and the fixed stack
//! and time the metrics tests stamp their documents with.

use aurora_clone_manager::metrics::{self, Metrics};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// CloudWatch's units (MetricDatum), as the EMF schema lists them.
pub const UNITS: &[&str] = &[
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
pub struct Datum {
    pub timestamp: i64,
    pub namespace: String,
    pub name: String,
    pub unit: String,
    pub dimensions: BTreeMap<String, String>,
    pub values: Vec<f64>,
}

fn ascii_text(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii() && !c.is_control())
}

/// Reads one log line as CloudWatch Logs does an EMF event; panics naming the first rule it
/// breaks.
pub fn extract(line: &str) -> Vec<Datum> {
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

pub fn extract_doc(doc: &Value) -> Vec<Datum> {
    let mut line = Vec::new();
    metrics::emit_to(doc, &mut line).unwrap();
    let text = String::from_utf8(line).unwrap();
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
    extract(text.trim_end_matches('\n'))
}

/// The value of `name` under exactly these dimensions.
pub fn value(data: &[Datum], name: &str, dims: &[(&str, &str)]) -> f64 {
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

pub const STACK: &str = "aurora-clone-manager";

pub const T: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

pub fn m() -> Metrics {
    Metrics::new(STACK).at(T)
}
