use super::*;
use crate::planner::test_support::*;
use time::macros::datetime;
use time::Duration as TimeDuration;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn cfg(target: u32) -> ClusterConfig {
    ClusterConfig {
        cluster_id: "orders".into(),
        target_clone_slots: target,
        dry_run: false,
        instance_class: None,
        copy_min_capacity: None,
        copy_max_capacity: None,
        max_clones_per_source: None,
        max_copy_age: None,
        purge_obsolete_copies: true,
    }
}

fn writer_of(c: &Cluster) -> Instance {
    Instance {
        id: format!("{}-1", c.id),
        cluster_id: Some(c.id.clone()),
        status: "available".into(),
        class: "db.r6g.large".into(),
        settings: Default::default(),
    }
}

fn instances(all: &[Cluster]) -> Vec<Instance> {
    all.iter()
        .filter(|c| !c.members.is_empty())
        .map(writer_of)
        .collect()
}

/// Defect 6: the original subtracted all of the root's clones from the fresh copies' slots,
/// and so over-created copies.
#[test]
fn free_slots_are_counted_per_volume_and_only_the_shortfall_is_made() {
    let mut all = vec![
        root("orders"),
        copy("orders-a", "orders", NOW - TimeDuration::hours(3)),
    ];
    all.extend(clones("orders", "orders", 15));
    all.extend(clones("orders-a", "orders", 5));
    let plan = plan_upkeep(&cfg(20), &all, &instances(&all), &policy(), NOW);
    assert_eq!(plan.slots_free, 10);
    assert_eq!(plan.create.len(), 1, "⌈(20 - 10) / 15⌉ = 1");
    let plan = plan_upkeep(&cfg(10), &all, &instances(&all), &policy(), NOW);
    assert!(plan.create.is_empty());
    let plan = plan_upkeep(&cfg(41), &all, &instances(&all), &policy(), NOW);
    assert_eq!(plan.create.len(), 3, "⌈31 / 15⌉ = 3");
    assert_eq!(
        plan.create[0].restore_type,
        crate::domain::RestoreType::FullCopy
    );
    assert_eq!(
        plan.create[0].tags.get(tags::ROLE).map(String::as_str),
        Some("copy")
    );
    let ids: std::collections::BTreeSet<_> = plan.create_ids.iter().collect();
    assert_eq!(ids.len(), 3, "distinct copy ids");
}

#[test]
fn copies_being_made_count_toward_the_target() {
    let mut making = copy("orders-new", "orders", NOW);
    making.status = "creating".into();
    making.members.clear();
    let mut all = vec![root("orders"), making];
    all.extend(clones("orders", "orders", 15));
    let plan = plan_upkeep(&cfg(15), &all, &instances(&all), &policy(), NOW);
    assert!(
        plan.create.is_empty(),
        "the copy being made covers the target"
    );
    assert_eq!(plan.slots_coming, 15);
    assert_eq!(plan.writers.len(), 1, "and it gets its writer");
}

/// A restored copy passes through `backing-up` before `available`: maintenance gives it its
/// writer then too, as a request waiting on the copy does (one rule: `accepts_writer`).
#[test]
fn a_copy_backing_up_gets_its_writer_as_a_request_would_give_it() {
    let mut making = copy("orders-new", "orders", NOW);
    making.status = "backing-up".into();
    making.members.clear();
    let all = vec![root("orders"), making];
    let plan = plan_upkeep(&cfg(15), &all, &instances(&all), &policy(), NOW);
    assert_eq!(plan.writers.len(), 1);
    assert_eq!(plan.writers[0].cluster_id, "orders-new");
    let mut modifying = all.clone();
    modifying[1].status = "modifying".into();
    let plan = plan_upkeep(&cfg(15), &modifying, &instances(&modifying), &policy(), NOW);
    assert!(plan.writers.is_empty(), "not while RDS would refuse it");
}

#[test]
fn obsolete_copies_are_retired_only_when_empty() {
    let old_empty = copy("orders-old-empty", "orders", NOW - TimeDuration::days(5));
    let old_busy = copy("orders-old-busy", "orders", NOW - TimeDuration::days(5));
    let mut all = vec![root("orders"), old_empty, old_busy];
    all.extend(clones("orders-old-busy", "orders", 2));
    let plan = plan_upkeep(&cfg(0), &all, &instances(&all), &policy(), NOW);
    assert_eq!(plan.retire, vec!["orders-old-empty"]);
    assert!(plan
        .kept
        .iter()
        .any(|(id, why)| id == "orders-old-busy" && why.contains("hosts 2 clones")));
    let mut keep = cfg(0);
    keep.purge_obsolete_copies = false;
    assert!(plan_upkeep(&keep, &all, &instances(&all), &policy(), NOW)
        .retire
        .is_empty());
}

#[test]
fn never_retires_what_is_not_a_pool_copy_of_this_stack() {
    let foreign = crate::planner::test_support::owned_as(
        copy("orders-foreign", "orders", NOW - TimeDuration::days(9)),
        tags::MANAGED_BY,
        "other-stack",
    );
    // A cluster tagged as this stack's copy by someone else: no deed, never retired.
    let mut forged = root("orders-forged");
    forged.tags = copy("x", "orders", NOW - TimeDuration::days(9)).tags;
    let clone = clone_on("orders-clone", "orders", "orders", "available");
    let all = vec![root("orders"), foreign, forged, clone, root("unrelated")];
    let plan = plan_upkeep(&cfg(0), &all, &instances(&all), &policy(), NOW);
    assert!(plan.retire.is_empty());
}

#[test]
fn per_cluster_overrides_apply() {
    let mut all = vec![root("orders")];
    all.extend(clones("orders", "orders", 4));
    let mut c = cfg(12);
    c.max_clones_per_source = Some(5);
    let plan = plan_upkeep(&c, &all, &instances(&all), &policy(), NOW);
    assert_eq!(plan.slots_free, 1);
    assert_eq!(plan.create.len(), 3, "⌈11 / 5⌉ = 3");
}

#[test]
fn a_missing_source_is_reported_and_nothing_is_done() {
    let plan = plan_upkeep(&cfg(30), &[root("other")], &[], &policy(), NOW);
    assert!(plan.problem.unwrap().contains("not found"));
    assert!(plan.create.is_empty());
}

/// Issue 12: pool copies get a Serverless v2 writer paused at zero where the root's engine
/// version can pause, else the lowest minimum; the source's config overrides the range.
#[test]
fn serverless_copies_pause_at_zero_where_the_version_allows() {
    let serverless = Policy {
        copy_instance_class: "db.serverless".into(),
        ..policy()
    };
    let copy_of = |version: &str, cfg: &ClusterConfig| {
        let mut r = root("orders");
        r.engine_version = Some(version.into());
        let all = vec![r];
        let plan = plan_upkeep(cfg, &all, &instances(&all), &serverless, NOW);
        let writer = plan.actions.iter().find_map(|a| match a {
            Action::CreateInstance(i) => Some(i.class.clone()),
            _ => None,
        });
        assert_eq!(writer.as_deref(), Some("db.serverless"));
        plan.create[0].capacity.expect("a scaling configuration")
    };
    let c = copy_of("16.4", &cfg(16));
    assert_eq!((c.min, c.max), (0.0, 2.0), "16.4 pauses");
    let c = copy_of("16.1", &cfg(16));
    assert_eq!((c.min, c.max), (0.5, 2.0), "16.1 cannot pause");
    let sized = ClusterConfig {
        copy_min_capacity: Some(0.0),
        copy_max_capacity: Some(4.0),
        ..cfg(16)
    };
    let c = copy_of("13.9", &sized);
    assert_eq!(
        (c.min, c.max),
        (0.5, 4.0),
        "0 raised to 0.5 where it cannot pause"
    );
    let all = vec![root("orders")];
    let provisioned = plan_upkeep(&cfg(16), &all, &instances(&all), &policy(), NOW);
    assert_eq!(
        provisioned.create[0].capacity, None,
        "a provisioned writer has no range"
    );
}
