//! What a Delete removes. Only clones that this manager provably created for the same stack and
//! logical id are ever removed; anything else is left alone, with the reason logged.

use crate::cfn::PhysicalId;
use crate::domain::Cluster;
use crate::pending::PendingRequest;
use std::collections::BTreeSet;

/// The resource a Delete is for.
#[derive(Debug, Clone)]
pub struct Resource<'a> {
    pub manager: &'a str,
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub physical: PhysicalId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Pending requests of this resource to cancel (they will never answer SUCCESS).
    pub cancel: Vec<String>,
    /// Clusters to delete.
    pub remove: Vec<String>,
    /// Clusters named by the Delete but not provably ours: (id, why), left untouched.
    pub refused: Vec<(String, String)>,
}

pub fn plan_teardown(res: &Resource, clusters: &[Cluster], pending: &[PendingRequest]) -> Teardown {
    let of_resource = |p: &&PendingRequest| {
        p.request.stack_id == res.stack_id && p.request.logical_resource_id == res.logical_id
    };
    let cancelled: Vec<&PendingRequest> = pending
        .iter()
        .filter(of_resource)
        .filter(|p| match &res.physical {
            PhysicalId::Cluster(id) => &p.cluster_id == id,
            PhysicalId::Failed(request_id) => &p.request.request_id == request_id,
            PhysicalId::Foreign => true,
        })
        .collect();
    let mut requests: BTreeSet<&str> = cancelled
        .iter()
        .map(|p| p.request.request_id.as_str())
        .collect();
    if let PhysicalId::Failed(request_id) = &res.physical {
        requests.insert(request_id);
    }
    let owned = |c: &Cluster| {
        c.ownership()
            .is_some_and(|o| o.is_clone_of_resource(res.manager, res.stack_id, res.logical_id))
    };
    let mut plan = Teardown {
        cancel: cancelled
            .iter()
            .map(|p| p.request.request_id.clone())
            .collect(),
        ..Default::default()
    };
    for c in clusters {
        let named = matches!(&res.physical, PhysicalId::Cluster(id) if *id == c.id);
        let made_by_request = c
            .ownership()
            .and_then(|o| o.request_id)
            .is_some_and(|r| requests.contains(r.as_str()));
        if !(named || made_by_request) {
            continue;
        }
        if owned(c) {
            plan.remove.push(c.id.clone());
        } else {
            plan.refused.push((c.id.clone(), refusal(c, res)));
        }
    }
    plan
}

fn refusal(c: &Cluster, res: &Resource) -> String {
    match c.ownership() {
        None => format!("cluster {} carries no ownership tags of this tool", c.id),
        Some(o) if o.managed_by != res.manager => format!(
            "cluster {} is managed by stack {}, not {}",
            c.id, o.managed_by, res.manager
        ),
        Some(o) if o.role != crate::domain::Role::Clone => format!(
            "cluster {} is a pool copy, which only maintenance retires",
            c.id
        ),
        Some(_) => format!("cluster {} belongs to another stack or logical id", c.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Ownership, Role, Tags};

    fn clone_of(id: &str, stack: &str, logical: &str, request: &str) -> Cluster {
        let mut c = Cluster::new(id, "available");
        let mut tags = Tags::new();
        Ownership {
            managed_by: "acm".into(),
            role: Role::Clone,
            stack_id: Some(stack.into()),
            logical_id: Some(logical.into()),
            request_id: Some(request.into()),
        }
        .write(&mut tags);
        c.tags = tags;
        c
    }

    fn res(physical: PhysicalId) -> Resource<'static> {
        Resource {
            manager: "acm",
            stack_id: "s1",
            logical_id: "Clone",
            physical,
        }
    }

    #[test]
    fn deletes_only_the_named_owned_clone() {
        let clusters = vec![
            clone_of("a", "s1", "Clone", "r1"),
            clone_of("b", "s1", "Clone", "r2"),
            Cluster::new("prod", "available"),
        ];
        let plan = plan_teardown(&res(PhysicalId::Cluster("a".into())), &clusters, &[]);
        assert_eq!(plan.remove, vec!["a"]);
        assert!(plan.refused.is_empty());
    }

    /// Defect-adjacent rule: never delete a cluster this tool cannot prove it created.
    #[test]
    fn refuses_clusters_it_does_not_own() {
        let mut other_stack = clone_of("b", "s2", "Clone", "r2");
        let clusters = vec![Cluster::new("prod", "available"), other_stack.clone()];
        for id in ["prod", "b"] {
            let plan = plan_teardown(&res(PhysicalId::Cluster(id.into())), &clusters, &[]);
            assert!(plan.remove.is_empty(), "{id}");
            assert_eq!(plan.refused.len(), 1);
        }
        other_stack.tags.insert(
            crate::domain::tags::MANAGED_BY.into(),
            "someone-else".into(),
        );
        let plan = plan_teardown(&res(PhysicalId::Cluster("b".into())), &[other_stack], &[]);
        assert!(plan.refused[0].1.contains("someone-else"));
    }

    #[test]
    fn failed_create_leftovers_are_found_by_request_tag() {
        let clusters = vec![
            clone_of("x", "s1", "Clone", "r9"),
            clone_of("y", "s1", "Clone", "r1"),
        ];
        let plan = plan_teardown(&res(PhysicalId::Failed("r9".into())), &clusters, &[]);
        assert_eq!(plan.remove, vec!["x"]);
    }
}
