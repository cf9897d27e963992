use super::*;
use crate::planner::test_support::*;
use time::macros::datetime;
use time::Duration as TimeDuration;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn pool_of(clusters: &[Cluster]) -> Pool {
    observe_pool("orders", clusters, &policy(), 15).unwrap()
}

#[test]
fn the_root_goes_first() {
    let mut all = vec![
        root("orders"),
        copy("orders-copy-a", "orders", NOW - TimeDuration::hours(1)),
    ];
    all.extend(clones("orders", "orders", 14));
    let p = place(&pool_of(&all), &policy(), NOW, None).unwrap();
    assert_eq!(
        p,
        Placement {
            volume_id: "orders".into(),
            role: VolumeRole::Root
        }
    );
}

#[test]
fn a_full_root_sends_clones_to_the_newest_fresh_copy() {
    let mut all = vec![
        root("orders"),
        copy("orders-old", "orders", NOW - TimeDuration::days(2)),
        copy("orders-new", "orders", NOW - TimeDuration::hours(2)),
        copy("orders-stale", "orders", NOW - TimeDuration::days(4)),
    ];
    all.extend(clones("orders", "orders", 15));
    let pool = pool_of(&all);
    assert_eq!(pool.copies[0].cluster_id, "orders-new", "newest first");
    assert_eq!(
        place(&pool, &policy(), NOW, None).unwrap().volume_id,
        "orders-new"
    );
    all.extend(clones("orders-new", "orders", 15));
    assert_eq!(
        place(&pool_of(&all), &policy(), NOW, None)
            .unwrap()
            .volume_id,
        "orders-old"
    );
    all.extend(clones("orders-old", "orders", 15));
    assert_eq!(
        place(&pool_of(&all), &policy(), NOW, None),
        None,
        "a copy older than max-copy-age is not eligible"
    );
}

#[test]
fn copy_created_since_excludes_older_copies() {
    let mut all = vec![
        root("orders"),
        copy("orders-a", "orders", NOW - TimeDuration::hours(5)),
    ];
    all.extend(clones("orders", "orders", 15));
    let since = Some(NOW - TimeDuration::hours(1));
    assert_eq!(place(&pool_of(&all), &policy(), NOW, since), None);
    let earlier = Some(NOW - TimeDuration::hours(6));
    assert!(place(&pool_of(&all), &policy(), NOW, earlier).is_some());
}

/// Defect 6: free slots are counted per volume; the root's clones take nothing from a copy.
#[test]
fn free_slots_are_counted_per_volume() {
    let mut all = vec![
        root("orders"),
        copy("orders-a", "orders", NOW - TimeDuration::hours(1)),
        copy("orders-b", "orders", NOW - TimeDuration::hours(2)),
    ];
    all.extend(clones("orders", "orders", 12));
    all.extend(clones("orders-a", "orders", 5));
    let pool = pool_of(&all);
    assert_eq!(pool.root.free(), 3);
    assert_eq!(free_slots(&pool, &policy(), NOW), 3 + 10 + 15);
}

/// Defect 7: clones in any state, and clones made by hand on the same volume (seen through
/// CloneGroupId), occupy slots.
#[test]
fn every_clone_on_the_volume_counts_in_every_state() {
    let mut r = root("orders");
    r.clone_group_id = Some("cg-1".into());
    let mut all = vec![r];
    for (i, status) in ["stopped", "modifying", "creating", "deleting", "backing-up"]
        .iter()
        .enumerate()
    {
        all.push(clone_on(&format!("mine-{i}"), "orders", "orders", status));
    }
    for i in 0..10 {
        let mut by_hand = Cluster::new(&format!("by-hand-{i}"), "stopped");
        by_hand.clone_group_id = Some("cg-1".into());
        all.push(by_hand);
    }
    let pool = pool_of(&all);
    assert_eq!(pool.root.clones.len(), 15);
    assert_eq!(place(&pool, &policy(), NOW, None), None);
}

#[test]
fn copies_not_ready_are_not_eligible_but_are_in_progress() {
    let mut making = copy("orders-making", "orders", NOW);
    making.status = "creating".into();
    making.members.clear();
    let mut all = vec![root("orders"), making];
    all.extend(clones("orders", "orders", 15));
    let pool = pool_of(&all);
    assert_eq!(place(&pool, &policy(), NOW, None), None);
    assert_eq!(
        copy_in_progress(&pool, &policy(), NOW, None).map(|v| v.cluster_id.as_str()),
        Some("orders-making")
    );
}

#[test]
fn copies_of_other_managers_or_roots_are_not_in_the_pool() {
    let foreign = crate::planner::test_support::owned_as(
        copy("orders-foreign", "orders", NOW),
        crate::domain::tags::MANAGED_BY,
        "other",
    );
    // Tagged as this stack's copy by someone who may tag clusters: no deed, not a copy.
    let mut forged = root("orders-forged");
    forged.tags = copy("x", "orders", NOW).tags;
    let all = vec![
        root("orders"),
        foreign,
        forged,
        copy("billing-copy", "billing", NOW),
    ];
    assert!(pool_of(&all).copies.is_empty());
    assert!(observe_pool("missing", &all, &policy(), 15).is_none());
}

/// A pool of 10,000 clusters is planned without trouble (timing is in benches/, not here).
#[test]
fn a_large_account_is_planned() {
    let mut all = vec![root("orders")];
    for i in 0..40 {
        all.push(copy(
            &format!("orders-copy-{i}"),
            "orders",
            NOW - TimeDuration::minutes(i),
        ));
    }
    for i in 0..41 {
        let source = if i == 0 {
            "orders".to_string()
        } else {
            format!("orders-copy-{}", i - 1)
        };
        all.extend(clones(&source, "orders", 15));
    }
    while all.len() < 10_000 {
        all.push(root(&format!("other-{}", all.len())));
    }
    let pool = pool_of(&all);
    assert_eq!(pool.copies.len(), 40);
    assert_eq!(place(&pool, &policy(), NOW, None), None);
}
