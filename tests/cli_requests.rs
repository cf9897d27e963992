//! `requests --fail`: the runbook's way to unstick a stack. A pending CloudFormation request in
//! the stack's table is answered FAILED from the terminal: asked first, the answer PUT to its
//! ResponseURL as the Lambda sends it, the request done. Against moto and a loopback ResponseURL.

mod support;

use aurora_clone_manager::adapters::dynamo::DynamoState;
use aurora_clone_manager::ports::StateStore;
use aurora_clone_manager::state::{Phase, RequestRecord};
use serde_json::{json, Value};
use support::moto::{deployed_stack, run_cli, sdk_config, unique};
use support::values::{cfn_request, APP_STACK};

/// A Create the Lambda recorded and is still working on, answered at `url`.
fn pending_create(url: &str, cluster_id: &str) -> RequestRecord {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let props = json!({"SourceClusterId": "orders"});
    RequestRecord {
        request: cfn_request("Create", APP_STACK, &unique("req-"), url, props),
        cluster_id: cluster_id.into(),
        fallback_id: None,
        received: now,
        deadline: now + 3000,
        adopted: false,
        preparation: None,
    }
}

// Multi-threaded: the ResponseURL stand-in answers while the test waits on the CLI's process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_request_is_answered_failed_from_the_terminal() {
    let conf = sdk_config();
    let stack = unique("acm");
    let table = deployed_stack(&conf, &stack).await;
    let (base, capture) = support::http::start().await;
    let record = pending_create(&format!("{base}/response"), &unique("clone-orders-"));
    let id = record.request_id().to_string();
    let state = DynamoState::new(aws_sdk_dynamodb::Client::new(&conf), &table);
    state
        .record(&record)
        .await
        .expect("recorded as the Lambda records");

    let (code, out, _) = run_cli(&stack, &[], &["requests", "--output", "json"]);
    assert_eq!(code, 0, "{out}");
    let work: Value = serde_json::from_str(out.trim()).expect("JSON");
    let listed = work["work"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["requestId"] == id.as_str());
    let listed = listed.unwrap_or_else(|| panic!("listed: {work}"));
    assert_eq!(listed["state"], "pending", "{listed}");
    assert_eq!(listed["logicalResourceId"], "Db", "{listed}");

    // Asked first: without a terminal and --yes nothing is answered.
    let (code, _, err) = run_cli(&stack, &[], &["requests", "--fail", &id]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(capture.requests().is_empty(), "nothing sent");

    let args = [
        "requests",
        "--fail",
        &id,
        "--reason",
        "stuck: see INC-42",
        "--yes",
        "--output",
        "json",
    ];
    let (code, out, err) = run_cli(&stack, &[], &args);
    assert_eq!(code, 0, "{out}{err}");
    let done: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(
        done,
        json!({"requestId": id, "status": "FAILED", "delivered": true})
    );
    let sent = capture.delivered();
    assert_eq!(sent.len(), 1, "one PUT");
    let body = sent[0].json();
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert_eq!(body["RequestId"], id.as_str(), "{body}");
    let reason = body["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("stuck: see INC-42") && reason.contains("operator"),
        "{reason}"
    );
    let item = state.request(&id).await.unwrap().expect("kept a day");
    assert_eq!(item.phase, Phase::Done);

    // Its answer is decided: a second --fail is refused and sends nothing.
    let (code, _, err) = run_cli(&stack, &[], &["requests", "--fail", &id, "--yes"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(capture.requests().len(), 1, "{err}");
    let (code, _, err) = run_cli(&stack, &[], &["requests", "--fail", "no-such", "--yes"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no request no-such"), "{err}");
}
