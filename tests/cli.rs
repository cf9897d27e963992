//! The operator CLI, run as a user runs it, against moto.

mod support;

use support::moto::{deployed_stack, realistic_source, run_cli, sdk_config, unique};

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
    assert_eq!(data["ClusterId"], format!("{source}-dev"));

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
    assert_eq!(clone["source"], source.as_str());
    // A db.r6g.large writer at the default $0.26 an hour; storage unknown without CloudWatch data.
    let compute = clone["cost_per_month"]["compute_usd"].as_f64().unwrap();
    assert!((compute - 0.26 * 730.0).abs() < 0.01, "{clone}");
    assert!(clone["cost_per_month"]["storage_usd"].is_null(), "{clone}");
    assert_eq!(status["pools"][0]["root"], source.as_str());
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

    let (code, _, err) = run_cli(&stack, &[], &["delete", "--cluster-id", &source]);
    assert_eq!(code, 3, "refuses the source: {err}");
    assert!(err.contains("not a clone made by stack"));
    let (code, out, _) = run_cli(
        &stack,
        &[],
        &["delete", "--cluster-id", &format!("{source}-dev")],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run_cli(
        &stack,
        &[],
        &["delete", "--cluster-id", &format!("{source}-dev")],
    );
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
