use super::*;
use crate::domain::tags::{MANAGED_BY, ROLE, SOURCE, STACK_ID};
use crate::domain::{Lineage, Ownership, RestoreType, Role};
use crate::planner::action::Action;
use crate::planner::test_support::*;
use serde_json::json;
use time::macros::datetime;
use time::Duration as TimeDuration;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn props(extra: serde_json::Value) -> CloneProperties {
    let mut v = json!({"SourceClusterId": "orders", "Tags": {"team": "qa"}});
    if let Some(o) = extra.as_object() {
        for (k, x) in o {
            v[k] = x.clone();
        }
    }
    CloneProperties::parse(&v).unwrap()
}

fn request(p: &CloneProperties) -> Request<'_> {
    Request {
        props: p,
        cluster_id: "orders-clone",
        stack_id: "stack-1",
        logical_id: "Db",
        request_id: "req-1",
        fallback_id: None,
        deadline: NOW + TimeDuration::hours(1),
        adopted: false,
        preparation: None,
    }
}

fn with_pool(clusters: Vec<Cluster>) -> Observed {
    with_quotas(clusters, None)
}

fn with_quotas(clusters: Vec<Cluster>, quotas: Option<Quotas>) -> Observed {
    Observed::Absent {
        clusters,
        quotas,
        source_config: None,
        root_writer: None,
    }
}

#[test]
fn restores_copy_on_write_from_the_root_with_ownership_and_lineage() {
    let p = props(json!({}));
    let Step::Act(Action::Restore(r)) = next_step(
        &request(&p),
        &with_pool(vec![root("orders")]),
        &policy(),
        NOW,
    ) else {
        panic!()
    };
    assert_eq!(r.restore_type, RestoreType::CopyOnWrite);
    assert_eq!(
        (r.cluster_id.as_str(), r.source_cluster_id.as_str()),
        ("orders-clone", "orders")
    );
    assert_eq!(r.subnet_group.as_deref(), Some("subnets"));
    assert_eq!(r.security_groups, vec!["sg-1"]);
    let o = Ownership::from_tags(&r.tags).unwrap();
    assert_eq!(
        (
            o.role,
            o.stack_id.as_deref(),
            o.logical_id.as_deref(),
            o.request_id.as_deref()
        ),
        (Role::Clone, Some("stack-1"), Some("Db"), Some("req-1"))
    );
    let l = Lineage::from_tags(&r.tags).unwrap();
    assert_eq!(
        (l.root.as_str(), l.source.as_str(), l.data_timestamp),
        ("orders", "orders", NOW)
    );
    assert_eq!(r.tags.get("team").map(String::as_str), Some("qa"));
}

#[test]
fn user_tags_cannot_forge_ownership() {
    let p = props(json!({"Tags": {"aurora-clone-manager:role": "copy"}}));
    let Step::Act(Action::Restore(r)) = next_step(
        &request(&p),
        &with_pool(vec![root("orders")]),
        &policy(),
        NOW,
    ) else {
        panic!()
    };
    assert_eq!(r.tags.get(ROLE).map(String::as_str), Some("clone"));
}

/// Defect 4: with no free slot and CopyOk, the new full copy is a pool copy owned by the
/// manager, not by the resource; the resource's clone is then cloned from it.
#[test]
fn no_free_slot_with_copy_ok_makes_a_pool_copy_then_clones_it() {
    let p = props(json!({}));
    let mut all = vec![root("orders")];
    all.extend(clones("orders", "orders", 15));
    let Step::Act(Action::Restore(copy_req)) =
        next_step(&request(&p), &with_pool(all.clone()), &policy(), NOW)
    else {
        panic!()
    };
    assert_eq!(copy_req.restore_type, RestoreType::FullCopy);
    assert_eq!(copy_req.tags.get(ROLE).map(String::as_str), Some("copy"));
    assert_eq!(
        copy_req.tags.get(MANAGED_BY).map(String::as_str),
        Some("acm")
    );
    assert!(
        !copy_req.tags.contains_key(STACK_ID),
        "a pool copy belongs to no resource"
    );
    assert_ne!(copy_req.cluster_id, "orders-clone");

    let mut making = copy(&copy_req.cluster_id, "orders", NOW);
    making.status = "creating".into();
    making.members.clear();
    all.push(making.clone());
    let Step::Act(Action::CreateInstance(i)) =
        next_step(&request(&p), &with_pool(all.clone()), &policy(), NOW)
    else {
        panic!()
    };
    assert_eq!(i.cluster_id, copy_req.cluster_id);

    all.pop();
    all.push(copy(&copy_req.cluster_id, "orders", NOW));
    let Step::Act(Action::Restore(r)) = next_step(&request(&p), &with_pool(all), &policy(), NOW)
    else {
        panic!()
    };
    assert_eq!(r.source_cluster_id, copy_req.cluster_id);
    assert_eq!(r.tags.get(ROLE).map(String::as_str), Some("clone"));
    assert_eq!(
        r.tags.get(SOURCE).map(String::as_str),
        Some(copy_req.cluster_id.as_str())
    );
}

#[test]
fn no_free_slot_without_copy_ok_fails_with_the_fix() {
    let p = props(json!({"CopyOk": "false"}));
    let mut all = vec![root("orders")];
    all.extend(clones("orders", "orders", 15));
    let Step::Fail(reason) = next_step(&request(&p), &with_pool(all), &policy(), NOW) else {
        panic!()
    };
    assert!(
        reason.contains("15/15") && reason.contains("target-clone-slots"),
        "{reason}"
    );
}

#[test]
fn preflight_refuses_missing_and_uncloneable_sources() {
    let p = props(json!({}));
    let Step::Fail(r) = next_step(&request(&p), &with_pool(vec![]), &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("no such cluster"));
    let mut stopped = root("orders");
    stopped.status = "stopped".into();
    let Step::Fail(r) = next_step(&request(&p), &with_pool(vec![stopped]), &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("stopped"));
    let mut bare = root("orders");
    bare.members.clear();
    let Step::Fail(r) = next_step(&request(&p), &with_pool(vec![bare]), &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("no DB instance"));
}

fn made(status: &str) -> Cluster {
    let p = props(json!({}));
    let Step::Act(Action::Restore(r)) = next_step(
        &request(&p),
        &with_pool(vec![root("orders")]),
        &policy(),
        NOW,
    ) else {
        panic!()
    };
    let mut c = Cluster::new("orders-clone", status);
    c.tags = r.tags;
    c.endpoint = Some("orders-clone.cluster.local".into());
    c.port = Some(5432);
    crate::planner::test_support::with_deed(c)
}

fn instance(status: &str) -> Instance {
    Instance {
        id: "orders-clone-writer".into(),
        cluster_id: Some("orders-clone".into()),
        status: status.into(),
        class: "db.r6g.large".into(),
        settings: Default::default(),
    }
}

#[test]
fn a_clone_gets_a_writer_then_waits_then_is_ready() {
    let p = props(json!({"InstanceClass": "db.t4g.medium"}));
    let seen = Observed::Clone {
        cluster: Box::new(made("creating")),
        instances: vec![],
        source_writer: None,
    };
    let Step::Act(Action::CreateInstance(i)) = next_step(&request(&p), &seen, &policy(), NOW)
    else {
        panic!()
    };
    assert_eq!(
        (i.instance_id.as_str(), i.class.as_str()),
        ("orders-clone-writer", "db.t4g.medium")
    );
    assert_eq!(i.tags.get(ROLE).map(String::as_str), Some("clone"));

    let seen = Observed::Clone {
        cluster: Box::new(made("creating")),
        instances: vec![instance("creating")],
        source_writer: None,
    };
    assert!(matches!(
        next_step(&request(&p), &seen, &policy(), NOW),
        Step::Wait(_)
    ));
    let seen = Observed::Clone {
        cluster: Box::new(made("available")),
        instances: vec![instance("creating")],
        source_writer: None,
    };
    assert!(matches!(
        next_step(&request(&p), &seen, &policy(), NOW),
        Step::Wait(_)
    ));

    let seen = Observed::Clone {
        cluster: Box::new(made("available")),
        instances: vec![instance("available")],
        source_writer: None,
    };
    let Step::Ready(Ready { data: d, event }) = next_step(&request(&p), &seen, &policy(), NOW)
    else {
        panic!()
    };
    assert_eq!(event.cluster_id, "orders-clone");
    assert_eq!(event.role, Some(crate::domain::Role::Clone));
    assert_eq!(event.logical_resource_id.as_deref(), Some("Db"));
    for key in [
        "Arn",
        "ClusterId",
        "Endpoint",
        "ReaderEndpoint",
        "Port",
        "InstanceId",
        "SourceClusterId",
        "DataTimestamp",
    ] {
        assert!(d.contains_key(key), "{key}");
    }
    assert_eq!(d["InstanceId"], "orders-clone-writer");
    assert_eq!(d["SourceClusterId"], "orders");
    assert_eq!(d["DataTimestamp"], "2026-11-22T12:00:00Z");
}

#[test]
fn terminal_states_and_foreign_clusters_fail_at_once() {
    let p = props(json!({}));
    for status in [
        "restore-failed",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "cloning-failed",
    ] {
        let seen = Observed::Clone {
            cluster: Box::new(made(status)),
            instances: vec![],
            source_writer: None,
        };
        let Step::Fail(r) = next_step(&request(&p), &seen, &policy(), NOW) else {
            panic!("{status}")
        };
        assert!(r.contains(status));
    }
    let seen = Observed::Clone {
        cluster: Box::new(root("orders-clone")),
        instances: vec![],
        source_writer: None,
    };
    let Step::Fail(r) = next_step(&request(&p), &seen, &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("not created by this request"));
}

#[test]
fn past_the_deadline_fails_naming_what_is_pending() {
    let p = props(json!({}));
    let seen = Observed::Clone {
        cluster: Box::new(made("creating")),
        instances: vec![instance("creating")],
        source_writer: None,
    };
    let late = NOW + TimeDuration::hours(2);
    let Step::Fail(r) = next_step(&request(&p), &seen, &policy(), late) else {
        panic!()
    };
    assert!(
        r.contains("timed out") && r.contains("orders-clone-writer is creating"),
        "{r}"
    );
    let seen = Observed::Clone {
        cluster: Box::new(made("available")),
        instances: vec![instance("available")],
        source_writer: None,
    };
    assert!(
        matches!(
            next_step(&request(&p), &seen, &policy(), late),
            Step::Ready(_)
        ),
        "a usable clone is reported even when late"
    );
}

#[test]
fn waiting_for_a_pool_copy_past_the_deadline_says_copies_can_be_slow() {
    let p = props(json!({}));
    let mut making = copy("orders-copy-x", "orders", NOW);
    making.status = "creating".into();
    let mut all = vec![root("orders"), making];
    all.extend(clones("orders", "orders", 15));
    let Step::Fail(r) = next_step(
        &request(&p),
        &with_pool(all),
        &policy(),
        NOW + TimeDuration::hours(2),
    ) else {
        panic!()
    };
    assert!(
        r.contains("one-hour limit") && r.contains("target-clone-slots"),
        "{r}"
    );
}

#[test]
fn preflight_refuses_when_the_account_quota_is_used_up() {
    let p = props(json!({}));
    let quotas = |clusters, instances| {
        with_quotas(
            vec![root("orders")],
            Some(Quotas {
                clusters,
                instances,
            }),
        )
    };
    let seen = quotas(Some((40, 40)), Some((10, 40)));
    let Step::Fail(r) = next_step(&request(&p), &seen, &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("40/40 DB clusters"), "{r}");
    let seen = quotas(Some((39, 40)), Some((40, 40)));
    let Step::Fail(r) = next_step(&request(&p), &seen, &policy(), NOW) else {
        panic!()
    };
    assert!(r.contains("DB instances"), "{r}");
    let seen = quotas(Some((39, 40)), None);
    assert!(matches!(
        next_step(&request(&p), &seen, &policy(), NOW),
        Step::Act(Action::Restore(_))
    ));
}

#[test]
fn pool_copies_carry_the_stack_prefix() {
    let p = props(json!({}));
    let mut all = vec![root("orders")];
    all.extend(clones("orders", "orders", 15));
    let mut pol = policy();
    pol.id_prefix = "clone-".into();
    let Step::Act(Action::Restore(copy_req)) = next_step(&request(&p), &with_pool(all), &pol, NOW)
    else {
        panic!()
    };
    assert!(
        copy_req.cluster_id.starts_with("clone-orders-copy-"),
        "{}",
        copy_req.cluster_id
    );
}
