//! Per-clone credentials: the random master password, the secret JSON that RDS rotation and
//! database tools expect, and the policies that let the named principals read it.

use crate::domain::Cluster;
use rand::Rng;
use serde_json::{json, Value};

/// Length of generated passwords: within Aurora MySQL's 41 and PostgreSQL's 99 characters.
pub const PASSWORD_LEN: usize = 32;

/// Characters a password may use: printable ASCII less space and `/ " @ ' \`, which Aurora
/// refuses or tools mangle (as AWS's rotation templates exclude them).
pub fn allowed(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '/' | '"' | '@' | '\'' | '\\')
}

/// A new random password from the thread's CSPRNG (ChaCha, seeded by the operating system).
pub fn generate() -> String {
    let alphabet: Vec<char> = (33u8..127)
        .map(char::from)
        .filter(|c| allowed(*c))
        .collect();
    let mut rng = rand::rng();
    (0..PASSWORD_LEN)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
        .collect()
}

/// The secret's JSON, as RDS rotation functions and database tools read it.
pub fn secret_json(cluster: &Cluster, password: &str) -> Value {
    let (engine, default_db) = if cluster.engine.contains("mysql") {
        ("mysql", "mysql")
    } else {
        ("postgres", "postgres")
    };
    json!({
        "engine": engine,
        "host": cluster.endpoint.clone().unwrap_or_default(),
        "port": cluster.port.unwrap_or(if engine == "mysql" { 3306 } else { 5432 }),
        "username": cluster.master_username.clone().unwrap_or_default(),
        "password": password,
        "dbname": cluster.database_name.clone().unwrap_or_else(|| default_db.into()),
        "dbClusterIdentifier": cluster.id,
    })
}

/// The secret's resource policy: read access for the named principals and, when the function's
/// role is known (`ROLE_ARN`), the role's own rights on the secret. The role's identity policy
/// already grants those under the allowed prefixes (and the first `PutResourcePolicy` needs it);
/// here they travel with the secret. Callers put a policy only when it has a statement: with no
/// readers and no role there is none.
pub fn secret_policy(principals: &[String], role_arn: Option<&str>) -> Value {
    let mut statements = Vec::new();
    if !principals.is_empty() {
        statements.push(json!({
            "Sid": "CloneReaders",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "*"
        }));
    }
    if let Some(role) = role_arn {
        statements.push(json!({
            "Sid": "CloneManager",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                "secretsmanager:DeleteResourcePolicy", "secretsmanager:TagResource",
                "secretsmanager:UntagResource", "secretsmanager:DeleteSecret"],
            "Resource": "*"
        }));
        // As in the role's own policy: a reader policy only with the public-policy block, so
        // that this statement never lets the role make the secret public.
        statements.push(json!({
            "Sid": "CloneManagerReadersNeverPublic",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": ["secretsmanager:PutResourcePolicy"],
            "Resource": "*",
            "Condition": {"Bool": {"secretsmanager:BlockPublicPolicy": "true"}}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// What the account may do with a key this tool creates: administer it, never use it.
const KEY_ADMINISTRATION: &[&str] = &[
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ListResourceTags",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:UpdateKeyDescription",
    "kms:ListGrants",
    "kms:RevokeGrant",
];

/// What the function does with a key it created for one clone's secret, after CreateKey.
const KEY_MANAGEMENT: &[&str] = &[
    "kms:DescribeKey",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
];

/// The policy of a key this tool creates for one clone (written at CreateKey and on every reader
/// change). The function's role (`role_arn`, the env `ROLE_ARN`) gets what it later does with the
/// key, directly: re-key and retire it, retag it, and encrypt and decrypt through Secrets Manager;
/// so its IAM policy needs no PutKeyPolicy or ScheduleKeyDeletion on any key, and KMS's lockout
/// check at CreateKey passes (the creating role may PutKeyPolicy). The readers may decrypt through
/// Secrets Manager only. The account administers the key and cannot use it.
///
/// Without a role ARN (local runs) the account statement also delegates the function's use of the
/// key to IAM, as the tool did before.
pub fn key_policy(
    account: &str,
    principals: &[String],
    region: &str,
    role_arn: Option<&str>,
) -> Value {
    let partition = role_arn
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws");
    let via_secrets_manager = json!({"StringEquals": {"kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")}});
    let mut administration: Vec<&str> = KEY_ADMINISTRATION.to_vec();
    if role_arn.is_none() {
        administration.extend(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]);
    }
    let mut statements = vec![json!({
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
        "Action": administration,
        "Resource": "*"
    })];
    if let Some(role) = role_arn {
        statements.push(json!({
            "Sid": "CloneManagerManages",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": KEY_MANAGEMENT,
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "CloneManagerThroughSecretsManager",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": via_secrets_manager
        }));
    }
    if !principals.is_empty() {
        statements.push(json!({
            "Sid": "CloneReadersDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["kms:Decrypt"],
            "Resource": "*",
            "Condition": via_secrets_manager
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 10: a 64-character hex password (too long for Aurora MySQL) in a bare string.
    #[test]
    fn passwords_fit_every_aurora_engine() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let p = generate();
            assert!((8..=41).contains(&p.len()));
            assert!(p.chars().all(allowed), "{p}");
            assert!(!p.contains(' '));
            seen.insert(p);
        }
        assert_eq!(seen.len(), 200, "passwords repeat");
        let mixed = generate();
        assert!(
            mixed.chars().any(|c| !c.is_ascii_hexdigit()),
            "not just hex"
        );
    }

    #[test]
    fn the_secret_is_the_json_rotation_expects() {
        let mut c = Cluster::new("qa-clone", "available");
        c.endpoint = Some("qa-clone.cluster-x.rds.amazonaws.com".into());
        c.port = Some(5432);
        c.master_username = Some("app".into());
        let v = secret_json(&c, "pw");
        for key in [
            "engine",
            "host",
            "port",
            "username",
            "password",
            "dbname",
            "dbClusterIdentifier",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["engine"], "postgres");
        assert_eq!(v["dbname"], "postgres");
        c.engine = "aurora-mysql".into();
        assert_eq!(secret_json(&c, "pw")["engine"], "mysql");
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/acm-Role-ABC";

    fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))
    }

    fn actions(s: &Value) -> Vec<&str> {
        s["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect()
    }

    /// A created key's rights come from its own policy: the role may re-key (which also passes
    /// KMS's lockout check at CreateKey), retire and retag it; the account administers but never
    /// uses it; readers decrypt only through Secrets Manager.
    #[test]
    fn a_created_key_names_the_role_for_what_the_function_does_with_it() {
        let readers = vec!["arn:aws:iam::123456789012:role/dev".to_string()];
        let p = key_policy("123456789012", &readers, "eu-west-1", Some(ROLE));
        let manages = statement(&p, "CloneManagerManages");
        assert_eq!(manages["Principal"]["AWS"], ROLE);
        for a in [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
        ] {
            assert!(actions(manages).contains(&a), "{a}");
        }
        let account = statement(&p, "AccountAdministers");
        assert_eq!(
            account["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        for a in [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:CreateGrant",
        ] {
            assert!(!actions(account).contains(&a), "the account may {a}");
        }
        let readers = statement(&p, "CloneReadersDecrypt");
        assert_eq!(actions(readers), ["kms:Decrypt"]);
        assert_eq!(
            readers["Condition"]["StringEquals"]["kms:ViaService"],
            "secretsmanager.eu-west-1.amazonaws.com"
        );
        let gov = key_policy(
            "1",
            &[],
            "us-gov-west-1",
            Some("arn:aws-us-gov:iam::1:role/r"),
        );
        assert_eq!(
            statement(&gov, "AccountAdministers")["Principal"]["AWS"],
            "arn:aws-us-gov:iam::1:root"
        );
        assert!(gov["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["Sid"] != "CloneReadersDecrypt"));
    }

    #[test]
    fn without_a_role_the_account_delegates_to_iam_as_before() {
        let p = key_policy("123456789012", &[], "eu-west-1", None);
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        assert!(actions(statement(&p, "AccountAdministers")).contains(&"kms:Decrypt"));
    }

    #[test]
    fn the_secret_policy_carries_the_readers_and_the_role() {
        let readers = vec!["arn:aws:iam::123456789012:role/dev".to_string()];
        let p = secret_policy(&readers, Some(ROLE));
        assert_eq!(
            actions(statement(&p, "CloneReaders")),
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret"
            ]
        );
        let own = statement(&p, "CloneManager");
        assert_eq!(own["Principal"]["AWS"], ROLE);
        assert!(actions(own).contains(&"secretsmanager:DeleteSecret"));
        assert_eq!(
            statement(&p, "CloneManagerReadersNeverPublic")["Condition"]["Bool"]
                ["secretsmanager:BlockPublicPolicy"],
            "true"
        );
        let only_readers = secret_policy(&readers, None);
        assert_eq!(only_readers["Statement"].as_array().unwrap().len(), 1);
        assert!(secret_policy(&[], None)["Statement"]
            .as_array()
            .unwrap()
            .is_empty());
    }
}
