//! One state for both front doors (issue 16, item 9): the operator CLI keeps its requests and
//! leases in the stack's state table, found from the stack, so that a placement from a terminal
//! and one by the Lambda serialise on the same lease item. Against moto.

mod support;

use aurora_clone_manager::adapters::dynamo::DynamoState;
use aurora_clone_manager::adapters::{memory::MemoryResponder, Clients};
use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::clock::Clock;
use aurora_clone_manager::config::Settings;
use aurora_clone_manager::ports::{Responder, StateStore};
use aurora_clone_manager::service::{Flows, Invocation, Progress, Tracker};
use aurora_clone_manager::{adapters, cli};
use serde_json::json;
use std::sync::Arc;
use support::moto::{deployed_stack, realistic_source, run_cli, sdk_config, unique};
use support::values::{cfn_request, APP_STACK, NOWHERE};

fn settings(vars: &[(&str, &str)]) -> Settings {
    let vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_map(&vars).expect("settings")
}

fn create(source: &str) -> CfnRequest {
    let props = json!({"SourceClusterId": source});
    cfn_request("Create", APP_STACK, &unique("req-"), NOWHERE, props)
}

/// The function's flows over the stack's table, as the Lambda wires them.
fn function(settings: Settings, clients: &Clients, responder: Arc<dyn Responder>) -> Flows {
    let ports = adapters::sdk_ports(&settings, clients, responder);
    Flows::new(settings, ports, Clock::System)
}

async fn clones_of(m: &Flows, source: &str) -> Vec<String> {
    let clusters = m.deeds.observe_clusters().await.expect("clusters");
    clusters
        .into_iter()
        .map(|c| c.id)
        .filter(|id| id.starts_with(source) && id != source)
        .collect()
}

/// The CLI finds the table from the stack; while the CLI holds a source's placement lease, the
/// Lambda's placement of that source finds it busy and restores nothing; while the Lambda holds
/// it, a `provision` from the terminal waits.
#[tokio::test]
async fn a_cli_placement_and_a_lambda_placement_share_the_lease() {
    let conf = sdk_config();
    let stack = unique("acm");
    let table = deployed_stack(&conf, &stack).await;
    let source = unique("orders");
    realistic_source(&conf, &source).await;
    let clients = Clients::new(&conf);
    let (operator, _, _) = cli::manager(settings(&[("STACK_NAME", &stack)]), &clients, None, true)
        .await
        .expect("the CLI's manager");
    assert_eq!(
        operator.core.settings.state_table, table,
        "found from the stack"
    );
    let table_state = DynamoState::new(clients.dynamodb.clone(), &table);
    let function = function(
        settings(&[("STACK_NAME", &stack), ("STATE_TABLE", &table)]),
        &clients,
        Arc::new(MemoryResponder::default()),
    );

    let lease = format!("place-{source}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let held = table_state.take_lease(&lease, "operator", now, 60);
    assert_eq!(held.await.unwrap(), Some(1));
    let inv = Invocation::default();
    let progress = function
        .receive
        .serve(create(&source), &inv, &Tracker::default())
        .await
        .expect("recorded");
    assert!(
        matches!(&progress, Progress::Pending(p) if p.contains("another request is placing")),
        "{progress:?}"
    );
    assert!(clones_of(&function, &source).await.is_empty());

    table_state.release_lease(&lease, "operator").await.unwrap();
    let taken = table_state.take_lease(&lease, "lambda", now, 60);
    assert_eq!(taken.await.unwrap(), Some(2), "the same lease item");
    let (code, out, err) = run_cli(&stack, &[], &["provision", "--source", &source]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("another request is placing"), "{out}{err}");
    assert!(clones_of(&function, &source).await.is_empty());
}

/// `provision` keeps its request and the source's lease in the stack's table (named by
/// CloudFormation, not guessed), and releases the lease when done.
#[tokio::test]
async fn the_cli_keeps_its_requests_and_leases_in_the_stacks_table() {
    let conf = sdk_config();
    let stack = unique("acm");
    let table = deployed_stack(&conf, &stack).await;
    let source = unique("orders");
    realistic_source(&conf, &source).await;
    let (code, out, err) = run_cli(
        &stack,
        &[],
        &["--json", "provision", "--source", &source, "--wait"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let items = aws_sdk_dynamodb::Client::new(&conf)
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let text = |i: &std::collections::HashMap<String, _>, k: &str| match i.get(k) {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(s)) => s.clone(),
        Some(aws_sdk_dynamodb::types::AttributeValue::N(n)) => n.clone(),
        _ => String::new(),
    };
    let request = items
        .iter()
        .find(|i| text(i, "pk").starts_with("request#cli-"))
        .expect("the CLI's request, in the table");
    assert_eq!(text(request, "state"), "done");
    let lease = items
        .iter()
        .find(|i| text(i, "pk") == format!("lease#place-{source}"))
        .expect("the placement lease, in the table");
    assert_eq!(
        (text(lease, "fence"), text(lease, "holder")),
        ("1".into(), String::new()),
        "taken once, released"
    );
}

/// A command that changes something needs the stack's table: a stack that is not deployed, or
/// a table that does not exist, is a clear error (exit 2), never a silent in-memory state.
/// Plans and dry runs change nothing and still run without one.
#[tokio::test]
async fn a_missing_state_table_is_a_clear_error() {
    let source = unique("orders");
    realistic_source(&sdk_config(), &source).await;
    let nowhere = unique("undeployed");
    for args in [
        vec!["maintain"],
        vec!["provision", "--source", &source],
        vec!["sweep"],
    ] {
        let (code, out, err) = run_cli(&nowhere, &[], &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!("stack {nowhere} has no state table"))
                && err.contains("--state-table"),
            "{err}"
        );
    }
    let (code, _, err) = run_cli(
        &nowhere,
        &[("STATE_TABLE", "no-such-table")],
        &["provision", "--source", &source],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the state table no-such-table does not exist"),
        "{err}"
    );
    let (code, out, err) = run_cli(
        &nowhere,
        &[],
        &["provision", "--source", &source, "--dry-run"],
    );
    assert_eq!(code, 0, "a dry run needs no table: {err}");
    assert!(out.contains(&format!("Pool of {source}")), "{out}");
}

/// A request made at the terminal and left pending (a `provision` without `--wait`) is in the
/// shared table: the Lambda's follow-ups finish it, and its answer, which has no ResponseURL,
/// goes to nobody instead of being resent for hours.
#[tokio::test]
async fn the_lambda_finishes_a_request_left_by_the_cli() {
    use aurora_clone_manager::adapters::http::HttpResponder;
    use aurora_clone_manager::state::Phase;
    let conf = sdk_config();
    let stack = unique("acm");
    let table = deployed_stack(&conf, &stack).await;
    let source = unique("orders");
    realistic_source(&conf, &source).await;
    let clients = Clients::new(&conf);
    let (operator, _, _) = cli::manager(settings(&[("STACK_NAME", &stack)]), &clients, None, true)
        .await
        .expect("the CLI's manager");
    let mut request = create(&source);
    request.response_url = String::new();
    request.stack_id = "cli:operator".into();
    let progress = operator
        .receive
        .serve(request.clone(), &Invocation::default(), &Tracker::default())
        .await
        .expect("recorded");
    assert!(matches!(progress, Progress::Pending(_)), "{progress:?}");

    let function = function(
        settings(&[("STACK_NAME", &stack), ("STATE_TABLE", &table)]),
        &clients,
        Arc::new(HttpResponder::with_retries(1, std::time::Duration::ZERO)),
    );
    let inv = Invocation::default();
    let mut phase = Phase::Pending;
    for _ in 0..6 {
        function
            .follow_up
            .follow_up(&inv)
            .await
            .expect("a follow-up");
        let item = function.answers.recorded(&request.request_id).await;
        phase = item.unwrap().expect("recorded").phase;
        if phase == Phase::Done {
            break;
        }
    }
    assert_eq!(phase, Phase::Done, "answered to nobody, and done");
    assert_eq!(clones_of(&function, &source).await.len(), 1);
}
