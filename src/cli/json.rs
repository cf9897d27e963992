//! The CLI's one JSON style: camelCase keys, the names the lifecycle events use (`clusterId`,
//! `dataTimestamp`, `logicalResourceId`, ...) and CloudFormation's `Data` keys lower-camel-cased
//! (`ClusterId` -> `clusterId`). Every command prints its document through `print`, so none can
//! speak another style whatever the Rust field names are (the same values are also the Lambda's
//! logs and answers, which keep their own names).

use serde_json::{Map, Value};

/// Keys whose values are data, not this tool's vocabulary: a clone's resource properties
/// (CloudFormation's names, as the stack wrote them) and tags (the user's keys).
const DATA: &[&str] = &["properties", "tags"];

/// Where the events name the same thing otherwise than the Rust field does.
const AS_THE_EVENTS_SAY: &[(&str, &str)] = &[("logicalId", "logicalResourceId")];

/// `cluster_id` and `ClusterId` both become `clusterId`; camelCase stays as it is.
pub fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper_next = false;
    for (i, c) in key.chars().enumerate() {
        match c {
            '_' if i > 0 => upper_next = true,
            c if i == 0 => out.push(c.to_ascii_lowercase()),
            c if upper_next => {
                out.push(c.to_ascii_uppercase());
                upper_next = false;
            }
            c => out.push(c),
        }
    }
    match AS_THE_EVENTS_SAY.iter().find(|(from, _)| *from == out) {
        Some((_, to)) => to.to_string(),
        None => out,
    }
}

/// The document with every key of this tool's vocabulary in camelCase.
pub fn camel(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if DATA.contains(&k.as_str()) {
                        v
                    } else {
                        camel(v)
                    };
                    (camel_key(&k), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

/// Prints one command's document: compact, on one line, in camelCase.
pub fn print(doc: Value) {
    println!("{}", camel(doc));
}

/// `print` of anything serializable (the service's reports and findings).
pub fn print_serialized<T: serde::Serialize>(doc: &T) {
    print(serde_json::to_value(doc).unwrap_or(Value::Null));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snake_and_pascal_keys_become_camel_and_data_stays_as_written() {
        let doc = json!({
            "cluster_id": "c",
            "ClusterId": "c",
            "ReaderEndpoint": "r",
            "dataTimestamp": "t",
            "logical_id": "OrdersClone",
            "cost_per_month": {"storage_usd": 1.0, "volume_bytes": null},
            "clusters": [{"orphan_since": null, "expiry": {"expires_at": "x"}}],
            "deed": {"properties": {"SourceClusterId": "orders", "Tags": {"cost_center": "a"}},
                     "tags": {"team_name": "qa"}},
        });
        assert_eq!(
            camel(doc),
            json!({
                "clusterId": "c",
                "readerEndpoint": "r",
                "dataTimestamp": "t",
                "logicalResourceId": "OrdersClone",
                "costPerMonth": {"storageUsd": 1.0, "volumeBytes": null},
                "clusters": [{"orphanSince": null, "expiry": {"expiresAt": "x"}}],
                "deed": {"properties": {"SourceClusterId": "orders", "Tags": {"cost_center": "a"}},
                         "tags": {"team_name": "qa"}},
            })
        );
    }

    #[test]
    fn keys_already_in_camel_case_are_kept() {
        for key in ["clusterId", "status", "rootClusterId", "work"] {
            assert_eq!(camel_key(key), key);
        }
        assert_eq!(camel_key("Status"), "status");
        assert_eq!(camel_key("PasswordSecretArn"), "passwordSecretArn");
    }
}
