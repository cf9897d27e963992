//! What an Update means for the clone: a replacement (a new clone, a new ARN; the old one is left
//! for CloudFormation's own Delete) or a change in place (tags).

use crate::domain::{tags, Cluster, Tags};
use crate::properties::CloneProperties;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// Make a new clone; the string says why.
    Replace(String),
    /// Keep the clone; set `add` tags and remove `remove` keys.
    InPlace { add: Tags, remove: Vec<String> },
}

pub fn decide(
    old: Option<&CloneProperties>,
    new: &CloneProperties,
    current: Option<&Cluster>,
) -> Revision {
    let Some(cluster) = current else {
        return Revision::Replace("the current clone no longer exists".into());
    };
    let Some(old) = old else {
        return Revision::Replace("the previous properties are unreadable".into());
    };
    if old.source_cluster_id != new.source_cluster_id {
        return Revision::Replace(format!(
            "SourceClusterId changed from {} to {}",
            old.source_cluster_id, new.source_cluster_id
        ));
    }
    if old.instance_class != new.instance_class {
        return Revision::Replace("InstanceClass changed".into());
    }
    if new.cluster_id.is_some() && new.cluster_id.as_deref() != Some(cluster.id.as_str()) {
        return Revision::Replace("ClusterId changed".into());
    }
    let data_time = cluster.lineage().map(|l| l.data_timestamp);
    if let (Some(since), Some(data)) = (new.copy_created_since, data_time) {
        if since > data && old.copy_created_since != new.copy_created_since {
            return Revision::Replace(
                "CopyCreatedSince is later than the clone's data: refreshing".into(),
            );
        }
    }
    let current_user_tags = tags::user_tags(&cluster.tags);
    let wanted = tags::user_tags(&new.tags);
    let add: Tags = wanted
        .iter()
        .filter(|(k, v)| current_user_tags.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .tags
        .keys()
        .filter(|k| !wanted.contains_key(*k) && !k.starts_with(tags::PREFIX))
        .cloned()
        .collect();
    Revision::InPlace { add, remove }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Lineage;
    use serde_json::json;
    use time::macros::datetime;

    fn props(v: serde_json::Value) -> CloneProperties {
        CloneProperties::parse(&v).unwrap()
    }

    fn clone_cluster() -> Cluster {
        let mut c = Cluster::new("orders-clone", "available");
        Lineage {
            root: "orders".into(),
            source: "orders".into(),
            data_timestamp: datetime!(2026-01-10 00:00 UTC),
        }
        .write(&mut c.tags);
        c.tags.insert("team".into(), "a".into());
        c
    }

    #[test]
    fn what_the_clone_is_makes_a_replacement() {
        let old = props(json!({"SourceClusterId": "orders", "Tags": {"team": "a"}}));
        let c = clone_cluster();
        for new in [
            json!({"SourceClusterId": "billing"}),
            json!({"SourceClusterId": "orders", "InstanceClass": "db.r7g.large"}),
            json!({"SourceClusterId": "orders", "ClusterId": "other"}),
        ] {
            assert!(matches!(
                decide(Some(&old), &props(new), Some(&c)),
                Revision::Replace(_)
            ));
        }
        assert!(matches!(
            decide(Some(&old), &old, None),
            Revision::Replace(_)
        ));
    }

    #[test]
    fn copy_created_since_refreshes_only_when_raised_past_the_data() {
        let old = props(
            json!({"SourceClusterId": "orders", "CopyCreatedSince": "2026-01-01", "Tags": {"team": "a"}}),
        );
        let c = clone_cluster();
        let later = props(
            json!({"SourceClusterId": "orders", "CopyCreatedSince": "2026-02-01", "Tags": {"team": "a"}}),
        );
        assert!(matches!(
            decide(Some(&old), &later, Some(&c)),
            Revision::Replace(_)
        ));
        let earlier = props(
            json!({"SourceClusterId": "orders", "CopyCreatedSince": "2026-01-05", "Tags": {"team": "a"}}),
        );
        assert_eq!(
            decide(Some(&old), &earlier, Some(&c)),
            Revision::InPlace {
                add: Tags::new(),
                remove: vec![]
            }
        );
    }

    #[test]
    fn tags_change_in_place() {
        let old = props(json!({"SourceClusterId": "orders", "Tags": {"team": "a", "gone": "x"}}));
        let new = props(json!({"SourceClusterId": "orders", "Tags": {"team": "b"}}));
        let Revision::InPlace { add, remove } = decide(Some(&old), &new, Some(&clone_cluster()))
        else {
            panic!("replaced")
        };
        assert_eq!(add.get("team").map(String::as_str), Some("b"));
        assert_eq!(remove, vec!["gone".to_string()]);
    }
}
