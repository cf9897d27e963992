//! The permissions the stack deploys, evaluated (issue 10, items 1 and 2): the Role's policy as
//! CloudFormation renders it (`scripts/render_policy.py`), for the prefix set and unset, against
//! every AWS authorization the function's flows need (all allowed). The escalations a role that
//! can tag could try are in tests/iam_escalation.rs, the key, secret, bus and trust policies in
//! tests/iam_resource_policies.rs; the evaluator itself is `support::policy`.
//!
//! Each AWS call is written as the authorizations AWS makes for it (documented in the Service
//! Authorization Reference and the services' guides): a restore is authorized on its target and
//! its source cluster, subnet group, parameter and option groups, and its tags as
//! rds:AddTagsToResource on the target; CreateKey's tags as kms:TagResource on no particular key;
//! CreateSecret's tags as secretsmanager:TagResource.

mod support;

use aurora_clone_manager::domain::ident::writer_instance_id;
use aurora_clone_manager::domain::refresh::{fresh_id, retired_id, schedule_name};
use aurora_clone_manager::domain::tags::{self, FOR_SECRET, MANAGED_BY};
use support::iam::*;
use support::policy::{allows, evaluate, resource_allows, wildcard, Decision, Request};
use support::render::{arn, ACCOUNT, REGION, STACK};

/// Every call the function makes in its flows (Create with SetPassword and a key of its own,
/// Update of tags and readers, expiry, refresh, Delete, maintenance, follow-ups, events), for a
/// clone `<prefix>orders-...` of `orders`, its writer, a pool copy, a refresh's new and retired
/// clusters and writers, the secret and the key.
fn every_flow(s: &Stack, prefix: &str) {
    let clone = format!("{prefix}orders-20261122120000-0f11");
    let writer = format!("{clone}-writer");
    // A refresh's names, as the code makes them.
    let (fresh, retired) = (fresh_id(&clone, "ab12cd"), retired_id(&clone, "ab12cd"));
    let refresh_schedule = arn(
        "scheduler",
        &format!("schedule/{STACK}-expiry/{}", schedule_name(&clone)),
    );
    let copy = format!("{prefix}orders-copy-20261122");
    let copy_tags: Tags = &[(MANAGED_BY, STACK), (tags::ROLE, "copy")];
    let name = format!("/aurora-clone-manager/{clone}-0f11");
    let secret_tags: Tags = &[
        (MANAGED_BY, STACK),
        (tags::CLUSTER, "c"),
        ("team", "payments"),
    ];
    let key_tags: Tags = &[(MANAGED_BY, STACK), (FOR_SECRET, "/aurora-clone-manager/c")];
    let flows: Vec<(&str, Vec<Request>)> = vec![
        (
            "observe",
            vec![
                s.req("rds:DescribeDBClusters", &cluster("*")),
                s.req("rds:DescribeDBClusters", &cluster("orders")),
                s.req("rds:DescribeDBInstances", &db("*")),
                s.req("rds:DescribeAccountAttributes", "*"),
            ],
        ),
        (
            "restore a clone of an allowed source",
            s.restore(&clone, "orders", &[("team", "orders")], OURS),
        ),
        (
            "restore a pool copy of an allowed source",
            s.restore(&copy, "orders", &[], copy_tags),
        ),
        (
            "restore a clone of a pool copy",
            s.restore(&clone, &copy, copy_tags, OURS),
        ),
        (
            "create the writer",
            s.create_instance(&writer, &clone, OURS, OURS),
        ),
        (
            "mark the clone (password secret, key, state)",
            s.tag(&cluster(&clone), OURS, &[(tags::PASSWORD_STATE, "set")]),
        ),
        (
            "update the clone's tags in place",
            [
                s.tag(&cluster(&clone), OURS, &[("team", "billing")]),
                s.on("rds:RemoveTagsFromResource", &cluster(&clone), OURS),
                s.tag(&db(&writer), OURS, &[("team", "billing")]),
            ]
            .concat(),
        ),
        (
            "set the master password",
            s.on("rds:ModifyDBCluster", &cluster(&clone), OURS),
        ),
        (
            "expire: stop and start",
            [
                s.on("rds:StopDBCluster", &cluster(&clone), OURS),
                s.on("rds:StartDBCluster", &cluster(&clone), OURS),
            ]
            .concat(),
        ),
        (
            "delete the writer and the clone",
            [
                s.on("rds:DeleteDBInstance", &db(&writer), OURS),
                s.on("rds:DeleteDBCluster", &cluster(&clone), OURS),
            ]
            .concat(),
        ),
        (
            "retire a pool copy",
            s.on("rds:DeleteDBCluster", &cluster(&copy), copy_tags),
        ),
        (
            "restore from a source encrypted with a customer managed key",
            vec![
                s.via("rds", "kms:CreateGrant", &key("source-key"))
                    .with("kms:GrantIsForAWSResource", "true"),
                s.via("rds", "kms:DescribeKey", &key("source-key")),
            ],
        ),
        (
            "create the secret under the default prefix",
            s.create_secret(&name, secret_tags),
        ),
        (
            "read back, describe and retag the secret",
            vec![
                s.req("secretsmanager:DescribeSecret", &secret(&name)),
                s.req("secretsmanager:GetSecretValue", &secret(&name)),
                s.req("secretsmanager:TagResource", &secret(&name))
                    .request_tags(&[("team", "billing")]),
                s.req("secretsmanager:UntagResource", &secret(&name))
                    .with("aws:TagKeys", "team"),
            ],
        ),
        (
            "encrypt and decrypt the secret through Secrets Manager",
            vec![
                s.via("secretsmanager", "kms:GenerateDataKey", &key("k")),
                s.via("secretsmanager", "kms:Decrypt", &key("k")),
            ],
        ),
        (
            "put and remove the secret's reader policy",
            [
                s.put_secret_policy(&name, true),
                vec![s.req("secretsmanager:DeleteResourcePolicy", &secret(&name))],
            ]
            .concat(),
        ),
        (
            "delete the secret",
            vec![s.req("secretsmanager:DeleteSecret", &secret(&name))],
        ),
        ("create a key for one clone", s.create_key(key_tags)),
        (
            "find a key a dead attempt made",
            vec![
                s.req("kms:ListKeys", "*"),
                s.req("kms:ListResourceTags", &key("any")),
            ],
        ),
        (
            "state table items",
            [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Scan",
            ]
            .iter()
            .map(|a| s.req(a, &arn("dynamodb", &format!("table/{STACK}-state"))))
            .collect(),
        ),
        (
            "lifecycle events on the bus",
            vec![s
                .req(
                    "events:PutEvents",
                    &arn("events", &format!("event-bus/{STACK}-lifecycle")),
                )
                .with("events:source", "aurora-clone-manager")
                .with("events:detail-type", "lifecycle-event/instance-ready")],
        ),
        (
            "arm and disarm the follow-up rule",
            [
                "events:PutRule",
                "events:PutTargets",
                "events:EnableRule",
                "events:DisableRule",
                "events:DescribeRule",
            ]
            .iter()
            .map(|a| s.req(a, &arn("events", &format!("rule/{STACK}-follow-up"))))
            .collect(),
        ),
        (
            "read the maintenance config",
            vec![s.req(
                "ssm:GetParameter",
                &arn("ssm", &format!("parameter/{STACK}/maintenance-config")),
            )],
        ),
        (
            "verify a stack request",
            [
                "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStacks",
            ]
            .iter()
            .map(|a| {
                s.req(
                    a,
                    &arn(
                        "cloudformation",
                        "stack/orders-qa-db/7f1c0000-0000-4000-8000-000000000000",
                    ),
                )
            })
            .collect(),
        ),
        (
            "schedule and unschedule a clone's expiry",
            vec![
                s.req(
                    "scheduler:CreateSchedule",
                    &arn("scheduler", &format!("schedule/{STACK}-expiry/{clone}")),
                ),
                s.req(
                    "scheduler:DeleteSchedule",
                    &arn("scheduler", &format!("schedule/{STACK}-expiry/{clone}")),
                ),
                s.req(
                    "iam:PassRole",
                    &format!("arn:aws:iam::{ACCOUNT}:role/{STACK}-expiry-{REGION}"),
                )
                .with("iam:PassedToService", "scheduler.amazonaws.com"),
            ],
        ),
        (
            "refresh: make the new clone and its writer, and give it the clone's password",
            [
                s.restore(&fresh, "orders", &[("team", "orders")], OURS),
                s.create_instance(&writer_instance_id(&fresh), &fresh, OURS, OURS),
                s.on("rds:ModifyDBCluster", &cluster(&fresh), OURS),
            ]
            .concat(),
        ),
        (
            "refresh: cut over (the old writer and clone aside, the new ones in) and back",
            [
                s.rename_instance(&writer, &writer_instance_id(&retired), OURS),
                s.rename_cluster(&clone, &retired, OURS),
                s.rename_cluster(&fresh, &clone, OURS),
                s.rename_instance(&writer_instance_id(&fresh), &writer, OURS),
                s.rename_cluster(&retired, &clone, OURS),
                s.rename_instance(&writer_instance_id(&retired), &writer, OURS),
            ]
            .concat(),
        ),
        (
            "refresh: delete the retired clone and its writer",
            [
                s.on(
                    "rds:DeleteDBInstance",
                    &db(&writer_instance_id(&retired)),
                    OURS,
                ),
                s.on("rds:DeleteDBCluster", &cluster(&retired), OURS),
            ]
            .concat(),
        ),
        (
            "schedule, change and unschedule a clone's refresh",
            [
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
            ]
            .iter()
            .map(|a| s.req(a, &refresh_schedule))
            .chain([s
                .req(
                    "iam:PassRole",
                    &format!("arn:aws:iam::{ACCOUNT}:role/{STACK}-expiry-{REGION}"),
                )
                .with("iam:PassedToService", "scheduler.amazonaws.com")])
            .collect(),
        ),
        (
            "report a failed asynchronous invocation",
            vec![s.req(
                "sqs:SendMessage",
                &format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-FailedInvocations-EXAMPLE"),
            )],
        ),
        (
            "log",
            vec![s.req(
                "logs:PutLogEvents",
                &arn(
                    "logs",
                    &format!("log-group:/aws/lambda/{STACK}-clone-manager:log-stream:x"),
                ),
            )],
        ),
    ];
    for (what, auths) in flows {
        s.assert_allowed(what, &auths);
    }
}

#[test]
fn every_flow_of_the_function_is_allowed_with_the_prefix_and_without() {
    every_flow(&Stack::new(&with_prefix()), PREFIX);
    every_flow(&Stack::new(&[]), "");
    every_flow(&Stack::new(&[("AllowedSources", "orders")]), "");
    every_flow(
        &Stack::new(&[
            ("ClusterIdPrefix", PREFIX),
            ("AllowedSources", "team=orders"),
        ]),
        PREFIX,
    );
}

/// A refresh renames within the prefix whatever the clone's length: its temporary and retired
/// names, and their writers', cut the clone's identifier at its end, never its start.
#[test]
fn a_refresh_renames_within_the_prefix_for_the_longest_clone_id() {
    let s = Stack::new(&with_prefix());
    let clone = format!("{PREFIX}{}", "o".repeat(63 - PREFIX.len()));
    let attempt = "ffffffffffff";
    let (fresh, retired) = (fresh_id(&clone, attempt), retired_id(&clone, attempt));
    let writer = writer_instance_id(&clone);
    let renames = [
        s.rename_instance(&writer, &writer_instance_id(&retired), OURS),
        s.rename_cluster(&clone, &retired, OURS),
        s.rename_cluster(&fresh, &clone, OURS),
        s.rename_instance(&writer_instance_id(&fresh), &writer, OURS),
    ];
    s.assert_allowed(&format!("{clone} refreshed"), &renames.concat());
}

#[test]
fn stack_verification_is_granted_only_when_enabled() {
    let describe = |s: &Stack| {
        [
            "cloudformation:DescribeStackResource",
            "cloudformation:DescribeStacks",
        ]
        .iter()
        .map(|a| s.req(a, &arn("cloudformation", "stack/app/1")))
        .collect::<Vec<_>>()
    };
    let on = Stack::new(&[]);
    on.assert_allowed("verification on", &describe(&on));
    let off = Stack::new(&[("VerifyStackRequests", "false")]);
    off.assert_refused("verification off", &describe(&off));
}

/// IAM allows 10,240 characters of inline policy per role (whitespace aside): the policy stays
/// under it with every list parameter at its longest.
#[test]
fn the_role_policy_fits_iams_size_limit() {
    let long_id = "a".repeat(63);
    let ids = [long_id.as_str(); 8].join(",");
    let long_prefix = format!("/{}/", "p".repeat(60));
    let prefixes = [long_prefix.as_str(); 5].join(",");
    let s = Stack::new(&[
        ("ClusterIdPrefix", "abcdefghijklmnopqrs-"),
        ("AllowedSources", &ids),
        ("AllowedSecretPrefixes", &prefixes),
        ("DefaultSecretPrefix", &long_prefix),
    ]);
    let size = serde_json::to_string(s.iam()).unwrap().len();
    assert!(
        size < 10_240,
        "the role's inline policy is {size} characters"
    );
    let sources = s.iam()["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Sid"] == "CloneAllowedSources")
        .unwrap()["Resource"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(sources, 8 + 3, "eight source ids and the network resources");
}

#[test]
fn the_evaluator_follows_aws_rules_on_small_cases() {
    use serde_json::json;
    assert!(wildcard(
        "arn:aws:rds:*:cluster:clone-*",
        "arn:aws:rds:x:cluster:clone-a"
    ));
    assert!(!wildcard(
        "arn:aws:rds:*:cluster:clone-*",
        "arn:aws:rds:x:cluster:prod"
    ));
    assert!(wildcard("a?c", "abc") && !wildcard("a?c", "ac"));
    let p = json!({"Statement": [
        {"Effect": "Allow", "Action": "rds:Delete*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/owner": "me"}}},
        {"Effect": "Deny", "Action": "rds:DeleteDBCluster", "Resource": "arn:x:cluster:prod"},
        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
         "Condition": {"Null": {"aws:RequestTag/a": "false"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}}
    ]});
    let del = |r: &str| Request::new("me", "rds:DeleteDBCluster", r);
    assert!(allows(
        &p,
        &del("arn:x:cluster:c").resource_tags(&[("owner", "me")])
    ));
    assert!(!allows(&p, &del("arn:x:cluster:c")), "a missing key fails");
    assert!(!allows(
        &p,
        &del("arn:x:cluster:prod").resource_tags(&[("owner", "me")])
    ));
    assert_eq!(
        evaluate(
            &p,
            &del("arn:x:cluster:prod").resource_tags(&[("owner", "me")]),
            false
        ),
        Decision::Denied
    );
    let key = |tags: &[(&str, &str)]| Request::new("me", "kms:CreateKey", "*").request_tags(tags);
    assert!(allows(&p, &key(&[("a", "1")])));
    assert!(allows(&p, &key(&[("a", "1"), ("b", "2")])));
    assert!(!allows(&p, &key(&[("a", "1"), ("c", "2")])));
    assert!(!allows(&p, &key(&[("b", "1")])));
    let kp = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": "1"}}}
    ]});
    let role = "arn:aws:iam::1:role/r";
    let none = json!({"Statement": []});
    assert!(!resource_allows(
        &kp,
        Some(&none),
        &Request::new(role, "kms:PutKeyPolicy", "k")
    ));
    assert!(resource_allows(
        &kp,
        None,
        &Request::new(role, "kms:PutKeyPolicy", "k")
    ));
    assert!(resource_allows(
        &kp,
        Some(&none),
        &Request::new(role, "kms:Decrypt", "k").with("kms:CallerAccount", "1")
    ));
}
