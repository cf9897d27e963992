//! What CloudFormation and EventBridge check before the function sees anything, against the
//! code: the RDS event rule matches only events that can end a wait, MaxCopyAge's pattern is
//! the parser's; and the example consumer uses the manager's exports and listens on its bus.

mod support;

use aurora_clone_manager::config::parse_iso_duration;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::render::{properties, read, render, render_file};

/// A tiny EventBridge pattern matcher: every field of the pattern must be in the event; a list
/// matches if any of its values does (a string exactly, `{"prefix": p}` by prefix); objects
/// nest.
fn pattern_matches(pattern: &Value, event: &Value) -> bool {
    pattern.as_object().unwrap().iter().all(|(field, want)| {
        let Some(got) = event.get(field) else {
            return false;
        };
        match want {
            Value::Object(_) => pattern_matches(want, got),
            Value::Array(options) => options.iter().any(|o| match (o, got) {
                (Value::String(s), Value::String(g)) => s == g,
                (Value::Object(m), Value::String(g)) => match m.get("prefix") {
                    Some(Value::String(p)) => g.starts_with(p.as_str()),
                    _ => panic!("pattern operator {o} is not matched here"),
                },
                _ => false,
            }),
            other => panic!("a pattern field must be a list or an object: {other}"),
        }
    })
}

fn rds_event(kind: &str, event_id: &str, source: &str) -> Value {
    json!({
        "version": "0",
        "source": "aws.rds",
        "detail-type": format!("RDS DB {kind} Event"),
        "account": "123456789012",
        "region": "eu-west-1",
        "detail": {
            "EventCategories": ["creation"],
            "SourceType": if kind == "Cluster" { "CLUSTER" } else { "DB_INSTANCE" },
            "SourceArn": format!("arn:aws:rds:eu-west-1:123456789012:{}:{source}",
                if kind == "Cluster" { "cluster" } else { "db" }),
            "Date": "2026-11-22T12:00:00.000Z",
            "Message": "…",
            "SourceIdentifier": source,
            "EventID": event_id
        }
    })
}

/// Issue 9 item 13: the RDS rule wakes the function only for events that can end a wait (created,
/// deleted, master credentials reset or its failure), and with ClusterIdPrefix only for
/// identifiers that carry it.
#[test]
fn the_rds_event_rule_matches_only_events_that_end_a_wait() {
    let ending = [
        ("Cluster", "RDS-EVENT-0170"),
        ("Cluster", "RDS-EVENT-0171"),
        ("Instance", "RDS-EVENT-0005"),
        ("Instance", "RDS-EVENT-0003"),
        ("Cluster", "RDS-EVENT-0016"),
        ("Cluster", "RDS-EVENT-0067"),
    ];
    let not_ending = [
        ("Cluster", "RDS-EVENT-0150"),  // stopped
        ("Cluster", "RDS-EVENT-0151"),  // started
        ("Instance", "RDS-EVENT-0002"), // backup
        ("Instance", "RDS-EVENT-0006"), // rebooted
        ("Cluster", "RDS-EVENT-0076"),  // failover
    ];
    for prefix in ["", "clone-"] {
        let rendered = render(&[("ClusterIdPrefix", prefix)]);
        let pattern = &properties(&rendered, "RdsEventsRule")["EventPattern"];
        let ours = format!("{prefix}orders-20261122120000-0f11");
        for (kind, id) in ending {
            assert!(
                pattern_matches(pattern, &rds_event(kind, id, &ours)),
                "{id} about {ours}"
            );
            assert!(
                pattern_matches(pattern, &rds_event(kind, id, &format!("{ours}-writer"))),
                "{id} about the writer"
            );
            assert_eq!(
                pattern_matches(pattern, &rds_event(kind, id, "orders")),
                prefix.is_empty(),
                "{id} about production with prefix {prefix:?}"
            );
        }
        for (kind, id) in not_ending {
            assert!(
                !pattern_matches(pattern, &rds_event(kind, id, &ours)),
                "{id}"
            );
        }
        let mut other_source = rds_event("Cluster", "RDS-EVENT-0170", &ours);
        other_source["source"] = json!("aws.ec2");
        assert!(!pattern_matches(pattern, &other_source));
    }
}

/// MaxCopyAge's AllowedPattern (CloudFormation checks it before the function ever sees the value)
/// accepts exactly what `config::parse_iso_duration` accepts, on every form below.
#[test]
fn max_copy_age_pattern_accepts_exactly_what_the_parser_accepts() {
    let rendered = render(&[]);
    let source = read("template.yaml");
    let line = source
        .lines()
        .skip_while(|l| l.trim() != "MaxCopyAge:")
        .find_map(|l| l.trim().strip_prefix("AllowedPattern: "))
        .expect("MaxCopyAge's AllowedPattern");
    let pattern: String = serde_json::from_str(line).expect("a double-quoted YAML string");
    let re = fancy_regex::Regex::new(&pattern).expect("the pattern compiles");
    let matches = |s: &str| re.is_match(s).unwrap();
    let forms = [
        "P3D",
        "PT12H",
        "P1DT6H30M",
        "p1w",
        "P1W2D",
        "PT1M",
        "PT1S",
        "PT0H1M",
        "P0W0DT0H0M1S",
        "P03D",
        "pt1h",
        "P1dT1h",
        "P1W1DT1H1M1S",
        "P999999999D",
        "P0000000001D",
        " P3D ",
        "\tP3D\n",
        "P10D",
        "PT90M", // accepted
        "",
        " ",
        "3D",
        "P",
        "PT",
        "P1M",
        "P1Y",
        "PD",
        "P3D2",
        "P1H",
        "PT1D",
        "P0D",
        "PT0S",
        "P0DT0S",
        "P1DT",
        "P1WT",
        "P1W2W",
        "PT1H2H",
        "P1D1W",
        "PT1M1H",
        "P 3D",
        "P-1D",
        "P+1D",
        "P1.5D",
        "P1,5D",
        "\u{661}D",
        "P\u{661}D",
        "P3DT-1H",
        "3D P",
        "PP3D",
        "P3DD",
        "P1DT1H1M1S1",
        "XP3D",
        "P3Dx", // refused
    ];
    for form in forms {
        assert_eq!(
            matches(form),
            parse_iso_duration(form).is_ok(),
            "{form:?}: pattern {} parser {:?}",
            matches(form),
            parse_iso_duration(form)
        );
    }
    // The one difference, on purpose: numbers of 10 or more significant digits (a billion days
    // and up) are refused by the pattern, so that no accepted value can overflow the parser.
    for huge in ["P1000000000D", "PT99999999999S"] {
        assert!(!matches(huge) && parse_iso_duration(huge).is_ok(), "{huge}");
    }
    assert!(matches(
        rendered["Parameters"]["MaxCopyAge"].as_str().unwrap()
    ));
}

/// The example consumer, rendered for a source and a developer role.
fn example() -> Value {
    render_file(
        "example/template.yaml",
        &[
            ("SourceClusterId", "orders"),
            (
                "DeveloperRoleArn",
                "arn:aws:iam::123456789012:role/developers",
            ),
        ],
    )
}

/// The example consumer imports only what the clone manager exports, and names its reader.
#[test]
fn the_example_consumer_uses_the_managers_exports() {
    let manager = render(&[]);
    let exports: BTreeSet<String> = manager["Outputs"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|o| o["Export"]["Name"].as_str())
        .map(|n| n.replace("aurora-clone-manager-", "<stack>-"))
        .collect();
    let example = example();
    let clone = &example["Resources"]["OrdersClone"]["Properties"];
    let token = clone["ServiceToken"].as_str().unwrap();
    let import = token
        .strip_prefix("import:")
        .expect("ServiceToken is imported")
        .replace("aurora-clone-manager-", "<stack>-");
    assert!(
        exports.contains(&import),
        "{import} is not exported: {exports:?}"
    );
    assert_eq!(
        clone["AccessPrincipalArns"],
        json!(["arn:aws:iam::123456789012:role/developers"])
    );
    // Issue 18: the example is cheap and ends by itself, and its properties parse as the
    // function parses them.
    let props = aurora_clone_manager::domain::properties::CloneProperties::parse(clone)
        .expect("the example's properties parse");
    assert_eq!(props.instance_class.as_deref(), Some("db.serverless"));
    assert!(
        props.capacity.is_some() && props.expiry.is_some(),
        "{props:?}"
    );
}

/// Issue 16, item 13: by default the manager puts lifecycle events on a bus of its own, exports
/// its name, and the example consumer's rule listens there (not on the default bus, where anyone
/// may put events under any source).
#[test]
fn the_example_listens_on_the_managers_own_bus() {
    let manager = render(&[]);
    let variables = &manager["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    let bus = manager["Resources"]["LifecycleBus"]["Properties"]["Name"]
        .as_str()
        .expect("the stack makes its own bus");
    assert_eq!(variables["EVENT_BUS_NAME"], bus);
    assert_eq!(manager["Outputs"]["LifecycleEventBusName"]["Value"], bus);
    let export = manager["Outputs"]["LifecycleEventBusName"]["Export"]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    let example = example();
    let rule = &example["Resources"]["CloneReadyRule"]["Properties"];
    assert_eq!(rule["EventBusName"], format!("import:{export}").as_str());
    assert_eq!(
        rule["EventPattern"]["source"],
        json!(["aurora-clone-manager"])
    );
    // EventBusName still overrides; the outputs follow it.
    let other = render(&[("EventBusName", "team-bus")]);
    let variables = &other["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    assert_eq!(variables["EVENT_BUS_NAME"], "team-bus");
    assert_eq!(
        other["Outputs"]["LifecycleEventBusName"]["Value"],
        "team-bus"
    );
}
