//! The escalations a role that can tag could try, all denied (issue 10, item 1): with the
//! prefix, a tag makes nothing the manager's; without it, what the security model (docs/security.md) says
//! remains; secrets outside the allowed prefixes and keys the function did not create stay out
//! of reach.

mod support;

use aurora_clone_manager::domain::tags::{FOR_SECRET, MANAGED_BY};
use serde_json::json;
use support::iam::*;
use support::policy::resource_allows;
use support::render::{role_policy, ACCOUNT, STACK};

#[test]
fn secrets_under_an_allowed_prefix_are_reachable_and_nothing_else() {
    let s = Stack::new(&[("AllowedSecretPrefixes", "/team-a/,/team-b/")]);
    for name in [
        "/team-a/qa-clone-0f11",
        "/team-b/x",
        "/aurora-clone-manager/x",
    ] {
        s.assert_allowed(name, &s.create_secret(name, OURS));
        s.assert_allowed(name, &[s.req("secretsmanager:DeleteSecret", &secret(name))]);
    }
    s.assert_refused("/team-c/", &s.create_secret("/team-c/x", OURS));
    s.assert_refused("/team-", &s.create_secret("/team-ab/x", OURS));
}

/// Issue 10 item 1, with the prefix: tagging an untagged cluster as the manager's is refused,
/// and so is every change to a cluster without the prefix, whatever its tags say.
#[test]
fn with_the_prefix_a_tag_makes_nothing_ours() {
    let s = Stack::new(&with_prefix());
    s.assert_refused(
        "tag production as ours",
        &s.tag(&cluster("orders"), &[("team", "orders")], OURS),
    );
    s.assert_refused(
        "tag production's writer as ours",
        &s.tag(&db("orders-writer"), &[], OURS),
    );
    // Even if production carried the tag (set by someone else), it is out of reach.
    for action in [
        "rds:DeleteDBCluster",
        "rds:ModifyDBCluster",
        "rds:StopDBCluster",
        "rds:RemoveTagsFromResource",
    ] {
        s.assert_refused(action, &s.on(action, &cluster("orders"), OURS));
    }
    s.assert_refused(
        "delete production's writer",
        &s.on("rds:DeleteDBInstance", &db("orders-writer"), OURS),
    );
    s.assert_refused(
        "rename production's writer aside",
        &s.rename_instance("orders-writer", "clone-orders-writer", OURS),
    );
    // A clone taking a name outside the prefix (a production endpoint's, once that cluster is
    // gone): refused where AWS authorizes the name a rename takes, as this test writes it.
    s.assert_refused(
        "rename a clone onto production's name",
        &s.rename_cluster("clone-orders-1", "orders", OURS),
    );
    s.assert_refused(
        "rename a clone's writer onto production's writer's name",
        &s.rename_instance("clone-orders-1-writer", "orders-writer", OURS),
    );
    // Ours by prefix but not by tag (a cluster someone else named with the prefix): no change.
    s.assert_refused(
        "delete an untagged prefixed cluster",
        &s.on("rds:DeleteDBCluster", &cluster("clone-manual"), &[]),
    );
    s.assert_refused(
        "rename an untagged prefixed instance",
        &s.rename_instance("clone-manual-1", "clone-manual-2", &[]),
    );
}

#[test]
fn with_the_prefix_restores_go_only_into_prefixed_ids_from_allowed_sources() {
    let s = Stack::new(&with_prefix());
    s.assert_refused(
        "a target without the prefix",
        &s.restore("orders-evil", "orders", &[], OURS),
    );
    s.assert_refused(
        "a source not allowed",
        &s.restore("clone-payments-1", "payments", &[], OURS),
    );
    s.assert_refused(
        "a restore without the manager's tags",
        &s.restore("clone-orders-1", "orders", &[], &[("team", "x")]),
    );
    s.assert_refused(
        "an instance added to production",
        &s.create_instance("clone-x", "orders", &[("team", "orders")], OURS),
    );
    s.assert_refused(
        "an instance without the prefix",
        &s.create_instance("orders-reader-9", "clone-orders-1", OURS, OURS),
    );
    // A tag entry among the sources cannot be written as an IAM condition: the source side is
    // any cluster then (the function enforces the entry), the target side still the prefix.
    let tagged = Stack::new(&[
        ("ClusterIdPrefix", PREFIX),
        ("AllowedSources", "team=orders"),
    ]);
    tagged.assert_allowed(
        "any source with a tag entry",
        &tagged.restore("clone-payments-1", "payments", &[], OURS),
    );
    tagged.assert_refused(
        "a target without the prefix",
        &tagged.restore("payments-evil", "payments", &[], OURS),
    );
}

/// Issue 10 item 1, without the prefix: what the security model (docs/security.md) says remains. RDS
/// authorizes create-time tags as rds:AddTagsToResource with no condition that tells creation
/// from later tagging, so the role can tag any cluster as its own and then change or delete it.
/// A single step (deleting what does not carry the tag) is refused.
#[test]
fn without_the_prefix_the_two_step_remains_as_the_readme_says() {
    let s = Stack::new(&[("AllowedSources", "orders")]);
    s.assert_refused(
        "delete untagged production",
        &s.on(
            "rds:DeleteDBCluster",
            &cluster("orders"),
            &[("team", "orders")],
        ),
    );
    s.assert_refused(
        "modify untagged production",
        &s.on("rds:ModifyDBCluster", &cluster("orders"), &[]),
    );
    s.assert_refused(
        "rename untagged production's writer",
        &s.rename_instance("orders-writer", "orders-writer-old", &[("team", "orders")]),
    );
    s.assert_allowed(
        "step 1: tag production as ours (documented)",
        &s.tag(&cluster("orders"), &[], OURS),
    );
    s.assert_allowed(
        "step 2: delete it (documented)",
        &s.on("rds:DeleteDBCluster", &cluster("orders"), OURS),
    );
}

/// Issue 10 item 1, secrets: outside the allowed prefixes nothing is reachable, tagged or not.
#[test]
fn secrets_outside_the_prefixes_cannot_be_tagged_read_or_deleted() {
    let s = Stack::new(&[]);
    let prod = "prod/orders/db-password";
    s.assert_refused(
        "tag a production secret as ours",
        &[s.req("secretsmanager:TagResource", &secret(prod))
            .resource_tags(&[])
            .request_tags(OURS)],
    );
    for action in [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:DescribeSecret",
    ] {
        s.assert_refused(
            action,
            &[s.req(action, &secret(prod))
                .resource_tags(OURS)
                .with("secretsmanager:BlockPublicPolicy", "true")],
        );
    }
    s.assert_refused(
        "a secret under another prefix",
        &s.create_secret("/other/x", OURS),
    );
    s.assert_refused(
        "a public reader policy",
        &s.put_secret_policy("/aurora-clone-manager/x", false),
    );
}

/// Issue 10 item 1, keys: IAM grants no PutKeyPolicy, ScheduleKeyDeletion or UntagResource on
/// any key. A key the function did not create, whose policy delegates to IAM (the default key
/// policy), stays out of reach even carrying the manager's tags.
#[test]
fn keys_not_created_by_the_function_cannot_be_rekeyed_or_retired() {
    let s = Stack::new(&[]);
    let default_key_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*", "Resource": "*"}]});
    let prod = key("production-key");
    for action in [
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:UntagResource",
        "kms:DisableKey",
        "kms:CreateGrant",
        "kms:Decrypt",
    ] {
        let req = s.req(action, &prod).resource_tags(OURS);
        assert!(
            !resource_allows(&default_key_policy, Some(s.iam()), &req),
            "{action} on a key the function did not create"
        );
    }
    // Tagging such a key is allowed by IAM (KMS authorizes CreateKey's tags on no particular key)
    // and gives the role nothing: no statement of it keys on a key's tags.
    let tag = s
        .req("kms:TagResource", &prod)
        .request_tags(&[(MANAGED_BY, STACK), (FOR_SECRET, "/aurora-clone-manager/x")]);
    assert!(resource_allows(&default_key_policy, Some(s.iam()), &tag));
    assert!(
        !role_policy(&s.rendered)["Statement"]
            .to_string()
            .contains("aws:ResourceTag/aurora-clone-manager:managed-by\":\"aurora-clone-manager\"}},\"Effect\":\"Allow\",\"Resource\":\"arn:aws:kms"),
        "no KMS statement keys on a key's tags"
    );
    s.assert_refused("a key without the manager's tags", &s.create_key(&[]));
    s.assert_refused(
        "a key without the secret it is for",
        &s.create_key(&[(MANAGED_BY, STACK)]),
    );
    s.assert_refused(
        "a grant not through RDS",
        &[s.req("kms:CreateGrant", &prod)
            .with("kms:GrantIsForAWSResource", "true")],
    );
    s.assert_refused(
        "a grant through RDS for a principal, not a resource",
        &[s.via("rds", "kms:CreateGrant", &prod)],
    );
    s.assert_refused("decrypt directly", &[s.req("kms:Decrypt", &prod)]);
}
