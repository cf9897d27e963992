//! Builders of observed clusters for the planner's table tests.

use super::Policy;
use crate::domain::{Cluster, Lineage, Member, Ownership, Role};
use std::time::Duration;
use time::OffsetDateTime;

pub fn policy() -> Policy {
    Policy {
        manager: "acm".into(),
        max_clones_per_source: 15,
        max_copy_age: Duration::from_secs(3 * 86_400),
        default_instance_class: "db.r6g.large".into(),
        copy_instance_class: "db.r6g.large".into(),
        copy_min_capacity: None,
        copy_max_capacity: None,
        default_secret_prefix: "/acm/".into(),
        default_secret_key: None,
        id_prefix: String::new(),
        allowed_sources: vec![],
    }
}

pub fn root(id: &str) -> Cluster {
    let mut c = Cluster::new(id, "available");
    c.members = vec![Member {
        instance_id: format!("{id}-1"),
        writer: true,
    }];
    c.subnet_group = Some("subnets".into());
    c.security_groups = vec!["sg-1".into()];
    c
}

pub fn copy(id: &str, root: &str, data: OffsetDateTime) -> Cluster {
    let mut c = self::root(id);
    Ownership {
        managed_by: "acm".into(),
        role: Role::Copy,
        stack_id: None,
        logical_id: None,
        request_id: None,
    }
    .write(&mut c.tags);
    Lineage {
        root: root.into(),
        source: root.into(),
        data_timestamp: data,
    }
    .write(&mut c.tags);
    with_deed(c)
}

/// The cluster with the deed its ownership tags describe (as the ledger would hold it).
pub fn with_deed(mut c: Cluster) -> Cluster {
    c.deed = crate::domain::ledger::adopted(&c, 0);
    c
}

pub fn clone_on(id: &str, source: &str, root: &str, status: &str) -> Cluster {
    let mut c = Cluster::new(id, status);
    Ownership {
        managed_by: "acm".into(),
        role: Role::Clone,
        stack_id: Some("s".into()),
        logical_id: Some("L".into()),
        request_id: Some(format!("r-{id}")),
    }
    .write(&mut c.tags);
    Lineage {
        root: root.into(),
        source: source.into(),
        data_timestamp: OffsetDateTime::UNIX_EPOCH,
    }
    .write(&mut c.tags);
    with_deed(c)
}

/// `n` clones of `source` named `<source>-c<i>`.
pub fn clones(source: &str, root: &str, n: usize) -> Vec<Cluster> {
    (0..n)
        .map(|i| clone_on(&format!("{source}-c{i}"), source, root, "available"))
        .collect()
}

/// Sets a tag and records the deed it describes (a ledger entry for that owner).
pub fn owned_as(mut c: Cluster, key: &str, value: &str) -> Cluster {
    c.tags.insert(key.into(), value.into());
    with_deed(c)
}
