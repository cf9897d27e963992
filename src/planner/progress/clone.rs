//! The request's clone exists: make sure it is the request's own, give it its writer, set its
//! own master password, and answer once all of it is in force.

use super::ready::ready;
use super::{Pending, Request, Step};
use crate::domain::{Cluster, Instance, InstanceSettings};
use crate::planner::action::Action;
use crate::planner::credentials::password_plan;
use crate::planner::writer::writer_request;
use crate::planner::Policy;

pub(super) fn step_for_clone(
    req: &Request,
    cluster: &Cluster,
    instances: &[Instance],
    source_writer: Option<&InstanceSettings>,
    policy: &Policy,
) -> Step {
    if !is_ours(req, cluster, policy) {
        return not_ours(req, cluster);
    }
    if cluster.status.is_terminal() {
        return Step::Fail(format!(
            "clone {} entered state {}, from which it cannot become usable",
            cluster.id, cluster.status
        ));
    }
    let writer = instances
        .iter()
        .find(|i| Some(i.id.as_str()) == cluster.writer())
        .or_else(|| instances.first());
    match writer {
        None => first_writer(req, cluster, source_writer, policy),
        Some(i) if i.status.is_terminal() => Step::Fail(format!(
            "writer instance {} of clone {} entered state {}",
            i.id, cluster.id, i.status
        )),
        Some(i) if cluster.is_available() && i.status.is_available() => {
            usable_clone(req, cluster, &i.id, policy)
        }
        Some(i) => Step::Wait(Pending::on_clone(format!(
            "clone {} is {}, writer instance {} is {}",
            cluster.id, cluster.status, i.id, i.status
        ))),
    }
}

fn is_ours(req: &Request, cluster: &Cluster, policy: &Policy) -> bool {
    cluster.ownership().is_some_and(|o| {
        o.request_id.as_deref() == Some(req.request_id)
            || (req.adopted
                && o.is_clone_of_resource(&policy.manager, req.stack_id, req.logical_id))
    })
}

/// The identifier is another cluster's: take the fallback, if the request has one.
fn not_ours(req: &Request, cluster: &Cluster) -> Step {
    match req.fallback_id {
        Some(other) if other != cluster.id => Step::Act(Action::Retarget {
            cluster_id: other.to_string(),
        }),
        _ => Step::Fail(format!(
            "ClusterId {} already exists and was not created by this request",
            cluster.id
        )),
    }
}

/// The clone has no instance yet: create its writer once RDS accepts it.
fn first_writer(
    req: &Request,
    cluster: &Cluster,
    source_writer: Option<&InstanceSettings>,
    policy: &Policy,
) -> Step {
    let class = req
        .props
        .instance_class
        .as_deref()
        .unwrap_or(&policy.default_instance_class);
    match writer_request(cluster, class, &req.props.tags, source_writer) {
        Some(i) => Step::Act(Action::CreateInstance(i)),
        None => Step::Wait(Pending::on_clone(format!(
            "cluster {} is {}, waiting to add its writer instance",
            cluster.id, cluster.status
        ))),
    }
}

/// The clone and its writer are available: set its own password, wait for RDS to apply it, or
/// answer. RDS shows `available` while a new master password is still pending, then
/// `resetting-master-credentials`: until both are over, production's password still opens it.
fn usable_clone(req: &Request, cluster: &Cluster, writer: &str, policy: &Policy) -> Step {
    if let Some(mut plan) = password_plan(req.props, req.request_id, cluster, policy) {
        // A clone to be prepared is readable by its preparers alone until they report.
        if let Some(spec) = req.props.prepare.as_ref().filter(|_| !req.adopted) {
            plan.readers = spec.preparers.clone();
        }
        return Step::Act(Action::SetPassword {
            cluster: Box::new(cluster.clone()),
            plan,
        });
    }
    if req.props.set_password && cluster.password_pending {
        return Step::Wait(Pending::on_clone(format!(
            "the new master password of clone {} is not yet in force",
            cluster.id
        )));
    }
    Step::Ready(ready(req, cluster, writer))
}
