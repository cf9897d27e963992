//! A small evaluator of IAM policy documents: enough of AWS's rules for the statements this
//! project writes, and strict about the rest (an operator or element it does not know fails the
//! test instead of being guessed).
//!
//! - Effect Allow and Deny (an explicit Deny wins); Action/NotAction with `*` and `?`, case
//!   insensitive; Resource/NotResource with wildcards; Principal/NotPrincipal for resource
//!   policies (key and secret policies).
//! - Condition: every operator must hold, every key of an operator must hold, and a key holds if
//!   any of the policy's values matches (for the negated operators: none does). A key missing
//!   from the request fails a condition, except with `...IfExists`, the negated operators, `Null`
//!   and `ForAllValues:`; set operators `ForAllValues:` and `ForAnyValue:`. Operators:
//!   String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null.
//!   Key names are case-insensitive, values are not (except IgnoreCase and Bool).

use serde_json::Value;
use std::collections::BTreeMap;

/// One authorization AWS makes for a call: a principal, an action, a resource, the context.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(principal: &str, action: &str, resource: &str) -> Request {
        Request {
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    /// Adds a context key (one value; call again to add more values).
    pub fn with(mut self, key: &str, value: &str) -> Request {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    pub fn request_tags(mut self, tags: &[(&str, &str)]) -> Request {
        for (k, v) in tags {
            self = self
                .with(&format!("aws:RequestTag/{k}"), v)
                .with("aws:TagKeys", k);
        }
        self
    }

    pub fn resource_tags(mut self, tags: &[(&str, &str)]) -> Request {
        for (k, v) in tags {
            self = self.with(&format!("aws:ResourceTag/{k}"), v);
        }
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// An Allow statement matched because it names the principal's account (the account root):
    /// the principal's own IAM policies must allow it too.
    AllowedIfIamAllows,
    Denied,
    NotAllowed,
}

/// `*` matches any run of characters, `?` any one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        other => panic!("a policy value that is not a string or a list: {other}"),
    }
}

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        other => panic!("Statement is {other}"),
    }
}

fn check_elements(s: &Value) {
    let known = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    for k in s.as_object().expect("a statement is an object").keys() {
        assert!(known.contains(&k.as_str()), "unknown element {k} in {s}");
    }
    for key in ["Resource", "NotResource"] {
        for r in s.get(key).map(strings).unwrap_or_default() {
            assert!(!r.contains("${"), "unrendered or policy variable in {r}");
        }
    }
}

fn action_matches(s: &Value, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    let any = |v: &Value| {
        strings(v)
            .iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), &action))
    };
    match (s.get("Action"), s.get("NotAction")) {
        (Some(a), None) => any(a),
        (None, Some(n)) => !any(n),
        _ => panic!("a statement needs exactly one of Action and NotAction: {s}"),
    }
}

fn resource_matches(s: &Value, resource: &str) -> bool {
    let any = |v: &Value| strings(v).iter().any(|p| wildcard(p, resource));
    match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), None) => any(r),
        (None, Some(n)) => !any(n),
        (None, None) => true, // key policies may omit it only with "*"; none here do
        _ => panic!("Resource and NotResource together: {s}"),
    }
}

/// How a principal element names the caller: directly, through the caller's account, or not.
#[derive(PartialEq)]
enum Named {
    Directly,
    ThroughAccount,
    No,
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

fn principal_named(spec: &Value, principal: &str) -> Named {
    let one = |p: &str| {
        if p == "*" || p == principal {
            Named::Directly
        } else if (p.ends_with(":root") && account_of(p) == account_of(principal))
            || (p.len() == 12 && p == account_of(principal))
        {
            Named::ThroughAccount
        } else {
            Named::No
        }
    };
    let best = |vs: Vec<String>| {
        let named: Vec<Named> = vs.iter().map(|p| one(p)).collect();
        if named.contains(&Named::Directly) {
            Named::Directly
        } else if named.contains(&Named::ThroughAccount) {
            Named::ThroughAccount
        } else {
            Named::No
        }
    };
    match spec {
        Value::String(s) if s == "*" => Named::Directly,
        Value::Object(m) => {
            let mut out = Named::No;
            for (kind, v) in m {
                let n = match kind.as_str() {
                    "AWS" => best(strings(v)),
                    "Service" | "Federated" => {
                        if strings(v).iter().any(|p| p == principal) {
                            Named::Directly
                        } else {
                            Named::No
                        }
                    }
                    other => panic!("unknown principal type {other}"),
                };
                if n == Named::Directly || (n == Named::ThroughAccount && out == Named::No) {
                    out = n;
                }
            }
            out
        }
        other => panic!("a Principal that is neither \"*\" nor an object: {other}"),
    }
}

fn values_match(op: &str, pattern: &str, value: &str) -> bool {
    match op {
        "StringEquals" | "ArnEquals" => pattern == value,
        "StringEqualsIgnoreCase" => pattern.eq_ignore_ascii_case(value),
        "StringLike" | "ArnLike" => wildcard(pattern, value),
        "Bool" => pattern.eq_ignore_ascii_case(value),
        other => panic!("condition operator {other} is not evaluated here: add it"),
    }
}

/// One condition operator over one key: does it hold for this request?
fn condition_holds(operator: &str, key: &str, policy_values: &[String], req: &Request) -> bool {
    let present = req.context.get(&key.to_ascii_lowercase());
    if operator == "Null" {
        assert_eq!(policy_values.len(), 1, "Null takes one value");
        let wants_absent = policy_values[0].eq_ignore_ascii_case("true");
        return wants_absent == present.is_none();
    }
    let (set, rest) = match operator.split_once(':') {
        Some((s @ ("ForAllValues" | "ForAnyValue"), r)) => (Some(s), r),
        Some((other, _)) => panic!("unknown set operator {other}"),
        None => (None, operator),
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (base, negated) = match rest {
        "StringNotEquals" => ("StringEquals", true),
        "StringNotEqualsIgnoreCase" => ("StringEqualsIgnoreCase", true),
        "StringNotLike" => ("StringLike", true),
        "ArnNotEquals" => ("ArnEquals", true),
        "ArnNotLike" => ("ArnLike", true),
        other => (other, false),
    };
    let one = |v: &str| {
        let any = policy_values.iter().any(|p| values_match(base, p, v));
        any != negated
    };
    match (set, present) {
        (Some("ForAllValues"), None) => true,
        (Some("ForAllValues"), Some(vs)) => vs.iter().all(|v| one(v)),
        (Some(_), None) => false,
        (Some(_), Some(vs)) => vs.iter().any(|v| one(v)),
        (None, None) => if_exists || negated,
        (None, Some(vs)) => {
            assert_eq!(
                vs.len(),
                1,
                "{key} has several values: use ForAllValues/ForAnyValue"
            );
            one(&vs[0])
        }
    }
}

fn conditions_hold(s: &Value, req: &Request) -> bool {
    let Some(cond) = s.get("Condition") else {
        return true;
    };
    cond.as_object()
        .expect("Condition is an object")
        .iter()
        .all(|(op, keys)| {
            keys.as_object()
                .expect("an operator maps keys to values")
                .iter()
                .all(|(key, values)| condition_holds(op, key, &strings(values), req))
        })
}

/// Evaluates one policy document. `resource_policy`: the Principal element applies.
pub fn evaluate(policy: &Value, req: &Request, resource_policy: bool) -> Decision {
    let mut allowed = Decision::NotAllowed;
    for s in statements(policy) {
        check_elements(s);
        let named = if resource_policy {
            match (s.get("Principal"), s.get("NotPrincipal")) {
                (Some(p), None) => principal_named(p, &req.principal),
                _ => panic!("a resource policy statement needs a Principal: {s}"),
            }
        } else {
            assert!(
                s.get("Principal").is_none(),
                "an identity policy with a Principal: {s}"
            );
            Named::Directly
        };
        if named == Named::No
            || !action_matches(s, &req.action)
            || !resource_matches(s, &req.resource)
            || !conditions_hold(s, req)
        {
            continue;
        }
        match s["Effect"].as_str() {
            Some("Deny") => return Decision::Denied,
            Some("Allow") if named == Named::Directly => allowed = Decision::Allowed,
            Some("Allow") if allowed == Decision::NotAllowed => {
                allowed = Decision::AllowedIfIamAllows
            }
            Some("Allow") => {}
            other => panic!("Effect {other:?}"),
        }
    }
    allowed
}

/// Is an identity policy's answer an Allow?
pub fn allows(policy: &Value, req: &Request) -> bool {
    evaluate(policy, req, false) == Decision::Allowed
}

/// Same-account access to a resource with a resource policy (a key policy, a secret policy):
/// allowed if the resource policy names the principal, or names its account and the principal's
/// IAM policy allows; `iam: None` stands for a principal whose IAM allows everything (an
/// administrator). For a KMS key, the key policy must allow one way or the other.
pub fn resource_allows(resource_policy: &Value, iam: Option<&Value>, req: &Request) -> bool {
    let iam_allows = iam.is_none_or(|p| allows(p, req));
    let iam_denies = iam.is_some_and(|p| evaluate(p, req, false) == Decision::Denied);
    if iam_denies {
        return false;
    }
    match evaluate(resource_policy, req, true) {
        Decision::Allowed => true,
        Decision::AllowedIfIamAllows => iam_allows,
        Decision::Denied => false,
        Decision::NotAllowed => false,
    }
}
