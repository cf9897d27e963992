//! A usable clone's answer: the `Data` CloudFormation exposes through `Fn::GetAtt`, and the
//! `instance-ready` event the users' automation gets.

use super::{Ready, Request};
use crate::domain::events::InstanceReady;
use crate::domain::{tags, Cluster};
use crate::planner::credentials::secret_name;
use std::collections::BTreeMap;

/// The answer and the event of a usable clone, served by `req`.
pub(super) fn ready(req: &Request, cluster: &Cluster, instance_id: &str) -> Ready {
    Ready {
        data: data(cluster, instance_id),
        event: Box::new(InstanceReady::of_clone(
            cluster,
            instance_id,
            req.stack_id,
            req.logical_id,
        )),
    }
}

/// The `Data` CloudFormation exposes through `Fn::GetAtt` (an empty string for what is unknown).
pub fn data(cluster: &Cluster, instance_id: &str) -> BTreeMap<String, String> {
    let lineage = cluster.lineage();
    // The secret the clone's deed records (a tag could name anyone's).
    let secret_arn = cluster.secret_arn().unwrap_or_default().to_string();
    let secret = match secret_arn.is_empty() {
        true => String::new(),
        false => secret_name(&secret_arn),
    };
    let known = |v: Option<String>| v.unwrap_or_default();
    [
        ("Arn", cluster.arn.clone()),
        ("ClusterId", cluster.id.clone()),
        ("Endpoint", known(cluster.endpoint.clone())),
        ("ReaderEndpoint", known(cluster.reader_endpoint.clone())),
        ("Port", known(cluster.port.map(|p| p.to_string()))),
        ("InstanceId", instance_id.to_string()),
        (
            "SourceClusterId",
            known(lineage.as_ref().map(|l| l.source.clone())),
        ),
        (
            "DataTimestamp",
            known(lineage.map(|l| tags::format_time(l.data_timestamp))),
        ),
        ("PasswordSecret", secret),
        (
            "KmsKeyId",
            known(cluster.tags.get(tags::PASSWORD_KEY).cloned()),
        ),
        ("PasswordSecretArn", secret_arn),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
