//! The ownership ledger's entries: what this manager made, for whom, and what it made with it.
//!
//! A `Deed` is written to the stack's state table *before* the cluster is asked for, by a
//! conditional write, and is the only proof of ownership the code accepts: tags mirror it for
//! people, cost allocation and IAM conditions, but anyone who may tag a cluster can write them.
//! Every destructive or permission-changing act (Delete, expiry, the sweep, pool retirement, a
//! secret's or key's policy) acts only on a cluster whose deed names the owner it acts for.

use super::tags::{self, Lineage, Ownership, Role};
use super::Cluster;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A credential made for a clone: announced in the deed before it is made, then recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Made {
    /// About to be made under this name (a secret) or token (a key's `for-secret` tag): an
    /// attempt that dies before recording it leaves this, and the next one finds what it made.
    Intended(String),
    /// Made: the secret's ARN, the key's id.
    Made(String),
}

impl Made {
    pub fn made(&self) -> Option<&str> {
        match self {
            Made::Made(id) => Some(id),
            Made::Intended(_) => None,
        }
    }
}

/// One cluster this manager made (or was told by an operator's `adopt` that it owns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deed {
    pub cluster_id: String,
    /// The manager stack whose ledger holds it (the state table is that stack's own).
    pub manager: String,
    pub role: Role,
    /// The consumer resource a clone belongs to (none for a pool copy).
    #[serde(default)]
    pub stack_id: Option<String>,
    #[serde(default)]
    pub logical_id: Option<String>,
    /// The request that made it.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The root whose pool a copy belongs to, or a clone was made from.
    #[serde(default)]
    pub root: Option<String>,
    /// Unix seconds when the deed was written (before the cluster was asked for).
    pub recorded: i64,
    /// The resource properties the clone satisfies now: what an Update is compared with (never
    /// a request's OldResourceProperties, which a rollback swaps).
    #[serde(default)]
    pub properties: Option<Value>,
    #[serde(default)]
    pub secret: Option<Made>,
    /// A KMS key made for this clone alone (never a key the user or the stack gave).
    #[serde(default)]
    pub key: Option<Made>,
    /// Unix seconds when the key was last marked as about to be made.
    #[serde(default)]
    pub marked: i64,
    /// Its deletion has started: the deed goes once the cluster is gone.
    #[serde(default)]
    pub deleting: bool,
    /// On a clone's deed: the refresh attempt under way (its names are being swapped, so RDS
    /// may not list the clone for minutes; the deed is never struck meanwhile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshing: Option<String>,
    /// On the deed of a cluster a refresh made or renamed aside: the clone it serves. Such a
    /// cluster belongs to that refresh alone (no sweep, no expiry, no Delete of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_of: Option<String>,
    /// Unix seconds when the clone was first made, once a refresh replaced its cluster: its
    /// lifetime (`ExpiresAfter`) counts from then, not from the newest cluster's creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<i64>,
    /// The version every conditional change is made against (not stored in the JSON).
    #[serde(skip)]
    pub version: u64,
}

impl Deed {
    /// Ownership as the planners ask it.
    pub fn ownership(&self) -> Ownership {
        Ownership {
            managed_by: self.manager.clone(),
            role: self.role,
            stack_id: self.stack_id.clone(),
            logical_id: self.logical_id.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// True when `other` is the same intent (the same owner, by the same request): a retry of
    /// the write that made this deed, or of the create that followed it.
    pub fn same_intent(&self, other: &Deed) -> bool {
        self.cluster_id == other.cluster_id
            && self.manager == other.manager
            && self.role == other.role
            && self.stack_id == other.stack_id
            && self.logical_id == other.logical_id
            && self.request_id == other.request_id
    }

    pub fn is_clone_of(&self, stack_id: &str, logical_id: &str) -> bool {
        self.role == Role::Clone
            && self.stack_id.as_deref() == Some(stack_id)
            && self.logical_id.as_deref() == Some(logical_id)
    }

    pub fn secret_arn(&self) -> Option<&str> {
        self.secret.as_ref().and_then(Made::made)
    }

    pub fn key_id(&self) -> Option<&str> {
        self.key.as_ref().and_then(Made::made)
    }

    /// True while a refresh works on this deed's cluster (the clone, or a helper of its
    /// refresh): RDS may not list it for minutes while it is renamed.
    pub fn in_refresh(&self) -> bool {
        self.refreshing.is_some() || self.refresh_of.is_some()
    }
}

/// The deed an operator's `adopt` records for a cluster this manager made before it kept a
/// ledger: read from the cluster's ownership, lineage and credential tags, which the operator
/// vouches for by running the command (the code never takes tags for ownership on its own).
pub fn adopted(cluster: &Cluster, recorded: i64) -> Option<Deed> {
    let owner = Ownership::from_tags(&cluster.tags)?;
    let tag = |k: &str| cluster.tags.get(k).cloned();
    Some(Deed {
        cluster_id: cluster.id.clone(),
        manager: owner.managed_by,
        role: owner.role,
        stack_id: owner.stack_id,
        logical_id: owner.logical_id,
        request_id: owner.request_id,
        root: Lineage::from_tags(&cluster.tags).map(|l| l.root),
        recorded,
        properties: None,
        secret: tag(tags::PASSWORD_SECRET).map(Made::Made),
        key: tag(tags::CREATED_KEY)
            .filter(|k| !k.starts_with("pending:"))
            .map(Made::Made),
        marked: 0,
        deleting: false,
        refreshing: None,
        refresh_of: None,
        born: None,
        version: 0,
    })
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let s = String::deserialize(d)?;
        Role::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown role {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeds_round_trip_and_compare_intents() {
        let deed = Deed {
            cluster_id: "c1".into(),
            manager: "acm".into(),
            role: Role::Clone,
            stack_id: Some("s".into()),
            logical_id: Some("L".into()),
            request_id: Some("r".into()),
            root: Some("orders".into()),
            recorded: 10,
            properties: Some(serde_json::json!({"SourceClusterId": "orders"})),
            secret: Some(Made::Intended("/x".into())),
            key: Some(Made::Made("k".into())),
            marked: 0,
            deleting: false,
            refreshing: None,
            refresh_of: None,
            born: None,
            version: 3,
        };
        let back: Deed = serde_json::from_str(&serde_json::to_string(&deed).unwrap()).unwrap();
        assert_eq!(back.version, 0, "the version lives beside the JSON");
        assert_eq!(
            back,
            Deed {
                version: 0,
                ..deed.clone()
            }
        );
        assert_eq!(back.secret_arn(), None);
        assert_eq!(back.key_id(), Some("k"));
        let other = Deed {
            request_id: Some("r2".into()),
            ..deed.clone()
        };
        assert!(!deed.same_intent(&other));
        assert!(deed.is_clone_of("s", "L") && !deed.is_clone_of("s", "M"));
    }
}
