//! The writer instance of a cluster this tool made (a clone or a pool copy): whether RDS takes
//! it now, and how it is set up. A request's progress and maintenance both add writers, by
//! this one rule.

use crate::domain::{ident, tags, Cluster, InstanceRequest, InstanceSettings, Tags};

/// The writer of `cluster` (a clone or a pool copy), where RDS accepts it now (`None`
/// otherwise): set up as its source's writer is (parameter group, CA), never publicly
/// accessible, tagged with the user's tags and the cluster's own tags of this tool.
pub fn writer_request(
    cluster: &Cluster,
    class: &str,
    user_tags: &Tags,
    source_writer: Option<&InstanceSettings>,
) -> Option<InstanceRequest> {
    if !cluster.status.accepts_writer() {
        return None;
    }
    let mut tags = tags::user_tags(user_tags);
    tags.extend(
        cluster
            .tags
            .iter()
            .filter(|(k, _)| k.starts_with(tags::PREFIX))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    Some(InstanceRequest {
        instance_id: ident::writer_instance_id(&cluster.id),
        cluster_id: cluster.id.clone(),
        engine: cluster.engine.clone(),
        class: class.to_string(),
        tags,
        settings: InstanceSettings {
            publicly_accessible: false,
            ..source_writer.cloned().unwrap_or_default()
        },
    })
}
