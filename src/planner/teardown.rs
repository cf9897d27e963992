//! What a Delete removes. Only clones that this manager provably created for the same stack and
//! logical id are ever removed; anything else is left alone, with the reason logged.

use super::action::{Action, Removal};
use crate::domain::Cluster;
use std::collections::BTreeSet;

/// What a Delete's physical id says (see `cfn::PhysicalId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A cluster this resource reported.
    Cluster(String),
    /// The FAILED Create of this request.
    Failed(String),
    /// An id this tool did not make (CloudFormation generates one for a cancelled Create).
    Foreign,
}

/// A request still pending, as the teardown planner needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingClone {
    pub request_id: String,
    pub stack_id: String,
    pub logical_id: String,
    pub cluster_id: String,
}

/// The resource a Delete is for.
#[derive(Debug, Clone)]
pub struct Resource<'a> {
    pub manager: &'a str,
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub physical: Named,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Teardown {
    /// Cancels first (those requests will never answer SUCCESS), then removals with their events.
    pub actions: Vec<Action>,
    /// Clusters named by the Delete but not provably ours: (id, why), left untouched.
    pub refused: Vec<(String, String)>,
}

impl Teardown {
    pub fn cancelled(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Cancel { request_id, .. } => Some(request_id.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn removed(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::RemoveCluster(r) => Some(r.cluster_id.as_str()),
                _ => None,
            })
            .collect()
    }
}

const CANCEL_REASON: &str =
    "cancelled: CloudFormation sent Delete for this resource before the clone was ready";

pub fn plan_teardown(res: &Resource, clusters: &[Cluster], pending: &[PendingClone]) -> Teardown {
    let of_resource =
        |p: &&PendingClone| p.stack_id == res.stack_id && p.logical_id == res.logical_id;
    let cancelled: Vec<&PendingClone> = pending
        .iter()
        .filter(of_resource)
        .filter(|p| match &res.physical {
            Named::Cluster(id) => &p.cluster_id == id,
            Named::Failed(request_id) => &p.request_id == request_id,
            Named::Foreign => true,
        })
        .collect();
    let mut requests: BTreeSet<&str> = cancelled.iter().map(|p| p.request_id.as_str()).collect();
    if let Named::Failed(request_id) = &res.physical {
        requests.insert(request_id);
    }
    // A cluster a refresh made or renamed aside is that refresh's to remove, never a Delete's.
    let owned = |c: &Cluster| {
        c.deed.as_ref().is_some_and(|d| d.refresh_of.is_none())
            && c.ownership()
                .is_some_and(|o| o.is_clone_of_resource(res.manager, res.stack_id, res.logical_id))
    };
    let mut plan = Teardown {
        actions: cancelled
            .iter()
            .map(|p| Action::Cancel {
                request_id: p.request_id.clone(),
                reason: CANCEL_REASON.into(),
            })
            .collect(),
        ..Default::default()
    };
    for c in clusters {
        let named = matches!(&res.physical, Named::Cluster(id) if *id == c.id);
        let made_by_request = c
            .ownership()
            .and_then(|o| o.request_id)
            .is_some_and(|r| requests.contains(r.as_str()));
        if !(named || made_by_request) {
            continue;
        }
        if owned(c) {
            plan.actions.push(Action::RemoveCluster(Removal::of(c)));
        } else {
            plan.refused.push((c.id.clone(), refusal(c, res)));
        }
    }
    plan
}

fn refusal(c: &Cluster, res: &Resource) -> String {
    match c.ownership() {
        None => format!(
            "cluster {} is not in this manager's ownership ledger (tags prove nothing)",
            c.id
        ),
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
        crate::planner::test_support::with_deed(c)
    }

    fn res(physical: Named) -> Resource<'static> {
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
        let plan = plan_teardown(&res(Named::Cluster("a".into())), &clusters, &[]);
        assert_eq!(plan.removed(), vec!["a"]);
        assert!(plan.refused.is_empty());
    }

    /// Defect-adjacent rule: never delete a cluster this tool cannot prove it created.
    #[test]
    fn refuses_clusters_it_does_not_own() {
        let mut other_stack = clone_of("b", "s2", "Clone", "r2");
        let clusters = vec![Cluster::new("prod", "available"), other_stack.clone()];
        for id in ["prod", "b"] {
            let plan = plan_teardown(&res(Named::Cluster(id.into())), &clusters, &[]);
            assert!(plan.removed().is_empty(), "{id}");
            assert_eq!(plan.refused.len(), 1);
        }
        other_stack = crate::planner::test_support::owned_as(
            other_stack,
            crate::domain::tags::MANAGED_BY,
            "someone-else",
        );
        let plan = plan_teardown(&res(Named::Cluster("b".into())), &[other_stack], &[]);
        assert!(plan.refused[0].1.contains("someone-else"));
    }

    /// Anyone who may tag clusters can write this tool's tags: a cluster tagged as this very
    /// resource's clone, without a deed, is refused whichever way the Delete names it.
    #[test]
    fn tags_without_a_deed_prove_nothing() {
        let mut forged = clone_of("prod", "s1", "Clone", "r9");
        forged.deed = None;
        let plan = plan_teardown(
            &res(Named::Cluster("prod".into())),
            std::slice::from_ref(&forged),
            &[],
        );
        assert!(plan.removed().is_empty());
        assert!(plan.refused[0].1.contains("ledger"), "{:?}", plan.refused);
        for named in [Named::Failed("r9".into()), Named::Foreign] {
            let plan = plan_teardown(&res(named), std::slice::from_ref(&forged), &[]);
            assert!(plan.removed().is_empty());
        }
    }

    #[test]
    fn failed_create_leftovers_are_found_by_request_tag() {
        let clusters = vec![
            clone_of("x", "s1", "Clone", "r9"),
            clone_of("y", "s1", "Clone", "r1"),
        ];
        let plan = plan_teardown(&res(Named::Failed("r9".into())), &clusters, &[]);
        assert_eq!(plan.removed(), vec!["x"]);
    }
}
