//! The response body CloudFormation reads from the ResponseURL. It must be at most 4096 bytes,
//! carry `Reason` as a string whenever present, and is sent with an empty Content-Type and a
//! byte-accurate Content-Length (see `adapters::http`).

use super::CfnRequest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_BODY_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// What a request ended in, before it is shaped into a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub physical_id: String,
    pub data: BTreeMap<String, String>,
}

impl Outcome {
    pub fn success(physical_id: impl Into<String>, data: BTreeMap<String, String>) -> Outcome {
        Outcome {
            status: Status::Success,
            reason: String::new(),
            physical_id: physical_id.into(),
            data,
        }
    }

    pub fn failed(physical_id: impl Into<String>, reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Failed,
            reason: reason.into(),
            physical_id: physical_id.into(),
            data: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseBody {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

impl ResponseBody {
    pub fn new(request: &CfnRequest, outcome: Outcome) -> ResponseBody {
        let physical_resource_id = if outcome.physical_id.is_empty() {
            super::PhysicalId::failed(&request.request_id)
        } else {
            outcome.physical_id
        };
        ResponseBody {
            status: outcome.status,
            reason: outcome.reason,
            physical_resource_id,
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data: outcome.data,
        }
    }

    /// The body as sent: at most 4096 bytes, for any input. A long reason is cut at a
    /// character boundary and marked; should Data overflow, it is dropped and the reason says
    /// so; a physical id over CloudFormation's 1 KB becomes the failed id. Should the ids copied
    /// from the request alone overflow (no real request does), every field is capped. A fixed
    /// sequence of steps: it always ends.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = self.clone();
        if body.status == Status::Failed && body.reason.is_empty() {
            body.reason = "failed without a reason".into();
        }
        for step in 0..4 {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let Some(excess) = bytes.len().checked_sub(MAX_BODY_BYTES).filter(|e| *e > 0) else {
                return bytes;
            };
            match step {
                0 if body.reason.len() > 16 => body.reason = cut(&body.reason, excess),
                1 if !body.data.is_empty() => {
                    body.data.clear();
                    body.reason = "response Data exceeded 4096 bytes and was dropped".into();
                }
                2 if body.physical_resource_id.len() > MAX_PHYSICAL_ID_BYTES => {
                    body.physical_resource_id = super::PhysicalId::failed(&body.request_id);
                }
                _ => {}
            }
        }
        for field in [
            &mut body.reason,
            &mut body.physical_resource_id,
            &mut body.stack_id,
            &mut body.request_id,
            &mut body.logical_resource_id,
        ] {
            *field = cap(field, FIELD_CAP_BYTES);
        }
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// CloudFormation's limit on a physical resource id.
const MAX_PHYSICAL_ID_BYTES: usize = 1024;
/// The last resort: five capped fields and the keys stay well under 4096 bytes.
const FIELD_CAP_BYTES: usize = 600;

/// JSON-escaped length of a character.
fn escaped(c: char) -> usize {
    serde_json::to_string(&c).map(|s| s.len() - 2).unwrap_or(6)
}

/// The longest prefix of `text` whose JSON form is at most `max` bytes.
fn cap(text: &str, max: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += escaped(*c);
            used <= max
        })
        .collect()
}

/// Cuts `reason` so that its JSON form is at least `excess` bytes (plus the marker) shorter,
/// at a character boundary. Characters are measured as JSON writes them (an escaped control
/// character costs six bytes), so the cut is neither too short nor too long.
fn cut(reason: &str, excess: usize) -> String {
    const MARK: &str = " [truncated]";
    let base = reason.strip_suffix(MARK).unwrap_or(reason);
    let total: usize = base.chars().map(escaped).sum();
    let budget = total.saturating_sub(excess + MARK.len());
    let mut used = 0;
    let kept: String = base
        .chars()
        .take_while(|c| {
            used += escaped(*c);
            used <= budget
        })
        .collect();
    format!("{kept}{MARK}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn request() -> CfnRequest {
        serde_json::from_value(json!({"RequestType": "Create", "ResponseURL": "https://x",
            "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/1", "RequestId": "r-1",
            "LogicalResourceId": "Clone", "ResourceProperties": {}}))
        .unwrap()
    }

    #[test]
    fn long_reasons_in_any_alphabet_fit_in_4096_bytes() {
        for unit in ["x", "é", "雪", "🦀", "\u{1}", "\""] {
            let reason = unit.repeat(5000);
            let body = ResponseBody::new(&request(), Outcome::failed("p", reason));
            let bytes = body.to_bytes();
            assert!(bytes.len() <= MAX_BODY_BYTES, "{unit}: {}", bytes.len());
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            assert!(v["Reason"].as_str().unwrap().ends_with("[truncated]"));
            assert!(
                bytes.len() > 3000,
                "{unit}: cut far too much: {}",
                bytes.len()
            );
        }
    }

    #[test]
    fn reason_is_always_a_string_and_ids_are_copied() {
        let body = ResponseBody::new(&request(), Outcome::success("arn:p", BTreeMap::new()));
        let v: Value = serde_json::from_slice(&body.to_bytes()).unwrap();
        assert!(v["Reason"].is_string());
        assert_eq!(v["RequestId"], "r-1");
        assert_eq!(v["LogicalResourceId"], "Clone");
        assert_eq!(v["Status"], "SUCCESS");
        let failed = ResponseBody::new(&request(), Outcome::failed("", ""));
        let v: Value = serde_json::from_slice(&failed.to_bytes()).unwrap();
        assert_eq!(v["PhysicalResourceId"], "aurora-clone-manager:failed:r-1");
        assert!(!v["Reason"].as_str().unwrap().is_empty());
    }
}
