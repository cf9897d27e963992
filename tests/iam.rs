//! The permissions the stack deploys, evaluated (issue 10, items 1 and 2): the Role's policy as
//! CloudFormation renders it (`scripts/render_policy.py`), for the prefix set and unset, against
//! every AWS authorization the function's flows need (all allowed) and against the escalations a
//! role that can tag could try (all denied); and every key policy against what CloudFormation and
//! the function call with that key.
//!
//! Each AWS call is written as the authorizations AWS makes for it (documented in the Service
//! Authorization Reference and the services' guides): a restore is authorized on its target and
//! its source cluster, subnet group, parameter and option groups, and its tags as
//! rds:AddTagsToResource on the target; CreateKey's tags as kms:TagResource on no particular key;
//! CreateSecret's tags as secretsmanager:TagResource.

#[path = "iam/policy.rs"]
mod policy;
#[path = "iam/render.rs"]
mod render;

use aurora_clone_manager::password::{key_policy, secret_policy};
use policy::{allows, resource_allows, Request};
use render::{arn, properties, render, role_arn, role_policy, ACCOUNT, REGION, STACK};
use serde_json::{json, Value};

const MANAGED_BY: &str = "aurora-clone-manager:managed-by";
const FOR_SECRET: &str = "aurora-clone-manager:for-secret";
const PREFIX: &str = "clone-";
const DEPLOYER: &str = "arn:aws:iam::123456789012:role/deployer";
const DEVELOPERS: &str = "arn:aws:iam::123456789012:role/developers";

type Tags<'a> = &'a [(&'a str, &'a str)];

/// The tags the function writes at creation (owner first; lineage and the user's tags after).
const OURS: Tags = &[
    (MANAGED_BY, STACK),
    ("aurora-clone-manager:role", "clone"),
    ("team", "payments"),
];

fn cluster(id: &str) -> String {
    arn("rds", &format!("cluster:{id}"))
}

fn db(id: &str) -> String {
    arn("rds", &format!("db:{id}"))
}

fn secret(name: &str) -> String {
    arn("secretsmanager", &format!("secret:{name}-AbCdEf"))
}

fn key(id: &str) -> String {
    arn("kms", &format!("key/{id}"))
}

/// The stack rendered with some parameters, and its function's role.
struct Stack {
    rendered: Value,
    role: String,
}

impl Stack {
    fn new(params: &[(&str, &str)]) -> Stack {
        let rendered = render(params);
        let role = role_arn(&rendered);
        Stack { rendered, role }
    }

    fn iam(&self) -> &Value {
        role_policy(&self.rendered)
    }

    fn req(&self, action: &str, resource: &str) -> Request {
        Request::new(&self.role, action, resource)
    }

    /// The authorizations of a call that the role's policy refuses, as readable lines.
    fn refused(&self, auths: &[Request]) -> Vec<String> {
        auths
            .iter()
            .filter(|r| !allows(self.iam(), r))
            .map(|r| format!("{} on {} {:?}", r.action, r.resource, r.context))
            .collect()
    }

    fn assert_allowed(&self, what: &str, auths: &[Request]) {
        let refused = self.refused(auths);
        assert!(refused.is_empty(), "{what}: refused {refused:#?}");
    }

    fn assert_refused(&self, what: &str, auths: &[Request]) {
        assert!(
            !self.refused(auths).is_empty(),
            "{what}: every authorization was allowed"
        );
    }

    // --- the calls, as AWS authorizes them ---------------------------------------------------

    fn restore(&self, target: &str, source: &str, source_tags: Tags, tags: Tags) -> Vec<Request> {
        let r = |res: &str| {
            self.req("rds:RestoreDBClusterToPointInTime", res)
                .request_tags(tags)
        };
        vec![
            r(&cluster(target)),
            r(&cluster(source)).resource_tags(source_tags),
            r(&arn("rds", "subgrp:orders-subnets")),
            r(&arn("rds", "cluster-pg:default.aurora-postgresql16")),
            r(&arn("rds", "og:default:aurora-postgresql-16")),
            self.req("rds:AddTagsToResource", &cluster(target))
                .request_tags(tags),
        ]
    }

    fn create_instance(
        &self,
        instance: &str,
        cluster_id: &str,
        cluster_tags: Tags,
        tags: Tags,
    ) -> Vec<Request> {
        let r = |res: &str| self.req("rds:CreateDBInstance", res).request_tags(tags);
        vec![
            r(&db(instance)),
            r(&cluster(cluster_id)).resource_tags(cluster_tags),
            r(&arn("rds", "pg:default.aurora-postgresql16")),
            self.req("rds:AddTagsToResource", &db(instance))
                .request_tags(tags),
        ]
    }

    fn on(&self, action: &str, resource: &str, resource_tags: Tags) -> Vec<Request> {
        vec![self.req(action, resource).resource_tags(resource_tags)]
    }

    fn tag(&self, resource: &str, resource_tags: Tags, tags: Tags) -> Vec<Request> {
        vec![self
            .req("rds:AddTagsToResource", resource)
            .resource_tags(resource_tags)
            .request_tags(tags)]
    }

    fn create_secret(&self, name: &str, tags: Tags) -> Vec<Request> {
        vec![
            self.req("secretsmanager:CreateSecret", &secret(name))
                .request_tags(tags),
            self.req("secretsmanager:TagResource", &secret(name))
                .request_tags(tags),
        ]
    }

    fn put_secret_policy(&self, name: &str, block_public: bool) -> Vec<Request> {
        vec![self
            .req("secretsmanager:PutResourcePolicy", &secret(name))
            .with(
                "secretsmanager:BlockPublicPolicy",
                &block_public.to_string(),
            )]
    }

    fn create_key(&self, tags: Tags) -> Vec<Request> {
        vec![
            self.req("kms:CreateKey", "*").request_tags(tags),
            self.req("kms:TagResource", "*").request_tags(tags),
        ]
    }

    fn via(&self, service: &str, action: &str, resource: &str) -> Request {
        self.req(action, resource)
            .with(
                "kms:ViaService",
                &format!("{service}.{REGION}.amazonaws.com"),
            )
            .with("kms:CallerAccount", ACCOUNT)
    }
}

fn with_prefix() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ClusterIdPrefix", PREFIX),
        ("AllowedSources", "orders,billing"),
    ]
}

/// Every call the function makes in its flows (Create with SetPassword and a key of its own,
/// Update of tags and readers, expiry, Delete, maintenance, follow-ups, events), for a clone
/// `<prefix>orders-...` of `orders`, its writer, a pool copy, the secret and the key.
fn every_flow(s: &Stack, prefix: &str) {
    let clone = format!("{prefix}orders-20261122120000-0f11");
    let writer = format!("{clone}-writer");
    let copy = format!("{prefix}orders-copy-20261122");
    let copy_tags: Tags = &[(MANAGED_BY, STACK), ("aurora-clone-manager:role", "copy")];
    let name = format!("/aurora-clone-manager/{clone}-0f11");
    let secret_tags: Tags = &[
        (MANAGED_BY, STACK),
        ("aurora-clone-manager:cluster", "c"),
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
            s.tag(
                &cluster(&clone),
                OURS,
                &[("aurora-clone-manager:password-state", "set")],
            ),
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
    // Ours by prefix but not by tag (a cluster someone else named with the prefix): no change.
    s.assert_refused(
        "delete an untagged prefixed cluster",
        &s.on("rds:DeleteDBCluster", &cluster("clone-manual"), &[]),
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

/// Issue 10 item 1, without the prefix: what the README's Security model says remains. RDS
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

/// What CloudFormation calls on a key (the AWS::KMS::Key and AWS::KMS::Alias handlers of the
/// resource provider schemas: create, read, update, delete), as the deployer, an administrator
/// of the account.
const CLOUDFORMATION_ON_A_KEY: &[&str] = &[
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyRotationStatus",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:GetKeyPolicy",
    "kms:DescribeKey",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
];
const CLOUDFORMATION_ON_AN_ALIASED_KEY: &[&str] =
    &["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"];

fn key_policy_of(rendered: &Value, key: &str) -> Value {
    properties(rendered, key)["KeyPolicy"].clone()
}

/// Issue 10 item 2: every key policy grants what its callers need (and the stack deploys:
/// DefaultKeyAlias needs kms:CreateAlias on DefaultKey), and nothing reads with the keys beyond
/// those callers.
#[test]
fn every_key_policy_grants_what_cloudformation_and_the_function_call() {
    let s = Stack::new(&[("AllowedReaderAccounts", "111122223333")]);
    let iam = s.iam();
    let default = key_policy_of(&s.rendered, "DefaultKey");
    let state = key_policy_of(&s.rendered, "StateKey");
    let created = key_policy(ACCOUNT, &[DEVELOPERS.to_string()], REGION, Some(&s.role));
    let k = key("k");
    let deployer = |action: &str| Request::new(DEPLOYER, action, &k);
    let deployer_via = |service: &str, action: &str| {
        deployer(action)
            .with(
                "kms:ViaService",
                &format!("{service}.{REGION}.amazonaws.com"),
            )
            .with("kms:CallerAccount", ACCOUNT)
    };
    let needed: Vec<(&str, &Value, Option<&Value>, Request)> = [
        // CloudFormation, for both stack keys; the alias for DefaultKey.
        CLOUDFORMATION_ON_A_KEY
            .iter()
            .flat_map(|a| {
                [
                    ("DefaultKey", &default, None, deployer(a)),
                    ("StateKey", &state, None, deployer(a)),
                ]
            })
            .collect::<Vec<_>>(),
        CLOUDFORMATION_ON_AN_ALIASED_KEY
            .iter()
            .map(|a| ("DefaultKey", &default, None, deployer(a)))
            .collect(),
        // DynamoDB creating the state table with the deployer's credentials.
        vec![
            (
                "StateKey",
                &state,
                None,
                deployer_via("dynamodb", "kms:CreateGrant")
                    .with("kms:GrantIsForAWSResource", "true"),
            ),
            (
                "StateKey",
                &state,
                None,
                deployer_via("dynamodb", "kms:DescribeKey"),
            ),
        ],
        // The function: the state table through DynamoDB.
        [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ]
        .iter()
        .map(|a| ("StateKey", &state, Some(iam), s.via("dynamodb", a, &k)))
        .collect(),
        // The function: secrets encrypted with the stack's default key.
        ["kms:GenerateDataKey", "kms:Decrypt"]
            .iter()
            .map(|a| {
                (
                    "DefaultKey",
                    &default,
                    Some(iam),
                    s.via("secretsmanager", a, &k),
                )
            })
            .collect(),
        // The function: a key it created (PutKeyPolicy is also KMS's lockout check at CreateKey).
        [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ListResourceTags",
            "kms:DescribeKey",
        ]
        .iter()
        .map(|a| ("created key", &created, Some(iam), s.req(a, &k)))
        .chain(
            ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"]
                .iter()
                .map(|a| {
                    (
                        "created key",
                        &created,
                        Some(iam),
                        s.via("secretsmanager", a, &k),
                    )
                }),
        )
        .chain(
            [
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:DescribeKey",
            ]
            .iter()
            .map(|a| ("created key", &created, None, deployer(a))),
        )
        .collect(),
    ]
    .concat();
    for (name, policy, iam, req) in &needed {
        assert!(
            resource_allows(policy, *iam, req),
            "{name}: {} may not {} ({:?})",
            req.principal,
            req.action,
            req.context
        );
    }
    // Nobody reads with the stack's keys directly: not the account's administrators, not the
    // function outside the service each key serves.
    for (name, policy) in [
        ("DefaultKey", &default),
        ("StateKey", &state),
        ("created key", &created),
    ] {
        for action in [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:ReEncryptFrom",
        ] {
            assert!(
                !resource_allows(policy, None, &deployer(action)),
                "{name}: the account's administrators may {action}"
            );
            assert!(
                !resource_allows(policy, Some(iam), &s.req(action, &k)),
                "{name}: the function may {action} outside a service"
            );
        }
    }
    assert!(!resource_allows(
        &state,
        Some(iam),
        &s.via("secretsmanager", "kms:Decrypt", &k)
    ));
    assert!(!resource_allows(
        &default,
        None,
        &deployer_via("dynamodb", "kms:CreateGrant").with("kms:GrantIsForAWSResource", "true")
    ));
}

/// Issue 10 item 2 and the README's claims: a reader named in AccessPrincipalArns reads a clone's
/// secret (the secret's policy) and decrypts it with the stack's default key or the clone's own
/// key (their policies), with no IAM grant of its own; a principal not named gets nothing, and
/// the default key decrypts only through Secrets Manager and only for this account and the
/// allowed reader accounts.
#[test]
fn readers_decrypt_their_secrets_without_grants_of_their_own() {
    let s = Stack::new(&[("AllowedReaderAccounts", "111122223333")]);
    let no_grants = json!({"Version": "2012-10-17", "Statement": []});
    let readers = vec![DEVELOPERS.to_string()];
    let secret_pol = secret_policy(&readers, Some(&s.role));
    let name = secret("/aurora-clone-manager/c-0f11");
    let read = |who: &str| Request::new(who, "secretsmanager:GetSecretValue", &name);
    assert!(resource_allows(
        &secret_pol,
        Some(&no_grants),
        &read(DEVELOPERS)
    ));
    assert!(!resource_allows(
        &secret_pol,
        Some(&no_grants),
        &read("arn:aws:iam::123456789012:role/someone-else")
    ));
    assert!(resource_allows(
        &secret_pol,
        Some(&no_grants),
        &Request::new(&s.role, "secretsmanager:DeleteSecret", &name)
    ));
    // The role's rights carried by the secret never let it make the secret public.
    let put = |block: &str| {
        Request::new(&s.role, "secretsmanager:PutResourcePolicy", &name)
            .with("secretsmanager:BlockPublicPolicy", block)
    };
    assert!(resource_allows(&secret_pol, Some(&no_grants), &put("true")));
    assert!(!resource_allows(&secret_pol, Some(s.iam()), &put("false")));
    let decrypt = |who: &str, account: &str, via: Option<&str>| {
        let r = Request::new(who, "kms:Decrypt", &key("k")).with("kms:CallerAccount", account);
        match via {
            Some(v) => r.with("kms:ViaService", &format!("{v}.{REGION}.amazonaws.com")),
            None => r,
        }
    };
    let default = key_policy_of(&s.rendered, "DefaultKey");
    let created = key_policy(ACCOUNT, &readers, REGION, Some(&s.role));
    for (name, policy) in [("DefaultKey", &default), ("created key", &created)] {
        assert!(
            resource_allows(
                policy,
                Some(&no_grants),
                &decrypt(DEVELOPERS, ACCOUNT, Some("secretsmanager"))
            ),
            "{name}: a named reader cannot decrypt through Secrets Manager"
        );
        assert!(
            !resource_allows(
                policy,
                Some(&no_grants),
                &decrypt(DEVELOPERS, ACCOUNT, None)
            ),
            "{name}: a reader decrypts directly"
        );
        assert!(
            !resource_allows(
                policy,
                Some(&no_grants),
                &decrypt(DEVELOPERS, ACCOUNT, Some("s3"))
            ),
            "{name}: a reader decrypts through another service"
        );
    }
    let other = "arn:aws:iam::111122223333:role/auditors";
    assert!(resource_allows(
        &default,
        Some(&no_grants),
        &decrypt(other, "111122223333", Some("secretsmanager"))
    ));
    let stranger = "arn:aws:iam::444455556666:role/x";
    assert!(!resource_allows(
        &default,
        Some(&no_grants),
        &decrypt(stranger, "444455556666", Some("secretsmanager"))
    ));
    let alone = key_policy_of(&Stack::new(&[]).rendered, "DefaultKey");
    assert!(!resource_allows(
        &alone,
        Some(&no_grants),
        &decrypt(other, "111122223333", Some("secretsmanager"))
    ));
}

#[test]
fn the_expiry_role_may_only_invoke_this_function() {
    let s = Stack::new(&[]);
    let expiry = properties(&s.rendered, "ExpiryRole");
    let policy = &expiry["Policies"][0]["PolicyDocument"];
    let runner = format!("arn:aws:iam::{ACCOUNT}:role/{STACK}-expiry-{REGION}");
    let function = arn("lambda", &format!("function:{STACK}-clone-manager"));
    assert!(allows(
        policy,
        &Request::new(&runner, "lambda:InvokeFunction", &function)
    ));
    assert!(!allows(
        policy,
        &Request::new(
            &runner,
            "lambda:InvokeFunction",
            &arn("lambda", "function:other")
        )
    ));
    assert_eq!(
        policy["Statement"].as_array().unwrap().len(),
        1,
        "one statement"
    );
    let trust = &expiry["AssumeRolePolicyDocument"];
    let assume = |account: &str, source: &str| {
        Request::new("scheduler.amazonaws.com", "sts:AssumeRole", "*")
            .with("aws:SourceAccount", account)
            .with("aws:SourceArn", source)
    };
    let group = arn("scheduler", &format!("schedule-group/{STACK}-expiry"));
    assert!(evaluate_trust(trust, &assume(ACCOUNT, &group)));
    assert!(!evaluate_trust(
        trust,
        &assume("444455556666", &group.replace(ACCOUNT, "444455556666"))
    ));
    assert!(!evaluate_trust(
        trust,
        &assume(ACCOUNT, &arn("scheduler", "schedule-group/default"))
    ));
    // The function's role passes this role, to the scheduler only.
    let pass = |service: &str| {
        s.req("iam:PassRole", &runner)
            .with("iam:PassedToService", service)
    };
    s.assert_allowed("pass to the scheduler", &[pass("scheduler.amazonaws.com")]);
    s.assert_refused("pass to Lambda", &[pass("lambda.amazonaws.com")]);
    s.assert_refused(
        "pass another role",
        &[s.req(
            "iam:PassRole",
            &arn("iam", "role/admin").replace(&format!(":{REGION}:"), "::"),
        )
        .with("iam:PassedToService", "scheduler.amazonaws.com")],
    );
}

fn evaluate_trust(trust: &Value, req: &Request) -> bool {
    policy::evaluate(trust, req, true) == policy::Decision::Allowed
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

/// Issue 16, item 13: lifecycle events go to the stack's own bus, whose policy lets only the
/// function's role put events there, however broad another principal's own IAM is; a bus
/// named by EventBusName is used as given.
#[test]
fn only_the_function_may_put_lifecycle_events_on_the_stacks_bus() {
    let s = Stack::new(&[]);
    let bus = format!("{STACK}-lifecycle");
    let variables = &properties(&s.rendered, "Function")["Environment"]["Variables"];
    assert_eq!(variables["EVENT_BUS_NAME"], bus.as_str());
    let policy = &properties(&s.rendered, "LifecycleBus")["Policy"];
    let bus_arn = arn("events", &format!("event-bus/{bus}"));
    let put = |principal: &str| {
        Request::new(principal, "events:PutEvents", &bus_arn)
            .with("aws:PrincipalArn", principal)
            .with("events:source", "aurora-clone-manager")
            .with("events:detail-type", "lifecycle-event/instance-ready")
    };
    let everything = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    assert!(resource_allows(policy, Some(s.iam()), &put(&s.role)));
    for forger in [DEVELOPERS, DEPLOYER, "arn:aws:iam::444455556666:role/x"] {
        assert!(
            !resource_allows(policy, Some(&everything), &put(forger)),
            "{forger} may put events on the lifecycle bus"
        );
    }
    let other = Stack::new(&[("EventBusName", "default")]);
    let variables = &properties(&other.rendered, "Function")["Environment"]["Variables"];
    assert_eq!(variables["EVENT_BUS_NAME"], "default");
    assert!(allows(
        other.iam(),
        &other
            .req("events:PutEvents", &arn("events", "event-bus/default"))
            .with("events:source", "aurora-clone-manager")
            .with("events:detail-type", "lifecycle-event/instance-ready")
    ));
    assert!(!allows(
        other.iam(),
        &other
            .req("events:PutEvents", &bus_arn)
            .with("events:source", "aurora-clone-manager")
    ));
}

/// Issue 16, item 13: the invoke grant for consumer teams holds only when CloudFormation makes
/// the call with the team's credentials, never when the team calls Lambda itself.
#[test]
fn consumers_may_invoke_the_function_only_through_cloudformation() {
    let s = Stack::new(&[]);
    let policy = &properties(&s.rendered, "ConsumerInvokePolicy")["PolicyDocument"];
    let function = arn("lambda", &format!("function:{STACK}-clone-manager"));
    let invoke = Request::new(DEPLOYER, "lambda:InvokeFunction", &function);
    assert!(allows(
        policy,
        &invoke
            .clone()
            .with("aws:CalledViaFirst", "cloudformation.amazonaws.com")
    ));
    assert!(!allows(policy, &invoke), "a direct invoke");
    assert!(!allows(
        policy,
        &invoke.with("aws:CalledViaFirst", "athena.amazonaws.com")
    ));
    assert!(!allows(
        policy,
        &Request::new(
            DEPLOYER,
            "lambda:InvokeFunction",
            &arn("lambda", "function:other")
        )
        .with("aws:CalledViaFirst", "cloudformation.amazonaws.com")
    ));
}
