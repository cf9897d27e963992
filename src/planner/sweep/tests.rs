use super::*;
use crate::planner::test_support::{clone_on, copy};
use time::macros::datetime;

const GRACE: Duration = Duration::from_secs(86_400);
const NOW: OffsetDateTime = datetime!(2026-12-02 12:00 UTC);

fn found(status: &str, physical: Option<&str>) -> StackResource {
    StackResource::Found {
        resource_type: "Custom::AuroraClone".into(),
        status: status.into(),
        physical_id: physical.map(String::from),
    }
}

fn arn(id: &str) -> String {
    format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}")
}

#[test]
fn only_clones_of_this_manager_with_a_stack_have_an_owner_to_ask() {
    let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1";
    let clone = crate::planner::test_support::owned_as(
        clone_on("qa", "prod", "prod", "available"),
        tags::STACK_ID,
        stack,
    );
    assert_eq!(owner(&clone, "acm"), Some((stack.into(), "L".into())));
    assert_eq!(owner(&clone, "other-manager"), None);
    let pool_copy = copy("prod-copy", "prod", NOW);
    assert_eq!(owner(&pool_copy, "acm"), None);
    let cli_clone = crate::planner::test_support::owned_as(clone.clone(), tags::STACK_ID, "cli");
    assert_eq!(
        owner(&cli_clone, "acm"),
        None,
        "the CLI's clones have no stack to ask"
    );
    let mut no_stack = cli_clone;
    no_stack.tags.remove(tags::STACK_ID);
    let no_stack = crate::planner::test_support::with_deed(no_stack);
    assert_eq!(owner(&no_stack, "acm"), None);
    // Tagged with a real stack by anyone who may tag: without a deed it is nobody's to sweep.
    let mut forged = clone.clone();
    forged.deed = None;
    assert_eq!(owner(&forged, "acm"), None);
}

#[test]
fn the_owner_decides_where_a_clone_stands() {
    let c = clone_on("qa", "prod", "prod", "available");
    let orphan = |s: Standing| matches!(s, Standing::Orphan(_));
    assert_eq!(
        standing(&c, &found("CREATE_COMPLETE", Some(&arn("qa")))),
        Standing::Owned
    );
    assert_eq!(
        standing(&c, &found("UPDATE_COMPLETE", Some(&arn("qa")))),
        Standing::Owned
    );
    assert!(orphan(standing(&c, &StackResource::Missing)));
    assert!(orphan(standing(
        &c,
        &found("UPDATE_COMPLETE", Some(&arn("qa-2")))
    )));
    assert!(orphan(standing(
        &c,
        &found("DELETE_COMPLETE", Some(&arn("qa")))
    )));
    assert_eq!(
        standing(&c, &found("CREATE_FAILED", Some("failed:r-qa"))),
        Standing::FailedCreate
    );
    assert!(matches!(
        standing(&c, &found("UPDATE_IN_PROGRESS", Some(&arn("qa-2")))),
        Standing::Unknown(_)
    ));
    assert!(matches!(
        standing(&c, &found("DELETE_SKIPPED", Some(&arn("qa")))),
        Standing::Kept(_)
    ));
    assert!(matches!(
        standing(&c, &found("DELETE_FAILED", Some(&arn("qa")))),
        Standing::Kept(_)
    ));
}

#[test]
fn an_orphan_is_marked_first_and_removed_only_after_the_grace() {
    let mut c = clone_on("qa", "prod", "prod", "available");
    let gone = Standing::Orphan("its stack or resource no longer exists".into());
    let first = actions(&c, &gone, GRACE, NOW);
    assert!(matches!(&first[..], [Action::Retag { add, .. }] if add.contains_key(ORPHAN_SINCE)));

    c.tags.insert(ORPHAN_SINCE.into(), tags::format_time(NOW));
    assert!(actions(&c, &gone, GRACE, NOW + time::Duration::hours(23)).is_empty());
    let later = actions(&c, &gone, GRACE, NOW + time::Duration::hours(24));
    let [Action::RemoveCluster(r)] = &later[..] else {
        panic!("expected a removal, got {later:?}");
    };
    assert_eq!(r.cluster_id, "qa");
    let event = r.event.as_ref().expect("orphan-removed event");
    assert_eq!(event.detail_type(), ORPHAN_REMOVED);
    assert_eq!(event.detail()["stackId"], "s");
    assert_eq!(
        event.detail()["reason"],
        "its stack or resource no longer exists"
    );
}

#[test]
fn a_clone_claimed_again_loses_its_mark_and_unknowns_are_left_alone() {
    let mut c = clone_on("qa", "prod", "prod", "available");
    c.tags.insert(ORPHAN_SINCE.into(), tags::format_time(NOW));
    let much_later = NOW + time::Duration::days(30);
    let cleared = actions(&c, &Standing::Owned, GRACE, much_later);
    assert!(matches!(&cleared[..], [Action::Retag { remove, .. }] if remove == &[ORPHAN_SINCE]));
    for s in [
        Standing::Unknown("its stack cannot be read: AccessDenied".into()),
        Standing::Kept("retained by its stack (DeletionPolicy)".into()),
    ] {
        assert!(actions(&c, &s, GRACE, much_later).is_empty(), "{s:?}");
    }
    c.tags.remove(ORPHAN_SINCE);
    assert!(actions(&c, &Standing::Owned, GRACE, much_later).is_empty());
}
