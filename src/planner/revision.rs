//! What an Update means for the clone: a replacement (a new clone, a new ARN; the old one is left
//! for CloudFormation's own Delete) or a change in place (tags).

use super::action::{Action, Tagged};
use crate::domain::capacity::{Capacity, DEFAULT_CLONE_CAPACITY, SERVERLESS};
use crate::domain::properties::CloneProperties;
use crate::domain::{tags, Cluster, Tags};

#[derive(Debug, Clone, PartialEq)]
pub enum Revision {
    /// Make a new clone; the string says why.
    Replace(String),
    /// Keep the clone; set `add` tags, remove `remove` keys, change its credentials, and its
    /// Serverless v2 range where `capacity` says.
    InPlace {
        add: Tags,
        remove: Vec<String>,
        credentials: Credentials,
        capacity: Option<Capacity>,
    },
}

/// What an in-place Update does to the clone's own password and its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Unchanged,
    /// `SetPassword` turned on: set a password, as Create would.
    Enable,
    /// `SetPassword` turned off: remove the secret (and a key made for it).
    Disable,
    /// `AccessPrincipalArns` changed: rewrite the secret's (and key's) policy.
    Readers,
    /// The key or the secret's prefix changed: a new secret and password.
    Renew,
}

fn credentials(old: &CloneProperties, new: &CloneProperties) -> Credentials {
    let key_changed = old.kms_key_id != new.kms_key_id
        || old.force_create_kms_key != new.force_create_kms_key
        || old.secret_prefix != new.secret_prefix;
    match (old.set_password, new.set_password) {
        (false, true) => Credentials::Enable,
        (true, false) => Credentials::Disable,
        (true, true) if key_changed => Credentials::Renew,
        (true, true) if old.access_principal_arns != new.access_principal_arns => {
            Credentials::Readers
        }
        _ => Credentials::Unchanged,
    }
}

/// What the Update changes. The old properties are compared with the new ones (never the new
/// ones with what the clone happens to be called: a generated or NoFailOnExistingCluster id is
/// not a change). Old properties this version cannot read (shapes an older version accepted)
/// never make a replacement: what can be compared with the clone itself changes in place.
///
/// Every property has its rule below: the new properties are destructured whole, so a property
/// added to `CloneProperties` does not compile until its Update rule is written here.
pub fn decide(
    old: Option<&CloneProperties>,
    new: &CloneProperties,
    current: Option<&Cluster>,
) -> Revision {
    let Some(cluster) = current else {
        return Revision::Replace("the current clone no longer exists".into());
    };
    let Some(old) = old else {
        return in_place_against(cluster, new);
    };
    let CloneProperties {
        // What the clone is: a change makes a new clone.
        source_cluster_id,
        cluster_id,
        instance_class,
        copy_created_since,
        // In place: tags on everything made for the resource.
        tags,
        // In place: the clone's password, secret, key and readers (`credentials`).
        set_password: _,
        access_principal_arns: _,
        kms_key_id: _,
        force_create_kms_key: _,
        secret_prefix: _,
        // In place: the writer's Serverless v2 range.
        capacity,
        // In place, by the flow: the expiry schedules and tags (`planner::expiry::change`).
        expiry: _,
        // In place, by the flow: the clone's recurring refresh schedule.
        refresh: _,
        // Create-only: the clone was prepared when made; a change applies to its next refresh.
        prepare: _,
        // Where and how a new clone is placed and named: nothing to change on one that exists.
        copy_ok: _,
        no_fail_on_existing_cluster: _,
        purge_obsolete_copies: _,
        // How long CloudFormation waits for each request, not a property of the clone.
        service_timeout: _,
    } = new;
    let what = Replacing {
        source_cluster_id,
        cluster_id,
        instance_class,
        copy_created_since,
    };
    if let Some(why) = what.replaces(old, cluster) {
        return Revision::Replace(why);
    }
    let (add, remove) = retag(&old.tags, tags, cluster);
    Revision::InPlace {
        add,
        remove,
        credentials: credentials(old, new),
        capacity: capacity_change(old.capacity, *capacity, instance_class.as_deref()),
    }
}

/// The properties whose change makes a new clone.
struct Replacing<'a> {
    source_cluster_id: &'a String,
    cluster_id: &'a Option<String>,
    instance_class: &'a Option<String>,
    copy_created_since: &'a Option<time::OffsetDateTime>,
}

impl Replacing<'_> {
    /// Why the Update needs a new clone, if it does.
    fn replaces(&self, old: &CloneProperties, cluster: &Cluster) -> Option<String> {
        if &old.source_cluster_id != self.source_cluster_id {
            return Some(format!(
                "SourceClusterId changed from {} to {}",
                old.source_cluster_id, self.source_cluster_id
            ));
        }
        if &old.instance_class != self.instance_class {
            return Some("InstanceClass changed".into());
        }
        let lower = |id: &Option<String>| id.as_deref().map(str::to_ascii_lowercase);
        if self.cluster_id.is_some()
            && lower(self.cluster_id) != lower(&old.cluster_id)
            && lower(self.cluster_id).as_deref() != Some(cluster.id.as_str())
        {
            return Some("ClusterId changed".into());
        }
        let data_time = cluster.lineage().map(|l| l.data_timestamp);
        match (self.copy_created_since, data_time) {
            (Some(since), Some(data))
                if *since > data && &old.copy_created_since != self.copy_created_since =>
            {
                Some("CopyCreatedSince is later than the clone's data: refreshing".into())
            }
            _ => None,
        }
    }
}

/// The user tags to set and the keys to remove: those the old properties set and the new ones
/// drop (never this tool's own keys).
fn retag(old: &Tags, new: &Tags, cluster: &Cluster) -> (Tags, Vec<String>) {
    let current = tags::user_tags(&cluster.tags);
    let wanted = tags::user_tags(new);
    let add: Tags = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !wanted.contains_key(*k) && !k.starts_with(tags::PREFIX))
        .cloned()
        .collect();
    (add, remove)
}

/// The Serverless v2 range to set, when MinCapacity or MaxCapacity changed: the new range, or
/// the default one of a serverless clone whose range the resource no longer names.
fn capacity_change(
    old: Option<Capacity>,
    new: Option<Capacity>,
    class: Option<&str>,
) -> Option<Capacity> {
    if old == new {
        return None;
    }
    new.or((class == Some(SERVERLESS)).then_some(DEFAULT_CLONE_CAPACITY))
}

/// An Update whose old properties are unreadable: tags and credentials are brought to what the
/// new properties ask, judged against the clone itself; nothing is replaced.
fn in_place_against(cluster: &Cluster, new: &CloneProperties) -> Revision {
    let current = tags::user_tags(&cluster.tags);
    let wanted = tags::user_tags(&new.tags);
    let add: Tags = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| !wanted.contains_key(*k))
        .cloned()
        .collect();
    let has_secret = cluster.deed.as_ref().is_some_and(|d| d.secret.is_some());
    let credentials = match (has_secret, new.set_password) {
        (false, true) => Credentials::Enable,
        (true, false) => Credentials::Disable,
        (true, true) => Credentials::Readers,
        (false, false) => Credentials::Unchanged,
    };
    Revision::InPlace {
        add,
        remove,
        credentials,
        capacity: None,
    }
}

/// The in-place changes as actions: tags on the clone and its instances, then its credentials
/// (`Enable` and `Renew` continue as a request that sets a password, after these).
pub fn in_place_actions(revision: &Revision, cluster: &Cluster, readers: &[String]) -> Vec<Action> {
    let Revision::InPlace {
        add,
        remove,
        credentials,
        capacity,
    } = revision
    else {
        return vec![];
    };
    let mut actions = vec![];
    if let Some(capacity) = capacity {
        actions.push(Action::SetCapacity {
            cluster_id: cluster.id.clone(),
            capacity: *capacity,
        });
    }
    if !add.is_empty() || !remove.is_empty() {
        actions.push(Action::Retag {
            targets: tagged_with(cluster),
            add: add.clone(),
            remove: remove.clone(),
        });
    }
    let boxed = || Box::new(cluster.clone());
    match credentials {
        Credentials::Readers => actions.push(Action::SetReaders {
            cluster: boxed(),
            readers: readers.to_vec(),
        }),
        Credentials::Disable | Credentials::Renew => {
            actions.push(Action::DropCredentials { cluster: boxed() })
        }
        Credentials::Enable | Credentials::Unchanged => {}
    }
    actions
}

/// Everything that carries the resource's tags: the clone, its instances, its secret, and a
/// key made for it.
fn tagged_with(cluster: &Cluster) -> Vec<Tagged> {
    let mut out = vec![Tagged::Rds(cluster.arn.clone())];
    out.extend(
        cluster
            .members
            .iter()
            .map(|m| Tagged::Rds(instance_arn(cluster, &m.instance_id))),
    );
    // The secret and key the clone's deed records: a tag naming another team's would be theirs.
    let deed = cluster.deed.as_ref();
    if let Some(secret) = deed.and_then(|d| d.secret_arn()) {
        out.push(Tagged::Secret(secret.to_string()));
    }
    if let Some(key) = deed.and_then(|d| d.key_id()) {
        out.push(Tagged::Key(key.to_string()));
    }
    out
}

/// The ARN of a cluster's instance, from the cluster's ARN.
pub fn instance_arn(cluster: &Cluster, instance_id: &str) -> String {
    let prefix = cluster
        .arn
        .rsplit_once(":cluster:")
        .map(|(p, _)| p)
        .unwrap_or_default();
    format!("{prefix}:db:{instance_id}")
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
                remove: vec![],
                credentials: Credentials::Unchanged,
                capacity: None,
            }
        );
    }

    #[test]
    fn tags_change_in_place() {
        let old = props(json!({"SourceClusterId": "orders", "Tags": {"team": "a", "gone": "x"}}));
        let new = props(json!({"SourceClusterId": "orders", "Tags": {"team": "b"}}));
        let Revision::InPlace { add, remove, .. } =
            decide(Some(&old), &new, Some(&clone_cluster()))
        else {
            panic!("replaced")
        };
        assert_eq!(add.get("team").map(String::as_str), Some("b"));
        assert_eq!(remove, vec!["gone".to_string()]);
    }

    #[test]
    fn credentials_change_in_place() {
        let c = clone_cluster();
        let base = json!({"SourceClusterId": "orders", "Tags": {"team": "a"}});
        let with = |extra: serde_json::Value| {
            let mut b = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            props(b)
        };
        let off = with(json!({}));
        let on = with(json!({"SetPassword": "true"}));
        let readers =
            with(json!({"SetPassword": "true", "AccessPrincipalArns": "arn:aws:iam::1:role/dev"}));
        let rekeyed = with(json!({"SetPassword": "true", "ForceCreateKmsKey": "true"}));
        let change = |a: &CloneProperties, b: &CloneProperties| match decide(Some(a), b, Some(&c)) {
            Revision::InPlace { credentials, .. } => credentials,
            Revision::Replace(why) => panic!("replaced: {why}"),
        };
        assert_eq!(change(&off, &on), Credentials::Enable);
        assert_eq!(change(&on, &off), Credentials::Disable);
        assert_eq!(change(&on, &readers), Credentials::Readers);
        assert_eq!(change(&on, &rekeyed), Credentials::Renew);
        assert_eq!(change(&on, &on), Credentials::Unchanged);
    }

    /// MinCapacity and MaxCapacity change the writer's range in place, and nothing else does.
    #[test]
    fn capacity_changes_in_place() {
        let c = clone_cluster();
        let serverless = |range: serde_json::Value| {
            let mut p = json!({"SourceClusterId": "orders", "InstanceClass": "db.serverless", "Tags": {"team": "a"}});
            for (k, v) in range.as_object().unwrap() {
                p[k] = v.clone();
            }
            props(p)
        };
        let small = serverless(json!({"MinCapacity": "0.5", "MaxCapacity": "4"}));
        let large = serverless(json!({"MinCapacity": "2", "MaxCapacity": "16"}));
        let unnamed = serverless(json!({}));
        let range = |a: &CloneProperties, b: &CloneProperties| match decide(Some(a), b, Some(&c)) {
            Revision::InPlace { capacity, .. } => capacity,
            Revision::Replace(why) => panic!("replaced: {why}"),
        };
        assert_eq!(
            range(&small, &large),
            Some(Capacity {
                min: 2.0,
                max: 16.0
            })
        );
        assert_eq!(range(&large, &unnamed), Some(DEFAULT_CLONE_CAPACITY));
        assert_eq!(range(&small, &small), None);
        let revision = decide(Some(&small), &large, Some(&c));
        let actions = in_place_actions(&revision, &c, &[]);
        assert!(
            matches!(actions.as_slice(), [Action::SetCapacity { cluster_id, capacity }]
                if cluster_id == "orders-clone" && capacity.max == 16.0),
            "{actions:?}"
        );
    }
}
