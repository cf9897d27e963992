//! The deployable template against the code: every environment variable the code reads is set
//! (defect 2: the original set MAX_AGE where the code read MAX_COPY_AGE), every AWS operation
//! the adapters call is granted (defect 11's sibling: it lacked rds:AddTagsToResource), and no
//! action is a wildcard (defect 11: secretsmanager:* and kms:* on everything).

use aurora_clone_manager::config::VARIABLES;
use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

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

/// Every `service:Action` string in the template.
fn granted_actions(template: &str) -> BTreeSet<String> {
    template
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '*' || c == '-'))
        .filter(|w| {
            let mut parts = w.splitn(2, ':');
            matches!((parts.next(), parts.next()), (Some(s), Some(a)) if ["rds", "ssm", "events", "kms", "secretsmanager", "logs", "dynamodb"].contains(&s) && !a.is_empty() && !a.contains(':'))
        })
        .map(str::to_string)
        .collect()
}

/// The text of one top-level resource of the template (from `  Name:` to the next resource).
fn resource_block(template: &str, name: &str) -> String {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| *l != header);
    let mut block = vec![lines.next().expect("the resource").to_string()];
    block.extend(
        lines
            .take_while(|l| l.is_empty() || l.starts_with("   ") || l.starts_with("  #"))
            .map(str::to_string),
    );
    block.join("\n")
}

/// The AWS operations the adapters call: each names its operation in the `AwsError` it maps to.
fn called_operations() -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (file, service) in [
        ("rds", "rds"),
        ("ssm", "ssm"),
        ("events", "events"),
        ("secrets", "secretsmanager"),
        ("kms", "kms"),
        ("dynamo", "dynamodb"),
    ] {
        let Ok(src) = std::fs::read_to_string(format!(
            "{}/src/adapters/{file}.rs",
            env!("CARGO_MANIFEST_DIR")
        )) else {
            continue;
        };
        for marker in [
            "aws_error(\"",
            "AwsError::permanent(\"",
            "AwsError::transient(\"",
        ] {
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

#[test]
fn every_operation_the_code_calls_is_granted() {
    let granted = granted_actions(&resource_block(&read("template.yaml"), "Role"));
    assert!(
        granted.contains("rds:DescribeDBClusters"),
        "the role's block was found"
    );
    let called = called_operations();
    assert!(
        called.len() >= 15,
        "the scan found too few operations: {called:?}"
    );
    let mut missing: Vec<_> = called.difference(&granted).cloned().collect();
    // Creating with tags needs the tagging permission too.
    if !granted.contains("rds:AddTagsToResource") {
        missing.push("rds:AddTagsToResource".into());
    }
    missing.retain(|op| {
        !op.ends_with(":Build")
            && !op.ends_with(":FailedEntries")
            && !op.ends_with(":EmptyResponse")
    });
    assert!(
        missing.is_empty(),
        "the template does not grant: {missing:?}"
    );
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
    assert!(!t.contains("ReservedConcurrentExecutions: 1"));
    let timeout: u32 = t
        .lines()
        .find_map(|l| l.trim().strip_prefix("Timeout: "))
        .and_then(|v| v.parse().ok())
        .expect("a Timeout");
    assert!(timeout <= 300);
}
