//! The security settings: what the stack allows the function to touch and to trust. Each is an
//! environment variable set by a template parameter; the defaults are the permissive ones a
//! local run needs, the template's are the strict ones.

use super::ConfigError;
use std::collections::HashMap;

pub use crate::domain::access::SourceRule;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Guard {
    /// The function's own role: the key and secret policies this tool writes name it.
    pub role_arn: Option<String>,
    /// Every clone and pool copy identifier starts with it; IAM scopes RDS writes to it.
    pub cluster_id_prefix: String,
    /// Hosts a ResponseURL may name besides S3's own endpoints (http allowed: local runs).
    pub allowed_response_hosts: Vec<String>,
    /// Update and Delete are checked with `cloudformation:DescribeStackResource`.
    pub verify_stack_requests: bool,
    /// Sources that may be cloned; empty: any cluster in the account.
    pub allowed_sources: Vec<SourceRule>,
    /// Accounts (besides this one) whose principals may be named in `AccessPrincipalArns`.
    pub allowed_reader_accounts: Vec<String>,
    /// Prefixes a `SecretPrefix` may use, besides the stack's default prefix.
    pub allowed_secret_prefixes: Vec<String>,
}

/// `ALLOWED_RESPONSE_HOSTS` as a list (the Lambda front door reads it even when the rest of
/// the configuration is invalid, to answer with the configuration error).
pub fn response_hosts(v: Option<String>) -> Vec<String> {
    list(v)
}

fn list(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn bad(variable: &'static str, rule: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        rule: rule.into(),
    }
}

impl Guard {
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Guard, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let prefix = get("CLUSTER_ID_PREFIX").unwrap_or_default();
        if !prefix.is_empty() {
            let ok = prefix.len() <= 20
                && prefix.starts_with(|c: char| c.is_ascii_lowercase())
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !prefix.contains("--");
            if !ok {
                return Err(bad("CLUSTER_ID_PREFIX", format!("must be 1 to 20 lowercase letters, digits and single hyphens, starting with a letter, got {prefix:?}")));
            }
        }
        let verify = match get("VERIFY_STACK_REQUESTS").as_deref() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                return Err(bad(
                    "VERIFY_STACK_REQUESTS",
                    format!("must be true or false, got {v:?}"),
                ))
            }
        };
        let sources = list(get("ALLOWED_SOURCES"));
        if sources.len() > 1 && sources.iter().any(|s| s == "*") {
            return Err(bad(
                "ALLOWED_SOURCES",
                "\"*\" (any source) stands alone: list sources, or give \"*\" only",
            ));
        }
        let allowed_sources = sources
            .into_iter()
            // `*` (the template's explicit "any") allows what an empty list allows.
            .filter(|s| s != "*")
            .map(|s| match s.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok(SourceRule::Tag(k.to_string(), v.to_string())),
                Some(_) => Err(bad(
                    "ALLOWED_SOURCES",
                    format!("a tag entry needs a key: {s:?}"),
                )),
                None => Ok(SourceRule::Id(s.to_ascii_lowercase())),
            })
            .collect::<Result<_, _>>()?;
        let accounts = list(get("ALLOWED_READER_ACCOUNTS"));
        if let Some(a) = accounts
            .iter()
            .find(|a| a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(bad(
                "ALLOWED_READER_ACCOUNTS",
                format!("must be 12-digit account ids, got {a:?}"),
            ));
        }
        Ok(Guard {
            role_arn: get("ROLE_ARN"),
            cluster_id_prefix: prefix,
            allowed_response_hosts: list(get("ALLOWED_RESPONSE_HOSTS")),
            verify_stack_requests: verify,
            allowed_sources,
            allowed_reader_accounts: accounts,
            allowed_secret_prefixes: list(get("ALLOWED_SECRET_PREFIXES")),
        })
    }
}
