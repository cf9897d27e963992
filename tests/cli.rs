//! The operator CLI, run as a user runs it, against moto.

mod support;

use serde_json::{json, Value};
use support::moto::{
    deployed_stack, deployed_stack_with, has_tag, realistic_source, run_cli, sdk_config, unique,
};

#[tokio::test]
async fn a_newcomer_plans_provisions_sees_and_deletes_a_clone() {
    let source = unique("orders");
    realistic_source(&sdk_config(), &source).await;
    let stack = unique("cli");
    // Commands that change something use the stack's state table.
    deployed_stack(&sdk_config(), &stack).await;

    let (code, out, err) = run_cli(&stack, &[], &["plan", "--source", &source]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Pool of {source}"))
            && out.contains("root")
            && out.contains("clone copy-on-write from"),
        "{out}"
    );

    let (code, out, err) = run_cli(
        &stack,
        &[],
        &[
            "--json",
            "provision",
            "--source",
            &source,
            "--cluster-id",
            &format!("{source}-dev"),
            "--wait",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let data: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(data["clusterId"], format!("{source}-dev"));

    let (code, out, _) = run_cli(&stack, &[], &["status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("{source}-dev")) && out.contains("clone"),
        "{out}"
    );
    let (code, out, _) = run_cli(&stack, &[], &["--json", "status"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let clone = &status["clusters"][0];
    assert_eq!(clone["sourceClusterId"], source.as_str());
    // A db.r6g.large writer at the default $0.26 an hour; storage unknown without CloudWatch data.
    let compute = clone["costPerMonth"]["computeUsd"].as_f64().unwrap();
    assert!((compute - 0.26 * 730.0).abs() < 0.01, "{clone}");
    assert!(clone["costPerMonth"]["storageUsd"].is_null(), "{clone}");
    assert_eq!(status["pools"][0]["rootClusterId"], source.as_str());
    assert_eq!(status["pools"][0]["clones"], 1);

    let (code, _, err) = run_cli(
        &stack,
        &[],
        &[
            "extend",
            "--cluster-id",
            &format!("{source}-dev"),
            "--by",
            "P7D",
        ],
    );
    assert_eq!(code, 3, "no expiry to extend: {err}");
    assert!(err.contains("has no expiry"), "{err}");
    let (code, out, err) = run_cli(&stack, &[], &["sweep", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("no orphans"),
        "a CLI clone has no stack to lose: {out}"
    );

    let (code, _, err) = run_cli(&stack, &[], &["delete", "--yes", "--cluster-id", &source]);
    assert_eq!(code, 3, "refuses the source: {err}");
    assert!(err.contains("not a clone made by stack"));
    // No terminal to ask, no --yes: nothing is deleted.
    let dev = format!("{source}-dev");
    let (code, _, err) = run_cli(&stack, &[], &["delete", "--cluster-id", &dev]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("--yes") && err.contains("nothing was changed"),
        "{err}"
    );
    let (_, out, _) = run_cli(&stack, &[], &["status"]);
    assert!(out.contains(&dev), "still there: {out}");
    let dry = [
        "delete",
        "--dry-run",
        "--output",
        "json",
        "--cluster-id",
        &dev,
    ];
    let (code, out, _) = run_cli(&stack, &[], &dry);
    assert_eq!(code, 0, "{out}");
    let plan: Value = serde_json::from_str(out.trim()).expect("one JSON document");
    assert_eq!(plan["wouldDelete"], true, "{plan}");
    let args = [
        "delete",
        "-y",
        "--wait",
        "--output",
        "json",
        "--cluster-id",
        &dev,
    ];
    let (code, out, _) = run_cli(&stack, &[], &args);
    assert_eq!(code, 0, "{out}");
    let done: Value = serde_json::from_str(out.trim()).expect("one JSON document");
    assert_eq!(done["outcome"], "gone", "{done}");
    let (code, out, _) = run_cli(&stack, &[], &["delete", "--yes", "--cluster-id", &dev]);
    assert_eq!(code, 0);
    assert!(out.contains("already gone"));
}

#[test]
fn usage_errors_exit_2_with_help() {
    let (code, _, err) = run_cli("ok", &[], &["plan"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--source"));
    let (code, _, err) = run_cli("bad stack name", &[], &["status"]);
    assert_eq!(code, 2);
    assert!(err.contains("STACK_NAME"));
    let (code, out, _) = run_cli("ok", &[], &["--help"]);
    assert_eq!(code, 0);
    for command in [
        "plan",
        "provision",
        "maintain",
        "status",
        "extend",
        "sweep",
        "delete",
    ] {
        assert!(out.contains(command), "{command} in --help");
    }
}

/// The CLI reads the deployed stack's settings (its ClusterIdPrefix here, which the
/// environment does not set), makes a clone that expires and carries the operator's tags, and
/// lists its request in the stack's table; every answer in `--output json`.
#[tokio::test]
async fn the_cli_speaks_the_deployed_stacks_settings() {
    let conf = sdk_config();
    let source = unique("orders");
    realistic_source(&conf, &source).await;
    let stack = unique("cli");
    let prefix = json!({"ClusterIdPrefix": {"Type": "String", "Default": "qa-"}});
    deployed_stack_with(&conf, &stack, prefix).await;
    let in_two_days = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let expires_at = in_two_days
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let args = [
        "provision",
        "--source",
        &source,
        "--wait",
        "--expires-at",
        &expires_at,
        "--tag",
        "team=qa",
        "--output",
        "json",
    ];
    let (code, out, err) = run_cli(&stack, &[], &args);
    assert_eq!(code, 0, "{out}{err}");
    let data: Value = serde_json::from_str(out.trim()).expect("JSON");
    let id = data["clusterId"].as_str().expect("a clone").to_string();
    assert!(id.starts_with("qa-"), "the deployed prefix: {id}");
    let rds = aws_sdk_rds::Client::new(&conf);
    let found = rds
        .describe_db_clusters()
        .db_cluster_identifier(&id)
        .send()
        .await;
    let cluster = found.unwrap().db_clusters()[0].clone();
    assert!(has_tag(&cluster, "team", "qa"), "the operator's tag");
    let (code, out, _) = run_cli(&stack, &[], &["status", "--output", "json"]);
    assert_eq!(code, 0);
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    let clone = &status["clusters"][0];
    assert_eq!(clone["clusterId"], id.as_str(), "{status}");
    assert_eq!(clone["expiry"]["expiresAt"], expires_at.as_str(), "{clone}");

    let (code, out, err) = run_cli(&stack, &[], &["requests", "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let work: Value = serde_json::from_str(out.trim()).expect("JSON");
    let mine = work["work"]
        .as_array()
        .and_then(|w| w.iter().find(|i| i["clusterId"] == id.as_str()))
        .unwrap_or_else(|| panic!("the provision's request: {work}"));
    assert_eq!(mine["state"], "done", "{mine}");

    let (code, _, err) = run_cli(
        &stack,
        &[],
        &["provision", "--source", &source, "--tag", "oops"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KEY=VALUE"), "{err}");
    let past = [
        "provision",
        "--source",
        &source,
        "--expires-at",
        "2020-01-01T00:00:00Z",
    ];
    let (code, _, err) = run_cli(&stack, &[], &past);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ExpiresAt"), "{err}");
}

/// One JSON style: every key camelCase, as the lifecycle events and `Data` (lower-camel-cased)
/// name them, except inside a clone's resource properties and tags, which are data.
fn assert_camel_case(doc: &Value, at: &str) {
    match doc {
        Value::Object(map) => {
            for (key, value) in map {
                let camel = key.starts_with(|c: char| c.is_ascii_lowercase())
                    && key.chars().all(|c| c.is_ascii_alphanumeric());
                assert!(camel, "{at}: key {key:?} is not camelCase");
                if !["properties", "tags"].contains(&key.as_str()) {
                    assert_camel_case(value, &format!("{at}.{key}"));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_camel_case(v, at)),
        _ => {}
    }
}

/// Every command answers `--output json` with one JSON document on stdout; every command that
/// changes or removes something asks first, and without a terminal stops at exit 3 unless `--yes`.
#[tokio::test]
async fn every_command_speaks_json_and_asks_before_it_changes() {
    let conf = sdk_config();
    let source = unique("orders");
    realistic_source(&conf, &source).await;
    let stack = unique("cli");
    deployed_stack(&conf, &stack).await;
    let json = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let (code, out, err) = run_cli(&stack, &[], &all);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        let doc =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        assert_camel_case(&doc, &format!("{args:?}"));
        doc
    };
    let clone = format!("{source}-qa");
    let made = json(&[
        "provision",
        "--source",
        &source,
        "--cluster-id",
        &clone,
        "--wait",
        "--expires-after",
        "P1D",
    ]);
    assert_eq!(made["clusterId"], clone.as_str());
    assert_eq!(
        json(&["plan", "--source", &source])["sourceClusterId"],
        source.as_str()
    );
    assert!(json(&["status"])["clusters"].is_array());
    assert!(json(&["requests"])["work"].is_array());
    assert_eq!(json(&["maintain", "--dry-run"])["dryRun"], true);
    assert!(json(&["sweep", "--dry-run"]).is_array());
    assert!(json(&["adopt", "--dry-run"]).is_array());
    let extended = json(&["extend", "--cluster-id", &clone, "--by", "P1D", "--dry-run"]);
    assert_eq!(extended["clusterId"], clone.as_str());
    assert_eq!(
        json(&["delete", "--cluster-id", &clone, "--dry-run"])["wouldDelete"],
        true
    );
    let refresh = json(&["refresh", "--cluster-id", &clone, "--dry-run"]);
    assert_eq!(refresh["refreshable"], true, "{refresh}");
    assert!(
        refresh["names"]["fresh"]
            .as_str()
            .unwrap()
            .starts_with(&clone),
        "{refresh}"
    );

    for args in [
        vec!["maintain"],
        vec!["sweep"],
        vec!["adopt"],
        vec!["refresh", "--cluster-id", &clone],
        vec!["delete", "--cluster-id", &clone],
    ] {
        let (code, out, err) = run_cli(&stack, &[], &args);
        assert_eq!(code, 3, "{args:?} without --yes: {out}{err}");
        assert!(err.contains("--yes"), "{args:?}: {err}");
    }
    assert_eq!(
        json(&["status"])["clusters"][0]["clusterId"],
        clone.as_str(),
        "nothing removed"
    );
    assert!(json(&["--yes", "sweep"]).is_array());
    assert_eq!(json(&["--yes", "maintain"])["dryRun"], false);
    assert!(json(&["--yes", "adopt"]).is_array());
    let recorded = json(&["--yes", "refresh", "--cluster-id", &clone]);
    assert_eq!(recorded["state"], "recorded", "{recorded}");
    assert!(json(&["requests"])["work"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["work"] == format!("refresh {clone}")));
    assert_eq!(
        json(&["--yes", "delete", "--cluster-id", &clone])["deleted"],
        true
    );
}
