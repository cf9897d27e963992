//! What an invocation was asked to do, read once from its payload.

use crate::cfn::CfnRequest;
use crate::domain::ident;
use serde_json::Value;

/// What an invocation was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CloudFormation(Box<CfnRequest>),
    /// A custom-resource request that does not parse, but can still be answered FAILED.
    Malformed(Box<CfnRequest>, String),
    /// The follow-up rule's tick: advance pending work.
    FollowUp,
    /// An RDS event about a cluster or instance (its identifier): pending work may move on.
    Rds(Option<String>),
    /// The maintenance schedule: the original's constant input or a `Scheduled Event` envelope.
    Maintain,
    /// A clone's expiry schedule fired.
    Expire(String),
    /// A refresh of a clone asked for (its schedule fired, or someone invoked the function).
    Refresh(String),
    /// A preparer's report: its single-use token, `ok` or not, and why.
    Prepared {
        token: String,
        ok: bool,
        reason: Option<String>,
    },
    Unknown(String),
}

impl Event {
    /// The invocation kind metrics are kept by.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::CloudFormation(_) | Event::Malformed(..) => "request",
            Event::FollowUp | Event::Rds(_) => "follow-up",
            Event::Maintain | Event::Expire(_) | Event::Refresh(_) => "maintenance",
            Event::Prepared { .. } => "request",
            Event::Unknown(_) => "other",
        }
    }

    pub fn classify(v: &Value) -> Event {
        if CfnRequest::matches(v) {
            return match serde_json::from_value::<CfnRequest>(v.clone()) {
                Ok(r) => Event::CloudFormation(Box::new(r)),
                Err(e) => match CfnRequest::salvage(v) {
                    Some(r) => Event::Malformed(
                        Box::new(r),
                        format!("malformed CloudFormation request: {e}"),
                    ),
                    None => Event::Unknown(format!(
                        "malformed CloudFormation request without a usable ResponseURL: {e}"
                    )),
                },
            };
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
        match (text("source"), text("action"), text("detail-type")) {
            ("aurora-clone-manager", "follow-up", _) => Event::FollowUp,
            ("aurora-clone-manager", "expire", _) => match ident::check(text("cluster")) {
                Ok(()) => Event::Expire(text("cluster").to_string()),
                Err(why) => Event::Unknown(format!("an expiry about no valid cluster: {why}")),
            },
            ("aurora-clone-manager", "refresh", _) => match ident::check(text("cluster")) {
                Ok(()) => Event::Refresh(text("cluster").to_string()),
                Err(why) => Event::Unknown(format!("a refresh of no valid cluster: {why}")),
            },
            ("aurora-clone-manager", "prepared", _) => prepared(v),
            ("aws.rds", _, _) => Event::Rds(
                v.pointer("/detail/SourceIdentifier")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
            ("events", "maintain!", _) | ("aws.events", _, "Scheduled Event") => Event::Maintain,
            (source, _, _) => Event::Unknown(format!("unrecognised event from source {source:?}")),
        }
    }
}

/// A preparer's report: a well-formed token (64 hex digits) and a status of `ok` or `failed`.
/// Nothing of a malformed one is echoed (it may be someone's token).
fn prepared(v: &Value) -> Event {
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    let token = text("token").filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let ok = match text("status") {
        Some("ok") => Some(true),
        Some("failed") => Some(false),
        _ => None,
    };
    match (token, ok) {
        (Some(token), Some(ok)) => Event::Prepared {
            token: token.to_ascii_lowercase(),
            ok,
            reason: text("reason").map(str::to_string),
        },
        _ => {
            Event::Unknown("a preparation report needs a token and a status of ok or failed".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_classified() {
        assert_eq!(
            Event::classify(&json!({"source": "events", "action": "maintain!"})),
            Event::Maintain
        );
        let scheduled = json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "resources": ["arn:aws:events:us-east-1:1:rule/m"], "detail": {}});
        assert_eq!(Event::classify(&scheduled), Event::Maintain);
        assert_eq!(
            Event::classify(&json!({"source": "aurora-clone-manager", "action": "follow-up"})),
            Event::FollowUp
        );
        assert_eq!(
            Event::classify(
                &json!({"source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {"SourceIdentifier": "clone-a"}})
            ),
            Event::Rds(Some("clone-a".into()))
        );
        assert!(matches!(
            Event::classify(&json!({"hello": 1})),
            Event::Unknown(_)
        ));
        assert!(
            matches!(
                Event::classify(&json!({"RequestType": "Create", "ResponseURL": "x"})),
                Event::Unknown(_)
            ),
            "malformed, and nothing to answer with"
        );
        let answerable = json!({"RequestType": "Destroy", "ResponseURL": "https://x", "StackId": "s",
            "RequestId": "r", "LogicalResourceId": "L"});
        assert!(matches!(Event::classify(&answerable), Event::Malformed(..)));
    }

    /// An expiry names one valid cluster identifier; anything else is ignored before any AWS
    /// call (an empty one would list the account).
    #[test]
    fn expiry_events_name_a_valid_cluster() {
        let expire =
            |c: Value| json!({"source": "aurora-clone-manager", "action": "expire", "cluster": c});
        assert_eq!(
            Event::classify(&expire(json!("qa-clone"))),
            Event::Expire("qa-clone".into())
        );
        let token = "ab".repeat(32);
        let report = json!({"source": "aurora-clone-manager", "action": "prepared", "token": token, "status": "failed", "reason": "masking broke"});
        assert_eq!(
            Event::classify(&report),
            Event::Prepared {
                token: token.clone(),
                ok: false,
                reason: Some("masking broke".into())
            }
        );
        for bad in [
            json!({"token": "short", "status": "ok"}),
            json!({"token": token, "status": "maybe"}),
        ] {
            let mut e = bad.clone();
            e["source"] = json!("aurora-clone-manager");
            e["action"] = json!("prepared");
            assert!(
                matches!(Event::classify(&e), Event::Unknown(ref why) if !why.contains("short")),
                "{bad}"
            );
        }
        let refresh =
            |c: Value| json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": c});
        assert_eq!(
            Event::classify(&refresh(json!("qa-clone"))),
            Event::Refresh("qa-clone".into())
        );
        for bad in [json!(""), json!(null), json!("a--b"), json!("x".repeat(64))] {
            assert!(
                matches!(Event::classify(&expire(bad.clone())), Event::Unknown(_)),
                "{bad}"
            );
            assert!(
                matches!(Event::classify(&refresh(bad.clone())), Event::Unknown(_)),
                "{bad}"
            );
        }
    }
}
