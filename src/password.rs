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

/// The secret's resource policy: read access for the named principals only.
pub fn secret_policy(principals: &[String]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloneReaders",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "*"
        }]
    })
}

/// The policy of a key this tool creates for one clone: the account administers it (so IAM
/// policies apply), and the named principals may decrypt through Secrets Manager.
pub fn key_policy(account: &str, principals: &[String], region: &str) -> Value {
    let mut statements = vec![json!({
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
            "kms:TagResource", "kms:UntagResource", "kms:ListResourceTags", "kms:EnableKey", "kms:DisableKey",
            "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        "Resource": "*"
    })];
    if !principals.is_empty() {
        statements.push(json!({
            "Sid": "CloneReadersDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")}}
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
}
