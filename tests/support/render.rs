//! The template as CloudFormation renders it for a set of parameters, from
//! `scripts/render_policy.py --all` (conditions evaluated, intrinsic functions resolved, pseudo
//! parameters and attributes replaced by fixed example values: account 123456789012, region
//! eu-west-1, stack aurora-clone-manager).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-west-1";
pub const STACK: &str = "aurora-clone-manager";

/// The project's virtualenv Python (it has PyYAML through cfn-lint), else the system's.
fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Renders `template` (a path under the project) with these parameter overrides.
pub fn render_file(template: &str, params: &[(&str, &str)]) -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new(python());
    cmd.arg(format!("{root}/scripts/render_policy.py"))
        .arg("--all")
        .arg("--template")
        .arg(format!("{root}/{template}"));
    for (k, v) in params {
        cmd.arg("--param").arg(format!("{k}={v}"));
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("scripts/render_policy.py: {e} (run ./build.sh test once: it makes .venv)")
    });
    assert!(
        out.status.success(),
        "render_policy.py {params:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the renderer prints JSON")
}

/// Renders the clone manager's template (`TEMPLATE_UNDER_TEST`, a path under the project, names
/// another: how the tests were shown to fail on the template before issue 10).
///
/// The tests were written for any source and no prefix unless they say otherwise: those two
/// parameters are passed so (`AllowedSources` has no default); the template's own defaults are
/// held by `template.rs`.
pub fn render(params: &[(&str, &str)]) -> Value {
    let given = |name: &str| params.iter().any(|(k, _)| *k == name);
    let implied = [("AllowedSources", "*"), ("ClusterIdPrefix", "")];
    let mut params: Vec<(&str, &str)> = params.to_vec();
    params.extend(implied.into_iter().filter(|(k, _)| !given(k)));
    let params = params.as_slice();
    let path = std::env::var("TEMPLATE_UNDER_TEST").unwrap_or_else(|_| "template.yaml".into());
    render_file(&path, params)
}

/// A resource's rendered properties.
pub fn properties<'a>(rendered: &'a Value, resource: &str) -> &'a Value {
    let r = &rendered["Resources"][resource];
    assert!(r.is_object(), "no resource {resource} in this rendering");
    &r["Properties"]
}

/// The Role's inline policy document.
pub fn role_policy(rendered: &Value) -> &Value {
    &properties(rendered, "Role")["Policies"][0]["PolicyDocument"]
}

/// The function's role ARN, as the function sees it (`ROLE_ARN`).
pub fn role_arn(rendered: &Value) -> String {
    properties(rendered, "Function")["Environment"]["Variables"]["ROLE_ARN"]
        .as_str()
        .expect("ROLE_ARN")
        .to_string()
}

pub fn arn(service: &str, rest: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{rest}")
}

/// A file of the project, as text.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}
