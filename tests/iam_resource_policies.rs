//! The resource and trust policies the stack deploys (issue 10 item 2, issue 16 item 13): every
//! key policy against what CloudFormation and the function call with that key; readers of a
//! clone's secret; the expiry role; the lifecycle bus; the consumers' invoke grant.

mod support;

use aurora_clone_manager::password::{key_policy, secret_policy};
use serde_json::{json, Value};
use support::iam::*;
use support::policy::{allows, resource_allows, Request};
use support::render::{arn, properties, ACCOUNT, REGION, STACK};

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
    // A clone's refresh schedule lives in the same group: its firings may assume the role
    // (and invoke the function, whatever the input); a schedule of another group may not.
    let refresh = aurora_clone_manager::domain::refresh::schedule_name("clone-qa");
    let in_group = arn("scheduler", &format!("schedule/{STACK}-expiry/{refresh}"));
    assert!(evaluate_trust(trust, &assume(ACCOUNT, &in_group)));
    let elsewhere = arn("scheduler", &format!("schedule/default/{refresh}"));
    assert!(!evaluate_trust(trust, &assume(ACCOUNT, &elsewhere)));
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
