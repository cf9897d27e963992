//! The CloudFormation custom-resource protocol: the request as it arrives, the physical ids this
//! tool hands out, the response body with its size rules (`response`), and the ResponseURL:
//! where an answer may go and when CloudFormation sent the request (`url`).

pub mod home;
pub mod response;
pub mod url;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use home::Home;
pub use response::{Outcome, ResponseBody, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// A custom-resource request. `Debug` leaves out the ResponseURL: it is a write capability and
/// must never reach a log.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnRequest {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    #[serde(default)]
    pub resource_type: String,
    pub logical_resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_properties: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_resource_properties: Option<Value>,
}

impl std::fmt::Debug for CfnRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfnRequest")
            .field("request_type", &self.request_type)
            .field("stack_id", &self.stack_id)
            .field("request_id", &self.request_id)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("physical_resource_id", &self.physical_resource_id)
            .finish_non_exhaustive()
    }
}

impl CfnRequest {
    /// True when a JSON event looks like a custom-resource request.
    pub fn matches(event: &Value) -> bool {
        event.get("RequestType").is_some() && event.get("ResponseURL").is_some()
    }

    /// What can be answered of a request that does not parse: its ResponseURL, RequestId,
    /// StackId and LogicalResourceId as strings. The type is taken as an Update (so a FAILED
    /// answer keeps the resource's physical id) unless it says Create or Delete.
    pub fn salvage(event: &Value) -> Option<CfnRequest> {
        let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_string);
        let request_type = match event.get("RequestType").and_then(Value::as_str) {
            Some("Create") => RequestType::Create,
            Some("Delete") => RequestType::Delete,
            _ => RequestType::Update,
        };
        Some(CfnRequest {
            request_type,
            response_url: text("ResponseURL")?,
            stack_id: text("StackId")?,
            request_id: text("RequestId")?,
            resource_type: text("ResourceType").unwrap_or_default(),
            logical_resource_id: text("LogicalResourceId")?,
            physical_resource_id: text("PhysicalResourceId"),
            resource_properties: Value::Null,
            old_resource_properties: None,
        })
    }
}

/// Prefix of the physical id a FAILED Create answers with: it names no cluster, so a later
/// Delete can never mistake it for one, and it carries the request id to find leftovers by tag.
pub const FAILED_ID_PREFIX: &str = "aurora-clone-manager:failed:";

/// What a physical resource id says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhysicalId {
    /// An RDS cluster ARN: the clone this resource reported.
    Cluster(String),
    /// A FAILED Create of the given request.
    Failed(String),
    /// An id this tool did not make (CloudFormation generates one for a cancelled Create).
    Foreign,
}

impl PhysicalId {
    /// What `id` says, with an ARN counted as a cluster only when spelled as RDS spells it
    /// (any partition, region and account: see `parse_in` for this function's own).
    pub fn parse(id: Option<&str>) -> PhysicalId {
        PhysicalId::parse_in(id, None)
    }

    /// What `id` says, with an ARN counted as a cluster only when it lies in `home` (when given).
    pub fn parse_in(id: Option<&str>, home: Option<&Home>) -> PhysicalId {
        let Some(id) = id else {
            return PhysicalId::Foreign;
        };
        if let Some(request) = id.strip_prefix(FAILED_ID_PREFIX) {
            return PhysicalId::Failed(request.to_string());
        }
        match home::cluster_of(id, home) {
            Some(cluster) => PhysicalId::Cluster(cluster.to_string()),
            None => PhysicalId::Foreign,
        }
    }

    /// True when `id` looks like an ARN at all, in any spelling: one that names no cluster of
    /// this function is refused, never read as an id CloudFormation generated.
    pub fn looks_like_arn(id: &str) -> bool {
        id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:"))
    }

    pub fn failed(request_id: &str) -> String {
        format!("{FAILED_ID_PREFIX}{request_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_ids() {
        let arn = "arn:aws:rds:eu-west-1:123456789012:cluster:orders-clone";
        assert_eq!(
            PhysicalId::parse(Some(arn)),
            PhysicalId::Cluster("orders-clone".into())
        );
        assert_eq!(
            PhysicalId::parse(Some(&PhysicalId::failed("r1"))),
            PhysicalId::Failed("r1".into())
        );
        assert_eq!(
            PhysicalId::parse(Some("mystack-Clone-1XYZ")),
            PhysicalId::Foreign
        );
        assert_eq!(
            PhysicalId::parse(Some("arn:aws:rds:eu-west-1:1:db:orders")),
            PhysicalId::Foreign
        );
    }

    #[test]
    fn debug_never_shows_the_response_url() {
        let req: CfnRequest = serde_json::from_value(serde_json::json!({
            "RequestType": "Create", "ResponseURL": "https://s3.example/secret-signature",
            "StackId": "s", "RequestId": "r", "LogicalResourceId": "L", "ResourceProperties": {}
        }))
        .unwrap();
        assert!(!format!("{req:?}").contains("secret-signature"));
    }
}
