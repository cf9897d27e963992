//! The clone's own master password: whether it still has to be set, and how (which key, which
//! secret name, who may read it). The executor does the calls; this decides.

pub use super::action::{KeyChoice, PasswordPlan};
use super::Policy;
pub use crate::domain::access::secret_name;
use crate::domain::properties::CloneProperties;
use crate::domain::{ident, tags, Cluster, Tags};

/// `None` when no password is asked for or it is in force; otherwise the plan to set it, for
/// request `request_id` with properties `props`.
pub fn password_plan(
    props: &CloneProperties,
    request_id: &str,
    cluster: &Cluster,
    policy: &Policy,
) -> Option<PasswordPlan> {
    if !props.set_password
        || cluster.tags.get(tags::PASSWORD_STATE).map(String::as_str) == Some("set")
    {
        return None;
    }
    let prefix = props
        .secret_prefix
        .clone()
        .unwrap_or_else(|| policy.default_secret_prefix.clone());
    Some(PasswordPlan {
        request_id: request_id.to_string(),
        secret_name: format!("{prefix}{}-{}", cluster.id, ident::short_hash(request_id)),
        key: key_choice(props, policy),
        readers: props.access_principal_arns.clone(),
        tags: secret_tags(props, request_id, cluster),
    })
}

/// The user's choice of key wins, then a key made for the clone, then the stack's default.
fn key_choice(props: &CloneProperties, policy: &Policy) -> KeyChoice {
    match (
        &props.kms_key_id,
        props.force_create_kms_key,
        &policy.default_secret_key,
    ) {
        (Some(k), _, _) => KeyChoice::Given(k.clone()),
        (None, true, _) => KeyChoice::CreateForClone,
        (None, false, Some(k)) => KeyChoice::StackDefault(k.clone()),
        (None, false, None) => KeyChoice::AwsManaged,
    }
}

/// The secret's tags: the user's, the clone's own tags of this tool (but not those about its
/// password), the clone it opens and the request that made it.
fn secret_tags(props: &CloneProperties, request_id: &str, cluster: &Cluster) -> Tags {
    let mut secret_tags = tags::user_tags(&props.tags);
    secret_tags.extend(
        cluster
            .tags
            .iter()
            .filter(|(k, _)| {
                k.starts_with(tags::PREFIX) && !k.starts_with("aurora-clone-manager:password")
            })
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    secret_tags.insert(tags::CLUSTER.into(), cluster.id.clone());
    secret_tags.insert(tags::SECRET_REQUEST.into(), request_id.to_string());
    secret_tags
}

/// Account and region from an RDS ARN (for the policies of keys this tool creates).
pub fn account_and_region(arn: &str) -> (String, String) {
    let parts: Vec<&str> = arn.split(':').collect();
    (
        parts.get(4).unwrap_or(&"").to_string(),
        parts.get(3).unwrap_or(&"").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::test_support::policy;
    use serde_json::json;

    fn plan(props: serde_json::Value, default_key: Option<&str>) -> Option<PasswordPlan> {
        let p = CloneProperties::parse(&props).unwrap();
        let mut pol = policy();
        pol.default_secret_key = default_key.map(str::to_string);
        password_plan(&p, "r", &Cluster::new("c", "available"), &pol)
    }

    #[test]
    fn key_choice_order() {
        let base = json!({"SourceClusterId": "o", "SetPassword": "true"});
        let with = |k: &str, v: &str| {
            let mut b = base.clone();
            b[k] = json!(v);
            b
        };
        assert_eq!(
            plan(with("KmsKeyId", "alias/mine"), Some("def"))
                .unwrap()
                .key,
            KeyChoice::Given("alias/mine".into())
        );
        assert_eq!(
            plan(with("ForceCreateKmsKey", "true"), Some("def"))
                .unwrap()
                .key,
            KeyChoice::CreateForClone
        );
        assert_eq!(
            plan(base.clone(), Some("def")).unwrap().key,
            KeyChoice::StackDefault("def".into())
        );
        assert_eq!(plan(base, None).unwrap().key, KeyChoice::AwsManaged);
        assert_eq!(plan(json!({"SourceClusterId": "o"}), None), None);
    }

    #[test]
    fn secret_names_use_the_prefix_and_are_unique_per_clone() {
        let p = plan(
            json!({"SourceClusterId": "o", "SetPassword": "true", "SecretpPrefix": "/team/"}),
            None,
        )
        .unwrap();
        assert!(p.secret_name.starts_with("/team/c-"), "{}", p.secret_name);
        assert_eq!(
            secret_name("arn:aws:secretsmanager:us-east-1:1:secret:/team/c-1a2b-AbCdEf"),
            "/team/c-1a2b"
        );
        assert_eq!(
            account_and_region("arn:aws:rds:eu-west-1:123:cluster:c"),
            ("123".into(), "eu-west-1".into())
        );
    }
}
