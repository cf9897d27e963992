//! The Lambda's configuration, read once from the environment. Every error names the variable and
//! the rule, so that a bad stack parameter shows up in the FAILED reason CloudFormation displays.

mod edn;
pub mod guard;
pub mod maintenance;

pub use guard::{Guard, SourceRule};
use std::collections::HashMap;
use std::time::Duration;
use thiserror::Error;

/// The instance class of a clone's writer when the request names none. `db.r6g.large` is the
/// current-generation successor of the original's `db.r4.large` (same 2 vCPU / 16 GiB), and is
/// offered by every supported Aurora MySQL 3 and Aurora PostgreSQL version.
pub const DEFAULT_INSTANCE_CLASS: &str = "db.r6g.large";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable}: {rule}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub rule: String,
}

/// Stack-level settings: the environment of the Lambda, as `template.yaml` sets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The clone manager's own stack: the owner recorded in every tag this tool writes.
    pub stack_name: String,
    pub resource_type: String,
    pub max_copy_age: Duration,
    pub max_clones_per_source: u32,
    pub maintenance_config_ssm: String,
    pub default_secret_prefix: String,
    pub default_secret_key: Option<String>,
    pub event_source: String,
    pub event_bus_name: String,
    /// The DynamoDB table of request state (partition key `pk`, String).
    pub state_table: String,
    /// What the stack allows the function to touch and trust.
    pub guard: Guard,
    /// How long before a clone's expiry its `clone-expiring` warning goes out.
    pub expiry_warning: Duration,
    /// How long a clone whose owner is gone is left before the sweep removes it.
    pub orphan_grace: Duration,
}

/// Every environment variable the code reads; `tests/template.rs` checks the template sets each.
pub const VARIABLES: &[&str] = &[
    "STACK_NAME",
    "RESOURCE_TYPE",
    "MAX_COPY_AGE",
    "MAX_CLONES_PER_SOURCE",
    "MAINTENANCE_CONFIG_SSM",
    "DEFAULT_SECRET_PREFIX",
    "DEFAULT_SECRET_KEY",
    "EVENT_SOURCE",
    "EVENT_BUS_NAME",
    "STATE_TABLE",
    "ROLE_ARN",
    "CLUSTER_ID_PREFIX",
    "ALLOWED_RESPONSE_HOSTS",
    "VERIFY_STACK_REQUESTS",
    "ALLOWED_SOURCES",
    "ALLOWED_READER_ACCOUNTS",
    "ALLOWED_SECRET_PREFIXES",
    "EXPIRY_WARNING",
    "ORPHAN_GRACE",
    "LOG_LEVEL",
];

/// What the Lambda reads of its environment, once per process: the settings (or why they are
/// invalid), settings good enough to answer FAILED when they are, and what is known either way.
#[derive(Debug, Clone)]
pub struct Environment {
    pub settings: Result<Settings, ConfigError>,
    /// With invalid settings: those that can still reach the state table and answer.
    pub answering: Option<Settings>,
    /// Hosts a ResponseURL may name besides S3's (`ALLOWED_RESPONSE_HOSTS`).
    pub response_hosts: Vec<String>,
    /// The stack's name as given (metrics are kept under it), even when the rest is invalid.
    pub stack_name: String,
    /// The function's own region (`AWS_REGION`): a ResponseURL must lead to this region's
    /// CloudFormation response bucket. `None` (a local run): any region's.
    pub region: Option<String>,
}

impl Environment {
    pub fn read() -> Environment {
        Environment::from_map(&std::env::vars().collect())
    }

    pub fn from_map(vars: &HashMap<String, String>) -> Environment {
        let settings = Settings::from_map(vars);
        let text = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Environment {
            answering: settings.is_err().then(|| Settings::for_answering(vars)),
            settings,
            response_hosts: guard::response_hosts(text("ALLOWED_RESPONSE_HOSTS")),
            stack_name: text("STACK_NAME").unwrap_or_default(),
            region: text("AWS_REGION").map(|r| r.to_ascii_lowercase()),
        }
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Settings::from_map(&vars)
    }

    /// Settings good enough to reach the state table and answer requests when the real ones
    /// are invalid: the stack name and state table as given (or placeholders), every other
    /// setting its default. Nothing is made or changed with these; they only answer FAILED.
    pub fn for_answering(vars: &HashMap<String, String>) -> Settings {
        let keep = [
            "STACK_NAME",
            "STATE_TABLE",
            "ALLOWED_RESPONSE_HOSTS",
            "EVENT_BUS_NAME",
        ];
        let mut only: HashMap<String, String> = vars
            .iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if Settings::from_map(&only).is_err() {
            only.insert("STACK_NAME".into(), "aurora-clone-manager".into());
        }
        Settings::from_map(&only).unwrap_or_else(|_| {
            let minimal = [("STACK_NAME".to_string(), "aurora-clone-manager".to_string())];
            Settings::from_map(&minimal.into()).expect("the minimal settings are valid")
        })
    }

    /// Reads settings from a map of variables; empty values count as unset.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let stack_name = get("STACK_NAME").ok_or_else(|| ConfigError {
            variable: "STACK_NAME",
            rule: "must be set to the clone manager's stack name".into(),
        })?;
        check_stack_name(&stack_name)?;
        let max_copy_age = match get("MAX_COPY_AGE") {
            Some(v) => parse_iso_duration(&v).map_err(|rule| ConfigError {
                variable: "MAX_COPY_AGE",
                rule,
            })?,
            None => Duration::from_secs(3 * 86_400),
        };
        let max_clones_per_source = match get("MAX_CLONES_PER_SOURCE") {
            Some(v) => parse_slots(&v).map_err(|rule| ConfigError {
                variable: "MAX_CLONES_PER_SOURCE",
                rule,
            })?,
            None => 15,
        };
        let prefix =
            get("DEFAULT_SECRET_PREFIX").unwrap_or_else(|| "/aurora-clone-manager/".into());
        Ok(Settings {
            maintenance_config_ssm: get("MAINTENANCE_CONFIG_SSM")
                .unwrap_or_else(|| format!("/{stack_name}/maintenance-config")),
            resource_type: get("RESOURCE_TYPE").unwrap_or_else(|| "Custom::AuroraClone".into()),
            default_secret_prefix: prefix,
            default_secret_key: get("DEFAULT_SECRET_KEY"),
            event_source: get("EVENT_SOURCE").unwrap_or_else(|| "aurora-clone-manager".into()),
            event_bus_name: get("EVENT_BUS_NAME").unwrap_or_else(|| "default".into()),
            state_table: get("STATE_TABLE").unwrap_or_else(|| format!("{stack_name}-state")),
            guard: Guard::from_map(vars)?,
            expiry_warning: duration_or(&get, "EXPIRY_WARNING", 86_400)?,
            orphan_grace: duration_or(&get, "ORPHAN_GRACE", 86_400)?,
            stack_name,
            max_copy_age,
            max_clones_per_source,
        })
    }

    /// The EventBridge Scheduler group of the expiry schedules (the stack makes it).
    pub fn expiry_group(&self) -> String {
        format!("{}-expiry", self.stack_name)
    }

    /// Name of the EventBridge rule that re-invokes the function while work is pending.
    pub fn follow_up_rule(&self) -> String {
        let mut name: String = self.stack_name.chars().take(50).collect();
        name.push_str("-follow-up");
        name
    }
}

/// A duration variable, or its default in seconds.
fn duration_or(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default_secs: u64,
) -> Result<Duration, ConfigError> {
    match get(variable) {
        Some(v) => parse_iso_duration(&v).map_err(|rule| ConfigError { variable, rule }),
        None => Ok(Duration::from_secs(default_secs)),
    }
}

fn check_stack_name(name: &str) -> Result<(), ConfigError> {
    let ok = name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError {
            variable: "STACK_NAME",
            rule: format!(
                "must be a CloudFormation stack name (letters, digits, hyphens), got {name:?}"
            ),
        })
    }
}

/// Slots per storage volume: Aurora allows at most 15 copy-on-write clones per volume.
pub fn parse_slots(v: &str) -> Result<u32, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=15).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to 15 (Aurora's clone limit), got {v:?}"
        )),
    }
}

pub use crate::domain::duration::parse_iso_duration;

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The template's explicit "any source" (`AllowedSources: "*"`) allows every source, as an
    /// empty list does; named sources stay a list.
    #[test]
    fn a_star_allows_every_source() {
        let with = |v: &str| {
            Settings::from_map(&vars(&[("STACK_NAME", "acm"), ("ALLOWED_SOURCES", v)]))
                .expect("settings")
                .guard
                .allowed_sources
        };
        assert!(with("*").is_empty());
        assert!(with("").is_empty());
        assert_eq!(with("orders, billing").len(), 2);
        let mixed = Settings::from_map(&vars(&[
            ("STACK_NAME", "acm"),
            ("ALLOWED_SOURCES", "orders,*"),
        ]));
        assert!(mixed.is_err_and(|e| e.to_string().contains("stands alone")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_iso_duration("P3D"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_iso_duration("PT12H"), Ok(Duration::from_secs(43_200)));
        assert_eq!(
            parse_iso_duration("P1DT6H30M"),
            Ok(Duration::from_secs(109_800))
        );
        assert_eq!(parse_iso_duration("p1w"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "", "3D", "P", "PT", "P1M", "P1Y", "PD", "P3D2", "P1H", "PT1D", "P0D",
        ] {
            assert!(parse_iso_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        let s = Settings::from_map(&vars(&[("STACK_NAME", "acm")])).unwrap();
        assert_eq!(s.max_copy_age, Duration::from_secs(3 * 86_400));
        assert_eq!(s.max_clones_per_source, 15);
        assert_eq!(s.maintenance_config_ssm, "/acm/maintenance-config");
        assert_eq!(s.resource_type, "Custom::AuroraClone");
        assert_eq!(s.event_bus_name, "default");
        let e = Settings::from_map(&vars(&[])).unwrap_err();
        assert_eq!(e.variable, "STACK_NAME");
        let e = Settings::from_map(&vars(&[("STACK_NAME", "a"), ("MAX_COPY_AGE", "3 days")]))
            .unwrap_err();
        assert_eq!(e.variable, "MAX_COPY_AGE");
        let e = Settings::from_map(&vars(&[
            ("STACK_NAME", "a"),
            ("MAX_CLONES_PER_SOURCE", "16"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "MAX_CLONES_PER_SOURCE");
    }

    /// Defect 2: the max-age parameter never reached the code. The variable the code reads must
    /// change the setting.
    #[test]
    fn max_copy_age_takes_effect() {
        let s =
            Settings::from_map(&vars(&[("STACK_NAME", "a"), ("MAX_COPY_AGE", "PT6H")])).unwrap();
        assert_eq!(s.max_copy_age, Duration::from_secs(6 * 3600));
    }
}
