//! The maintenance config, kept in the SSM parameter `MAINTENANCE_CONFIG_SSM`, in JSON or EDN
//! with the original's keys. Validated strictly: an invalid config changes nothing, and the error
//! names the cluster entry, the key and the rule.

use crate::config::{parse_iso_duration, parse_slots};
use crate::domain::ident;
use serde_json::{Map, Value};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("maintenance config: {place}: {rule}")]
pub struct ConfigError {
    pub place: String,
    pub rule: String,
}

use crate::domain::cost::Prices;
pub use crate::domain::upkeep::{ClusterConfig, MaintenanceConfig};

const KEYS: &[&str] = &[
    "cluster-id",
    "target-clone-slots",
    "dry-run?",
    "instance-class",
    "copy-instance-class",
    "copy-min-capacity",
    "copy-max-capacity",
    "max-clones-per-source",
    "max-copy-age",
    "purge-obsolete-copies?",
];

impl MaintenanceConfig {
    /// Parses JSON, or EDN when the text is not JSON.
    pub fn parse(text: &str) -> Result<MaintenanceConfig, ConfigError> {
        if nesting_depth(text) > super::edn::MAX_DEPTH {
            return Err(err(
                "document",
                format!("nested deeper than {} levels", super::edn::MAX_DEPTH),
            ));
        }
        let value = match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(json_err) => edn_to_json(text).map_err(|edn_err| ConfigError {
                place: "document".into(),
                rule: format!("neither JSON ({json_err}) nor EDN ({edn_err})"),
            })?,
        };
        let top = value
            .as_object()
            .ok_or_else(|| err("document", "must be a map with a \"clusters\" list"))?;
        if let Some(k) = top
            .keys()
            .find(|k| !["clusters", "prices"].contains(&k.as_str()))
        {
            return Err(err(
                "document",
                format!("unknown key {k:?} (only \"clusters\" and \"prices\")"),
            ));
        }
        let prices = match top.get("prices") {
            None => Prices::default(),
            Some(v) => prices(v).map_err(|r| err("prices", r))?,
        };
        let entries = match top.get("clusters") {
            None => {
                return Ok(MaintenanceConfig {
                    prices,
                    ..Default::default()
                })
            }
            Some(Value::Array(a)) => a,
            Some(_) => return Err(err("clusters", "must be a list of cluster entries")),
        };
        let clusters = entries
            .iter()
            .enumerate()
            .map(|(i, e)| cluster(i, e))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::BTreeSet::new();
        for c in &clusters {
            if !seen.insert(c.cluster_id.clone()) {
                return Err(err(
                    &format!("clusters ({})", c.cluster_id),
                    "cluster-id appears twice",
                ));
            }
        }
        Ok(MaintenanceConfig { clusters, prices })
    }
}

/// The price table: the defaults, with what the config sets instead (USD).
fn prices(v: &Value) -> Result<Prices, String> {
    let map = v.as_object().ok_or("must be a map")?;
    let amount = |key: &str, v: &Value| {
        v.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("{key}: must be a price in USD, got {v}"))
    };
    let mut out = Prices::default();
    for (key, v) in map {
        match key.as_str() {
            "storage-gb-month" => out.storage_gb_month = amount(key, v)?,
            "acu-hour" => out.acu_hour = amount(key, v)?,
            "instance-hour" => {
                let classes = v
                    .as_object()
                    .ok_or("instance-hour: must be a map of class to price")?;
                for (class, p) in classes {
                    out.instance_hour.insert(class.clone(), amount(class, p)?);
                }
            }
            k => {
                return Err(format!(
                    "unknown key {k:?} (known: storage-gb-month, acu-hour, instance-hour)"
                ))
            }
        }
    }
    Ok(out)
}

fn err(place: &str, rule: impl Into<String>) -> ConfigError {
    ConfigError {
        place: place.to_string(),
        rule: rule.into(),
    }
}

fn cluster(i: usize, entry: &Value) -> Result<ClusterConfig, ConfigError> {
    let map = entry
        .as_object()
        .ok_or_else(|| err(&format!("clusters[{i}]"), "must be a map"))?;
    let id = match map.get("cluster-id") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        _ => {
            return Err(err(
                &format!("clusters[{i}]"),
                "cluster-id: is required and must be a string",
            ))
        }
    };
    let place = format!("clusters[{i}] ({id})");
    let fail = |key: &str, rule: String| err(&place, format!("{key}: {rule}"));
    ident::check(&id).map_err(|r| fail("cluster-id", r))?;
    if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(fail(k, format!("unknown key (known: {})", KEYS.join(", "))));
    }
    let target_clone_slots = match map.get("target-clone-slots") {
        None => 0,
        Some(v) => v.as_u64().filter(|n| *n <= 1000).ok_or_else(|| {
            fail(
                "target-clone-slots",
                format!("must be a whole number from 0 to 1000, got {v}"),
            )
        })? as u32,
    };
    Ok(ClusterConfig {
        target_clone_slots,
        dry_run: flag(map, "dry-run?", false).map_err(|r| fail("dry-run?", r))?,
        instance_class: copy_class(map).map_err(|r| fail("copy-instance-class", r))?,
        copy_min_capacity: capacity(map, "copy-min-capacity", 0.0)
            .map_err(|r| fail("copy-min-capacity", r))?,
        copy_max_capacity: capacity(map, "copy-max-capacity", 1.0)
            .map_err(|r| fail("copy-max-capacity", r))?,
        max_clones_per_source: match map.get("max-clones-per-source") {
            None => None,
            Some(v) => {
                Some(parse_slots(&v.to_string()).map_err(|r| fail("max-clones-per-source", r))?)
            }
        },
        max_copy_age: match optional_text(map, "max-copy-age")
            .map_err(|r| fail("max-copy-age", r))?
        {
            None => None,
            Some(t) => Some(parse_iso_duration(&t).map_err(|r| fail("max-copy-age", r))?),
        },
        purge_obsolete_copies: flag(map, "purge-obsolete-copies?", true)
            .map_err(|r| fail("purge-obsolete-copies?", r))?,
        cluster_id: id,
    })
}

fn flag(map: &Map<String, Value>, key: &str, default: bool) -> Result<bool, String> {
    match map.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!("must be true or false, got {v}")),
    }
}

/// The pool copies' writer class: `copy-instance-class`, or the original's `instance-class`.
fn copy_class(map: &Map<String, Value>) -> Result<Option<String>, String> {
    let new = optional_text(map, "copy-instance-class")?;
    let old = optional_text(map, "instance-class").map_err(|r| format!("instance-class: {r}"))?;
    match (new, old) {
        (Some(a), Some(b)) if a != b => Err(format!("and instance-class differ ({a}, {b})")),
        (a, b) => Ok(a.or(b)),
    }
}

/// A Serverless v2 capacity in ACUs: `least` to 256, in steps of 0.5.
fn capacity(map: &Map<String, Value>, key: &str, least: f64) -> Result<Option<f64>, String> {
    let Some(v) = map.get(key) else {
        return Ok(None);
    };
    v.as_f64()
        .filter(|x| (least..=256.0).contains(x) && (x * 2.0).fract() == 0.0)
        .map(Some)
        .ok_or_else(|| format!("must be {least} to 256 ACUs in steps of 0.5, got {v}"))
}

fn optional_text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("must be a string, got {v}")),
    }
}

/// EDN → JSON for the shapes a config uses: maps, vectors, keywords (as their names), strings,
/// integers, booleans and nil.
fn edn_to_json(text: &str) -> Result<Value, String> {
    super::edn::read(text)
}

/// The deepest nesting of brackets outside strings: checked before any parser recurses.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '[' | '{' | '(') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, ']' | '}' | ')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn json_and_edn_give_the_same_config() {
        let json = r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":20,"dry-run?":false,
            "instance-class":"db.r6g.large","max-clones-per-source":10,"max-copy-age":"P2D","purge-obsolete-copies?":false}]}"#;
        let edn = r#"{:clusters [{:cluster-id "orders" :target-clone-slots 20 :dry-run? false
            :instance-class "db.r6g.large" :max-clones-per-source 10 :max-copy-age "P2D" :purge-obsolete-copies? false}]}"#;
        let a = MaintenanceConfig::parse(json).unwrap();
        assert_eq!(a, MaintenanceConfig::parse(edn).unwrap());
        let c = &a.clusters[0];
        assert_eq!(
            (
                c.cluster_id.as_str(),
                c.target_clone_slots,
                c.max_clones_per_source
            ),
            ("orders", 20, Some(10))
        );
        assert_eq!(c.max_copy_age, Some(Duration::from_secs(2 * 86_400)));
        assert!(!c.purge_obsolete_copies);
        assert_eq!(
            MaintenanceConfig::parse(r#"{"clusters": []}"#).unwrap(),
            MaintenanceConfig::default()
        );
    }

    #[test]
    fn copy_writers_class_and_range_parse_strictly() {
        let edn = r#"{:clusters [{:cluster-id "orders" :copy-instance-class "db.serverless"
            :copy-min-capacity 0 :copy-max-capacity 2.5}]}"#;
        let c = &MaintenanceConfig::parse(edn).unwrap().clusters[0];
        assert_eq!(c.instance_class.as_deref(), Some("db.serverless"));
        assert_eq!(
            (c.copy_min_capacity, c.copy_max_capacity),
            (Some(0.0), Some(2.5))
        );
        for (bad, why) in [
            (
                r#""copy-min-capacity":0.3"#,
                "copy-min-capacity: must be 0 to 256",
            ),
            (
                r#""copy-max-capacity":0.5"#,
                "copy-max-capacity: must be 1 to 256",
            ),
            (
                r#""copy-max-capacity":"2""#,
                "copy-max-capacity: must be 1 to 256",
            ),
            (
                r#""copy-instance-class":"db.serverless","instance-class":"db.r6g.large""#,
                "copy-instance-class: and instance-class differ",
            ),
        ] {
            let text = format!(r#"{{"clusters":[{{"cluster-id":"orders",{bad}}}]}}"#);
            let e = MaintenanceConfig::parse(&text).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn prices_override_the_defaults_and_are_checked() {
        let edn = r#"{:prices {:storage-gb-month 0.11 :instance-hour {"db.r6g.large" 0.3}}}"#;
        let p = MaintenanceConfig::parse(edn).unwrap().prices;
        assert_eq!(p.storage_gb_month, 0.11);
        assert_eq!(p.instance_hour["db.r6g.large"], 0.3);
        assert_eq!(
            p.acu_hour,
            Prices::default().acu_hour,
            "the rest stays default"
        );
        for bad in [r#"{"prices":{"acu-hour":-1}}"#, r#"{"prices":{"gb":1}}"#] {
            let e = MaintenanceConfig::parse(bad).unwrap_err().to_string();
            assert!(e.contains("prices"), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_name_the_entry_the_key_and_the_rule() {
        let cases = [
            (
                r#"{"clusters":[{"cluster-id":"orders","target-clone-slots":-1}]}"#,
                "clusters[0] (orders): target-clone-slots",
            ),
            (
                r#"{"clusters":[{"cluster-id":"orders","dry-run?":"yes"}]}"#,
                "dry-run?: must be true or false",
            ),
            (
                r#"{"clusters":[{"cluster-id":"a"},{"cluster-id":"b","max-copy-age":"3 days"}]}"#,
                "clusters[1] (b): max-copy-age",
            ),
            (
                r#"{"clusters":[{"cluster-id":"b","max-clones-per-source":16}]}"#,
                "max-clones-per-source",
            ),
            (
                r#"{"clusters":[{"cluster-id":"b","target-slots":3}]}"#,
                "target-slots: unknown key",
            ),
            (
                r#"{"clusters":[{"target-clone-slots":3}]}"#,
                "cluster-id: is required",
            ),
            (
                r#"{"clusters":[{"cluster-id":"a"},{"cluster-id":"a"}]}"#,
                "appears twice",
            ),
            ("{:clusters [{:cluster-id 7}]}", "cluster-id"),
            ("not a config", "neither JSON"),
        ];
        for (text, want) in cases {
            let e = MaintenanceConfig::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
