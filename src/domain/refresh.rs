//! Refreshing a clone in place: a new clone of the same source is made under a temporary
//! identifier, then takes the clone's identifier (and so its endpoint) while the old one is
//! renamed aside and deleted. The clone keeps its identifier, endpoint, port, secret, readers,
//! tags, expiry and PhysicalResourceId; only its data (and `data-timestamp`) are newer.
//!
//! A refresh is pending work in the state table (`refresh#<clone id>`), written only if absent,
//! so two refreshes of one clone at once make one; every change to it is conditional.

use super::ident::{self, with_suffix};
use serde::{Deserialize, Serialize};

/// How long a refresh may take before it is abandoned (the current clone keeps serving): a
/// pool copy made for it, when the root's volume is full, can take hours.
pub const REFRESH_LIMIT_SECS: i64 = 6 * 3600;

/// Where a refresh stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshStage {
    /// The new clone is being made: restored, given its writer and the clone's password.
    Making,
    /// Names are being swapped; `RefreshItem::renamed` counts the renames RDS has accepted.
    CuttingOver,
    /// The new clone serves under the clone's name; the old one (retired) is being deleted.
    Retiring,
    /// Given up (`RefreshItem::reason`): names put back, the new clone removed.
    Abandoning,
}

/// The renames of a cut-over, in the order they are made: the old writer aside, the new writer
/// to the clone's writer name, the old cluster aside, the new cluster to the clone's name.
/// `renamed` counts those accepted.
pub const CUT_OVER_RENAMES: u8 = 4;

/// A refresh of one clone, as the state table keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshItem {
    /// The clone refreshed: its identifier never changes.
    pub cluster_id: String,
    /// This attempt: binds the new clone's deed and tags to it, and names its helpers.
    pub attempt: String,
    /// The new clone's identifier until the cut-over.
    pub fresh_id: String,
    /// The old clone's identifier after the cut-over, until it is deleted.
    pub retired_id: String,
    pub stage: RefreshStage,
    /// Unix seconds when the refresh was recorded.
    pub since: i64,
    /// Unix seconds after which a refresh not yet cut over is abandoned.
    pub deadline: i64,
    /// What asked for it (`schedule`, `cli`, `event`): logged and shown.
    #[serde(default)]
    pub cause: String,
    /// The clone's password was set on the new clone (RDS accepted it).
    #[serde(default)]
    pub password_set: bool,
    /// Renames of the cut-over RDS accepted (see `CUT_OVER_RENAMES`).
    #[serde(default)]
    pub renamed: u8,
    /// `clone-refresh-started` went out.
    #[serde(default)]
    pub started_sent: bool,
    /// Why it is being abandoned.
    #[serde(default)]
    pub reason: Option<String>,
    /// With `Prepare`: the new clone's preparation asked for, and what its preparer reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preparation: Option<crate::domain::prepare::Preparation>,
    /// The version every conditional change is made against (not stored in the JSON).
    #[serde(skip)]
    pub version: u64,
}

impl RefreshItem {
    /// A refresh of `cluster_id` recorded at `now` as attempt `attempt` (a random token).
    pub fn new(cluster_id: &str, attempt: &str, cause: &str, now: i64) -> RefreshItem {
        RefreshItem {
            cluster_id: cluster_id.to_string(),
            attempt: attempt.to_string(),
            fresh_id: fresh_id(cluster_id, attempt),
            retired_id: retired_id(cluster_id, attempt),
            stage: RefreshStage::Making,
            since: now,
            deadline: now + REFRESH_LIMIT_SECS,
            cause: cause.to_string(),
            password_set: false,
            renamed: 0,
            started_sent: false,
            reason: None,
            preparation: None,
            version: 0,
        }
    }

    /// The request id the new clone's deed and tags carry: this attempt's, never a
    /// CloudFormation request's.
    pub fn request_id(&self) -> String {
        format!("refresh-{}", self.attempt)
    }

    /// The identifiers this refresh works on (the clone, the new one, the retired one).
    pub fn involves(&self, cluster_id: &str) -> bool {
        [&self.cluster_id, &self.fresh_id, &self.retired_id]
            .iter()
            .any(|id| id.as_str() == cluster_id)
    }
}

/// The new clone's identifier until the cut-over: `<clone>-r<attempt>`, within 63 characters,
/// keeping the clone's leading characters (and so the stack's ClusterIdPrefix).
pub fn fresh_id(cluster_id: &str, attempt: &str) -> String {
    with_suffix(cluster_id, &format!("r{}", short(attempt)))
}

/// The old clone's identifier after the cut-over: `<clone>-o<attempt>`.
pub fn retired_id(cluster_id: &str, attempt: &str) -> String {
    with_suffix(cluster_id, &format!("o{}", short(attempt)))
}

fn short(attempt: &str) -> String {
    let s: String = attempt
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect::<String>()
        .to_ascii_lowercase();
    match s.is_empty() {
        true => ident::short_hash(attempt),
        false => s,
    }
}

/// The name of a clone's recurring refresh schedule in the stack's schedule group.
pub fn schedule_name(cluster_id: &str) -> String {
    let name = format!("refresh-{cluster_id}");
    match name.len() <= 64 {
        true => name,
        false => format!("refresh-{:08x}", ident::fnv1a(cluster_id)),
    }
}

/// The input a refresh schedule (or anyone) invokes the function with.
pub fn refresh_input(cluster_id: &str) -> String {
    serde_json::json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": cluster_id})
        .to_string()
}

/// `RefreshSchedule`: an EventBridge Scheduler expression, `cron(<6 fields>)` or
/// `rate(<n> minute(s)|hour(s)|day(s))` (at most once an hour: a refresh takes many minutes).
/// Returns the rule broken.
pub fn check_schedule(expression: &str) -> Result<(), String> {
    if let Some(inner) = strip(expression, "cron(") {
        return match inner.split_whitespace().count() {
            6 => Ok(()),
            n => Err(format!(
                "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got {n} in {expression:?}"
            )),
        };
    }
    if let Some(inner) = strip(expression, "rate(") {
        let mut parts = inner.split_whitespace();
        let n: Option<u32> = parts.next().and_then(|n| n.parse().ok());
        let unit = parts.next().unwrap_or_default().trim_end_matches('s');
        let minutes = match unit {
            "minute" => n,
            "hour" => n.map(|n| n * 60),
            "day" => n.map(|n| n * 1440),
            _ => None,
        };
        return match minutes {
            Some(m) if m >= 60 && parts.next().is_none() => Ok(()),
            Some(_) => Err(format!(
                "refreshes at most once an hour, got {expression:?}"
            )),
            None => Err(format!(
                "a rate is rate(<n> minutes|hours|days), got {expression:?}"
            )),
        };
    }
    Err(format!(
        "must be an EventBridge Scheduler expression, cron(...) or rate(...), got {expression:?}"
    ))
}

fn strip<'a>(expression: &'a str, head: &str) -> Option<&'a str> {
    expression.strip_prefix(head)?.strip_suffix(')')
}

/// `RefreshTimezone`: an IANA zone name as Scheduler takes it (`UTC`, `Europe/Berlin`).
pub fn check_timezone(zone: &str) -> Result<(), String> {
    let ok = !zone.is_empty()
        && zone.len() <= 50
        && zone.starts_with(|c: char| c.is_ascii_uppercase())
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    match ok {
        true => Ok(()),
        false => Err(format!(
            "must be an IANA time zone such as UTC or Europe/Berlin, got {zone:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_identifiers_keep_the_prefix_and_the_rules() {
        let long = format!("clone-{}", "a".repeat(57));
        for id in ["clone-orders", long.as_str()] {
            for helper in [fresh_id(id, "Ab3-9f0z"), retired_id(id, "Ab3-9f0z")] {
                ident::check(&helper).unwrap();
                assert!(helper.starts_with("clone-"), "{helper}");
                assert_ne!(helper, id);
            }
        }
        assert_ne!(fresh_id("c", "x1"), retired_id("c", "x1"));
        assert_eq!(fresh_id("clone-orders", "ab3f90"), "clone-orders-rab3f90");
    }

    #[test]
    fn schedules_are_scheduler_expressions_at_most_hourly() {
        for ok in [
            "cron(0 5 ? * MON-FRI *)",
            "rate(1 day)",
            "rate(2 hours)",
            "rate(60 minutes)",
        ] {
            check_schedule(ok).unwrap();
        }
        for bad in [
            "cron(0 5 * * *)",
            "rate(5 minutes)",
            "rate(day)",
            "daily",
            "at(2026-01-01T00:00:00)",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
        check_timezone("Europe/Berlin").unwrap();
        assert!(check_timezone("berlin; drop").is_err());
        assert!(schedule_name(&"c".repeat(63)).len() <= 64);
    }
}
