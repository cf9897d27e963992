//! The deployable template against the code: every environment variable the code reads is set
//! (defect 2: the original set MAX_AGE where the code read MAX_COPY_AGE), every AWS operation
//! the adapters call is granted (defect 11's sibling: it lacked rds:AddTagsToResource), no
//! action is a wildcard (defect 11: secretsmanager:* and kms:* on everything), failed
//! asynchronous invocations land somewhere (issue 10 item 8), the names the code derives are
//! the template's, and `sam build` works. The event patterns and the example consumer are in
//! tests/template_patterns.rs; the permissions themselves are evaluated in tests/iam*.rs.

mod support;

use aurora_clone_manager::config::VARIABLES;
use aurora_clone_manager::password::key_policy;
use serde_json::Value;
use std::collections::BTreeSet;
use support::policy;
use support::render::{self, arn, properties, read, render, render_file, role_policy};

/// The keys of the Lambda's `Environment: Variables:` block.
fn template_variables(template: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "Variables:")
        .expect("a Variables block");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let block_indent = indent(lines[start + 1]);
    lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) >= block_indent)
        .filter(|l| indent(l) == block_indent)
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

/// The services whose actions the templates name.
const SERVICES: &[&str] = &[
    "rds",
    "ssm",
    "events",
    "kms",
    "secretsmanager",
    "logs",
    "dynamodb",
    "cloudformation",
    "scheduler",
    "iam",
    "sqs",
    "lambda",
    "sts",
];

/// Every `service:Action` string in the template.
fn granted_actions(template: &str) -> BTreeSet<String> {
    template
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '*' || c == '-'))
        .filter(|w| {
            let mut parts = w.splitn(2, ':');
            matches!((parts.next(), parts.next()), (Some(s), Some(a)) if SERVICES.contains(&s) && !a.is_empty() && !a.contains(':'))
        })
        .map(str::to_string)
        .collect()
}

/// Operations only the operator CLI makes, with the operator's credentials: the function's role
/// is not granted them (the Lambda never reads CloudWatch or lists its own stack).
const CLI_ONLY: &[&str] = &[
    "cloudwatch:GetMetricData",
    "cloudformation:DescribeStackResources",
];

/// The service an adapter file talks to. A new adapter must be named here, or the test that
/// checks the grants stops (so that no adapter goes unchecked).
fn service_of(adapter: &str) -> Option<&'static str> {
    Some(match adapter {
        "rds" | "rename" => "rds",
        "ssm" => "ssm",
        "events" => "events",
        "secrets" => "secretsmanager",
        "kms" => "kms",
        "dynamo" => "dynamodb",
        "cloudformation" | "stacks" | "cfn" => "cloudformation",
        "scheduler" | "expiry" | "schedules" => "scheduler",
        "volumes" => "cloudwatch",
        _ => return None,
    })
}

/// Each adapter file with the adapter it belongs to: `src/adapters/<stem>.rs`, and the files
/// of its folder `src/adapters/<stem>/`.
fn adapter_files() -> Vec<(String, std::path::PathBuf)> {
    let dir = format!("{}/src/adapters", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/adapters") {
        let path = entry.expect("an adapter file").path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            for sub in std::fs::read_dir(&path).expect("an adapter's folder") {
                files.push((stem.clone(), sub.expect("an adapter file").path()));
            }
        } else {
            files.push((stem, path));
        }
    }
    files
}

/// The AWS operations the adapters call: each names its operation in the `AwsError` it maps to.
fn called_operations() -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (stem, path) in adapter_files() {
        let src = std::fs::read_to_string(&path).expect("readable");
        let markers = [
            "aws_error(\"",
            "AwsError::permanent(\"",
            "AwsError::transient(\"",
        ];
        if !markers.iter().any(|m| src.contains(m)) || stem == "mod" {
            continue;
        }
        let service = service_of(&stem).unwrap_or_else(|| {
            panic!("src/adapters/{stem}.rs calls AWS: name its service in tests/template.rs")
        });
        for marker in markers {
            for piece in src.split(marker).skip(1) {
                let op = piece.split('"').next().unwrap_or_default();
                if op.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !op.contains(' ') {
                    ops.insert(format!("{service}:{op}"));
                }
            }
        }
    }
    ops
}

#[test]
fn every_variable_the_code_reads_is_set_and_none_is_misspelt() {
    let set = template_variables(&read("template.yaml"));
    let read_by_code: BTreeSet<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        set, read_by_code,
        "template variables vs the variables the code reads"
    );
    for v in VARIABLES {
        assert!(
            read("src/config/mod.rs").contains(&format!("\"{v}\""))
                || read("src/config/guard.rs").contains(&format!("\"{v}\""))
                || read("src/logging.rs").contains(&format!("\"{v}\"")),
            "{v} is listed but never read"
        );
    }
}

/// Every operation an adapter calls is an action some statement of the rendered Role grants (and
/// tests/iam.rs checks each on its resources and conditions), with the prefix set and unset.
#[test]
fn every_operation_the_code_calls_is_granted() {
    let called = called_operations();
    assert!(
        called.len() >= 15,
        "the scan found too few operations: {called:?}"
    );
    for params in [vec![], vec![("ClusterIdPrefix", "clone-")]] {
        let rendered = render(&params);
        let granted: Vec<String> = role_policy(&rendered)["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                other => panic!("Action {other}"),
            })
            .collect();
        // What the function does with a key it created is granted by that key's own policy.
        let role = render::role_arn(&rendered);
        let created_key = key_policy(render::ACCOUNT, &[], render::REGION, Some(&role));
        let is_granted = |op: &str| {
            granted
                .iter()
                .any(|g| policy::wildcard(&g.to_ascii_lowercase(), &op.to_ascii_lowercase()))
                || (op.starts_with("kms:")
                    && policy::evaluate(
                        &created_key,
                        &policy::Request::new(&role, op, "key"),
                        true,
                    ) == policy::Decision::Allowed)
        };
        let mut missing: Vec<&String> = called
            .iter()
            .filter(|op| {
                !op.ends_with(":Build")
                    && !CLI_ONLY.contains(&op.as_str())
                    && !op.ends_with(":FailedEntries")
                    && !op.ends_with(":EmptyResponse")
            })
            .filter(|op| !is_granted(op))
            .collect();
        // Creating with tags needs the tagging permission too.
        let tagging = "rds:AddTagsToResource".to_string();
        if !is_granted(&tagging) {
            missing.push(&tagging);
        }
        assert!(
            missing.is_empty(),
            "the template ({params:?}) does not grant: {missing:?}"
        );
    }
}

#[test]
fn no_action_is_a_wildcard() {
    for path in ["template.yaml", "example/template.yaml"] {
        let wild: Vec<String> = granted_actions(&read(path))
            .into_iter()
            .filter(|a| a.contains('*'))
            .collect();
        assert!(wild.is_empty(), "{path}: wildcard actions {wild:?}");
        assert!(
            !read(path)
                .lines()
                .any(|l| l.trim_start().starts_with("Action:") && l.contains("\"*\"")),
            "{path}: Action \"*\""
        );
    }
}

#[test]
fn the_function_is_not_serialised_into_a_bottleneck() {
    // Defect 15: reserved concurrency 1 with a 300 s timeout left CloudFormation waiting.
    let t = read("template.yaml");
    assert!(!t.contains("ReservedConcurrentExecutions: 1\n"));
    let timeout: u32 = t
        .lines()
        .find_map(|l| l.trim().strip_prefix("Timeout: "))
        .and_then(|v| v.parse().ok())
        .expect("a Timeout");
    assert!(timeout <= 300);
    // Issue 10 item 8: when reserved, sized to RDS's API rate (12 requests/s sustained per
    // account): more invocations at once would only queue throttled calls. Issue 18: unreserved
    // by default, which new and sandbox accounts need.
    let f = properties(&render(&[]), "Function").clone();
    assert!(f.get("ReservedConcurrentExecutions").is_none(), "{f}");
    let f = properties(&render(&[("ReservedConcurrency", "10")]), "Function").clone();
    let reserved = f["ReservedConcurrentExecutions"]
        .as_str()
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| f["ReservedConcurrentExecutions"].as_u64())
        .expect("reserved concurrency");
    assert!(
        (2..=12).contains(&reserved),
        "reserved concurrency {reserved}"
    );
}

/// Issue 10 item 8: an asynchronous invocation that still fails after its retries (or waits too
/// long) lands in an encrypted queue the role may send to; and it is given up well inside the day
/// the function keeps answered requests, so that a redelivery is recognised.
#[test]
fn failed_asynchronous_invocations_land_in_an_encrypted_queue() {
    let rendered = render(&[]);
    let config = properties(&rendered, "FunctionEventInvokeConfig");
    assert_eq!(
        config["FunctionName"],
        properties(&rendered, "Function")["FunctionName"]
    );
    let retries = config["MaximumRetryAttempts"].as_u64().unwrap();
    let max_age = config["MaximumEventAgeInSeconds"].as_u64().unwrap();
    assert!(
        retries <= 2 && max_age <= 3600,
        "{retries} retries, {max_age} s"
    );
    let queue = config["DestinationConfig"]["OnFailure"]["Destination"]
        .as_str()
        .unwrap();
    assert_eq!(
        queue,
        arn("sqs", "aurora-clone-manager-FailedInvocations-EXAMPLE")
    );
    let q = properties(&rendered, "FailedInvocations");
    assert!(
        q["SqsManagedSseEnabled"] == true || q["KmsMasterKeyId"].is_string(),
        "the queue is encrypted at rest"
    );
    let role = role_policy(&rendered);
    let send = policy::Request::new("role", "sqs:SendMessage", queue);
    assert!(policy::allows(role, &send));
}

/// No unverified build claim: `sam build` is not advertised (the function is built by
/// `./build.sh build` with cargo-lambda), so the template carries no SAM build metadata.
#[test]
fn the_template_claims_no_sam_build() {
    let rendered = render(&[]);
    let metadata = &rendered["Resources"]["Function"]["Metadata"];
    assert!(metadata.get("BuildMethod").is_none(), "{metadata}");
    assert!(read("build.sh").contains("cargo lambda build --release"));
}

/// An expiry schedule invokes the function the template names, as the role the template makes,
/// in the group the template makes: the names the code derives are the template's.
#[test]
fn expiry_schedules_target_the_templates_function_role_and_group() {
    use aurora_clone_manager::service::expiry::schedule_target;
    let rendered = render(&[]);
    let cluster_arn = arn("rds", "cluster:qa-clone");
    let target = schedule_target(render::STACK, &cluster_arn).expect("an ARN");
    let function = properties(&rendered, "Function")["FunctionName"]
        .as_str()
        .unwrap();
    assert_eq!(
        target.function_arn,
        arn("lambda", &format!("function:{function}"))
    );
    let role = properties(&rendered, "ExpiryRole")["RoleName"]
        .as_str()
        .unwrap();
    assert_eq!(
        target.role_arn,
        format!("arn:aws:iam::{}:role/{role}", render::ACCOUNT)
    );
    let invokes = serde_json::to_string(properties(&rendered, "ExpiryRole")).unwrap();
    assert!(
        invokes.contains(&target.function_arn),
        "the role may invoke it: {invokes}"
    );
    let group = properties(&rendered, "ExpiryScheduleGroup")["Name"]
        .as_str()
        .unwrap();
    let vars = [("STACK_NAME".to_string(), render::STACK.to_string())].into();
    let settings = aurora_clone_manager::config::Settings::from_map(&vars).unwrap();
    assert_eq!(group, settings.expiry_group());
    assert_eq!(schedule_target(render::STACK, "no-arn"), None);
}

/// A local emulator's implausible deadline falls back to the function's configured timeout,
/// which the code knows as a constant: it must be the template's.
#[test]
fn the_fallback_timeout_is_the_templates() {
    let t = read("template.yaml");
    let secs = aurora_clone_manager::lambda::deadline::CONFIGURED_TIMEOUT.as_secs();
    assert!(
        t.lines().any(|l| l.trim() == format!("Timeout: {secs}")),
        "template.yaml's Function Timeout is not {secs}"
    );
}

/// Safe by default: the deployer must name the sources that may be cloned (no default; `*` is an
/// explicit choice, and the role's restore is then unscoped), and clones carry a prefix that
/// scopes the role's RDS writes unless the deployer empties it.
#[test]
fn the_defaults_are_safe() {
    let rendered = render_file("template.yaml", &[("AllowedSources", "orders")]);
    let params = &rendered["Parameters"];
    assert_eq!(params["ClusterIdPrefix"], "clone-", "a prefix by default");
    let t = read("template.yaml");
    let block = t
        .split("\n  AllowedSources:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n  AllowedReaderAccounts:").next())
        .expect("the AllowedSources parameter");
    assert!(!block.contains("Default:"), "no default: {block}");
    assert!(
        block.contains("\"*\""),
        "the explicit any is described: {block}"
    );
    let scoped = role_policy(&rendered).to_string();
    assert!(
        scoped.contains(":cluster:clone-*"),
        "RDS writes scoped by the prefix"
    );
    assert!(
        scoped.contains(":cluster:orders"),
        "restores scoped to the sources"
    );
}
