//! RDS identifier rules, the identifiers this tool generates for clones and their instances, and
//! RDS cluster ARNs as RDS spells them.

use time::OffsetDateTime;

pub const MAX_LEN: usize = 63;

/// Checks an RDS DB cluster or instance identifier: 1–63 letters, digits and hyphens, starting
/// with a letter, without a double or trailing hyphen. Returns the rule broken.
pub fn check(id: &str) -> Result<(), String> {
    let rule = if id.is_empty() || id.len() > MAX_LEN {
        "must be 1 to 63 characters long"
    } else if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        "may contain only letters, digits and hyphens"
    } else if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "must start with a letter"
    } else if id.contains("--") {
        "must not contain two consecutive hyphens"
    } else if id.ends_with('-') {
        "must not end with a hyphen"
    } else {
        return Ok(());
    };
    Err(format!(
        "{rule} (RDS identifier rules), got {id:?} ({} characters)",
        id.len()
    ))
}

/// `<prefix>-<suffix>` within 63 characters: the prefix is cut, never the suffix, and the result
/// is lowercase, as RDS stores it.
pub fn with_suffix(prefix: &str, suffix: &str) -> String {
    let room = MAX_LEN.saturating_sub(suffix.len() + 1);
    let mut head: String = prefix.to_ascii_lowercase().chars().take(room).collect();
    while head.ends_with('-') {
        head.pop();
    }
    if head.is_empty() || !head.starts_with(|c: char| c.is_ascii_alphabetic()) {
        head.insert(0, 'c');
        head.truncate(room);
    }
    format!("{head}-{suffix}")
}

/// A clone's generated identifier: `<source>-<UTC timestamp>-<4 hex of the request id>`, as the
/// original plus a request-derived tag so that two requests in the same second never collide.
pub fn generated_clone_id(source: &str, at: OffsetDateTime, request_id: &str) -> String {
    let stamp = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    with_suffix(source, &format!("{stamp}-{}", short_hash(request_id)))
}

/// The identifier of the one writer instance of a managed cluster: `<cluster>-writer` when it
/// fits in 63 characters; otherwise the cluster id is cut and eight hex digits of a hash of the
/// *whole* cluster id keep it unique (two long ids sharing their first 47 characters never
/// name the same writer).
pub fn writer_instance_id(cluster_id: &str) -> String {
    let id = cluster_id.to_ascii_lowercase();
    if id.len() + "-writer".len() <= MAX_LEN {
        return format!("{id}-writer");
    }
    with_suffix(&id, &format!("{:08x}-writer", fnv1a(&id)))
}

/// FNV-1a: a stable hash across processes and versions.
pub fn fnv1a(text: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Four hex digits of a stable hash (FNV-1a): stable across processes and versions.
pub fn short_hash(text: &str) -> String {
    format!("{:04x}", fnv1a(text) & 0xffff)
}

/// An RDS cluster ARN spelled exactly as RDS spells it
/// (`arn:<partition>:rds:<region>:<account>:cluster:<id>`, lowercase, a 12-digit account, a
/// valid identifier). Any other spelling names no cluster, however its last part reads, since
/// RDS itself matches identifiers case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub cluster_id: &'a str,
}

impl<'a> ClusterArn<'a> {
    pub fn parse(arn: &'a str) -> Option<ClusterArn<'a>> {
        let parts: Vec<&str> = arn.split(':').collect();
        let [arn_, partition, service, region, account, kind, id] = parts[..] else {
            return None;
        };
        let spelled = arn_ == "arn"
            && service == "rds"
            && kind == "cluster"
            && well_formed(&[partition, service, region, account], true)
            && check(id).is_ok()
            && id == id.to_ascii_lowercase();
        spelled.then_some(ClusterArn {
            partition,
            region,
            account,
            cluster_id: id,
        })
    }
}

/// Partition, service, region and account of an ARN as AWS spells them: lowercase, a 12-digit
/// account, and (when `region_needed`) a region.
pub fn well_formed(parts: &[&str], region_needed: bool) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let [partition, service, region, account] = parts[..] else {
        return false;
    };
    let account = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    word(partition)
        && word(service)
        && (word(region) || !region_needed && region.is_empty())
        && account
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn identifier_rules() {
        assert!(check("orders-clone-1").is_ok());
        for bad in ["", "1abc", "a--b", "a-", "a_b", &"a".repeat(64)] {
            assert!(check(bad).is_err(), "{bad} accepted");
        }
        assert!(check(&"a".repeat(63)).is_ok());
    }

    /// Defect 14: identifier length was never checked. Generated ids stay valid however long
    /// the source id is.
    #[test]
    fn generated_ids_are_valid_for_any_source() {
        let at = datetime!(2026-11-22 03:04:05 UTC);
        for source in [
            "orders",
            &"a".repeat(63),
            "x-y-z-",
            "Orders-Prod",
            &format!("{}-b", "a".repeat(42)),
        ] {
            let id = generated_clone_id(source, at, "req-1");
            assert!(check(&id).is_ok(), "{id}");
            assert!(check(&writer_instance_id(&id)).is_ok());
            assert!(id.contains("20261122030405-"));
        }
        assert_ne!(
            generated_clone_id("o", at, "r1"),
            generated_clone_id("o", at, "r2")
        );
    }

    /// Issue 9.2: writer ids kept the first 56 characters of the cluster id, so two long ids
    /// (copies of a 36+ character root in one run) named the same writer.
    #[test]
    fn writer_ids_of_long_clusters_never_collide() {
        let at = datetime!(2026-11-22 03:04:05 UTC);
        let root = "a".repeat(40);
        let ids: Vec<String> = (0..50)
            .map(|i| generated_clone_id(&format!("{root}-copy"), at, &format!("maintenance-{i}")))
            .collect();
        let writers: std::collections::BTreeSet<String> =
            ids.iter().map(|id| writer_instance_id(id)).collect();
        assert_eq!(writers.len(), ids.len(), "one writer id per cluster");
        for w in &writers {
            assert!(check(w).is_ok(), "{w}");
        }
        assert_eq!(writer_instance_id("orders-clone"), "orders-clone-writer");
        let long = "b".repeat(60);
        assert_ne!(
            writer_instance_id(&format!("{long}1")),
            writer_instance_id(&format!("{long}2"))
        );
    }
}
