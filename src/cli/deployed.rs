//! The deployed stack's settings, so that a terminal and the Lambda agree: the CLI reads the
//! stack's parameters (DescribeStacks, defaults included) and resources (DescribeStackResources)
//! and sets the variables the template gives the function from them. `tests/template.rs` holds
//! `STACK_SETTINGS` to the template.

use crate::adapters::{stacks::SdkStacks, Clients};
use std::collections::HashMap;

/// The template's parameters and the function's variables they become (`!Ref Parameter`).
pub const STACK_SETTINGS: &[(&str, &str)] = &[
    ("CustomResourceType", "RESOURCE_TYPE"),
    ("MaxCopyAge", "MAX_COPY_AGE"),
    ("MaxClonesPerSource", "MAX_CLONES_PER_SOURCE"),
    ("DefaultSecretPrefix", "DEFAULT_SECRET_PREFIX"),
    ("EventSource", "EVENT_SOURCE"),
    ("ClusterIdPrefix", "CLUSTER_ID_PREFIX"),
    ("VerifyStackRequests", "VERIFY_STACK_REQUESTS"),
    ("AllowedSources", "ALLOWED_SOURCES"),
    ("AllowedReaderAccounts", "ALLOWED_READER_ACCOUNTS"),
    ("AllowedSecretPrefixes", "ALLOWED_SECRET_PREFIXES"),
    ("ExpiryWarning", "EXPIRY_WARNING"),
    ("OrphanGrace", "ORPHAN_GRACE"),
];

/// The template's resources whose physical ids become the function's variables.
pub const STACK_RESOURCES: &[(&str, &str)] = &[
    ("DefaultKey", "DEFAULT_SECRET_KEY"),
    ("StateTable", "STATE_TABLE"),
    // Present when the stack makes its own bus (no EventBusName given).
    ("LifecycleBus", "EVENT_BUS_NAME"),
];

/// The function's variables as the deployed stack sets them; `None` when no such stack is
/// deployed here (a local run: the environment's settings stand).
pub async fn stack_settings(
    stack: &str,
    clients: &Clients,
) -> Result<Option<HashMap<String, String>>, String> {
    let stacks = SdkStacks::new(clients.cloudformation.clone());
    let unreadable =
        |e| format!("could not read the settings of stack {stack} from CloudFormation: {e}");
    let Some(params) = stacks.parameters(stack).await.map_err(unreadable)? else {
        return Ok(None);
    };
    let mut vars = variables(stack, &params);
    if let Some(bus) = params.get("EventBusName").filter(|b| !b.is_empty()) {
        vars.insert("EVENT_BUS_NAME".into(), bus.clone());
    }
    // Without its resources the parameters still stand (the table can be named instead).
    match stacks.physical_ids(stack).await {
        Ok(ids) => {
            for (logical_id, var) in STACK_RESOURCES {
                if let Some(id) = ids.get(*logical_id) {
                    vars.insert(var.to_string(), id.clone());
                }
            }
        }
        Err(e) => eprintln!("note: could not read the resources of stack {stack}: {e}"),
    }
    Ok(Some(vars))
}

/// The variables `params` give the function.
pub fn variables(
    stack: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = STACK_SETTINGS
        .iter()
        .filter_map(|(param, var)| Some((var.to_string(), params.get(*param)?.clone())))
        .collect();
    vars.insert("STACK_NAME".into(), stack.into());
    vars.insert(
        "MAINTENANCE_CONFIG_SSM".into(),
        format!("/{stack}/maintenance-config"),
    );
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variable the template sets from a parameter (`VAR: !Ref Parameter`) is read from
    /// the deployed stack, and nothing else is.
    #[test]
    fn the_settings_read_are_the_templates() {
        let template = include_str!("../../template.yaml");
        let params = top_level_keys(template, "Parameters:");
        let from_params: Vec<(String, String)> = template
            .lines()
            .filter_map(|l| {
                let (var, rest) = l.trim().split_once(": !Ref ")?;
                let is_var = var.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                (is_var && params.contains(&rest.to_string()))
                    .then(|| (rest.to_string(), var.to_string()))
            })
            .collect();
        let resources = top_level_keys(template, "Resources:");
        for (logical_id, var) in STACK_RESOURCES {
            assert!(resources.contains(&logical_id.to_string()), "{logical_id}");
            assert!(
                template.contains(&format!("{var}: !")),
                "{var} is set by the template"
            );
        }
        let mut expected: Vec<(String, String)> = from_params;
        expected.extend(
            [
                ("AllowedSources", "ALLOWED_SOURCES"),
                ("AllowedReaderAccounts", "ALLOWED_READER_ACCOUNTS"),
                ("AllowedSecretPrefixes", "ALLOWED_SECRET_PREFIXES"),
            ]
            .map(|(p, v)| (p.to_string(), v.to_string())),
        );
        expected.retain(|(p, _)| p != "LogLevel");
        expected.sort();
        let mut ours: Vec<(String, String)> = STACK_SETTINGS
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect();
        ours.sort();
        assert_eq!(ours, expected);
    }

    fn top_level_keys(template: &str, section: &str) -> Vec<String> {
        template
            .lines()
            .skip_while(|l| *l != section)
            .skip(1)
            .take_while(|l| l.is_empty() || l.starts_with(' ') || l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|k| !k.starts_with(' ') && !k.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn parameters_become_the_functions_variables() {
        let params = [
            ("ClusterIdPrefix", "qa-"),
            ("OrphanGrace", "PT2H"),
            ("Unrelated", "x"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let vars = variables("acm", &params);
        assert_eq!(vars["CLUSTER_ID_PREFIX"], "qa-");
        assert_eq!(vars["ORPHAN_GRACE"], "PT2H");
        assert_eq!(vars["STACK_NAME"], "acm");
        assert_eq!(vars["MAINTENANCE_CONFIG_SSM"], "/acm/maintenance-config");
        assert_eq!(vars.len(), 4, "{vars:?}");
    }
}
