//! The clone lifecycle at a terminal: `extend` a clone's expiry, `sweep` for orphans.

use super::{json, Outcome, FAILED, REFUSED, USAGE};
use crate::domain::tags;
use crate::service::expiry::ExtendRefused;
use crate::service::sweep::Finding;
use crate::service::{Flows, Invocation};
use serde_json::json;

pub async fn extend(
    m: &Flows,
    cluster_id: &str,
    by: &str,
    dry_run: bool,
    as_json: bool,
) -> Outcome {
    let by = crate::domain::duration::parse_iso_duration(by)
        .map_err(|e| (USAGE, format!("--by {by}: {e}")))?;
    let at = m
        .expiry
        .extend(cluster_id, by, dry_run)
        .await
        .map_err(|e| match e {
            ExtendRefused::Aws(e) => (FAILED, e.to_string()),
            refused => (REFUSED, refused.to_string()),
        })?;
    let at = tags::format_time(at);
    if as_json {
        json::print(json!({"clusterId": cluster_id, "expiresAt": at, "dryRun": dry_run}));
    } else {
        let verb = if dry_run { "would expire" } else { "expires" };
        println!("{cluster_id} {verb} at {at} (the stack's next change of ExpiresAfter/ExpiresAt replaces this)");
    }
    Ok(())
}

pub async fn sweep(m: &Flows, dry_run: bool, as_json: bool) -> Outcome {
    let clusters = m
        .deeds
        .observe_clusters()
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let findings = m
        .sweep
        .sweep(&clusters, dry_run, &Invocation::default())
        .await;
    if as_json {
        json::print_serialized(&findings);
        return Ok(());
    }
    if findings.is_empty() {
        println!(
            "no orphans: every clone of stack {} is claimed by its stack",
            m.core.settings.stack_name
        );
        return Ok(());
    }
    let mut t = super::view::table(&[
        "CLUSTER",
        "STANDING",
        "REASON",
        "ORPHAN SINCE",
        "REMOVE AFTER",
        "DONE",
    ]);
    for f in &findings {
        t.add_row(vec![
            f.cluster_id.clone(),
            f.standing.into(),
            format!("{}\n{} / {}", f.reason, f.stack_id, f.logical_id),
            f.orphan_since.clone().unwrap_or_default(),
            f.remove_after.clone().unwrap_or_default(),
            done(f, dry_run),
        ]);
    }
    println!("{t}");
    match findings.iter().find_map(|f| f.error.as_ref()) {
        Some(e) => Err((FAILED, format!("the sweep could not finish: {e}"))),
        None => Ok(()),
    }
}

fn done(f: &Finding, dry_run: bool) -> String {
    match (&f.error, f.removed, f.standing) {
        (Some(e), _, _) => format!("failed: {e}"),
        (None, true, _) => "removed".into(),
        (None, false, "orphan") if dry_run => "dry run".into(),
        (None, false, "orphan") => "marked; waiting for the grace".into(),
        _ => "left alone".into(),
    }
}

/// `adopt`: the clusters this stack made before it kept a ledger, and their deeds.
pub async fn adopt(m: &Flows, dry_run: bool, as_json: bool) -> Outcome {
    let found = m
        .deeds
        .adopt(dry_run)
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    if as_json {
        json::print_serialized(&found);
        return Ok(());
    }
    if found.is_empty() {
        println!(
            "nothing to adopt: every cluster tagged as stack {}'s is in its ledger",
            m.core.settings.stack_name
        );
        return Ok(());
    }
    let mut t = super::view::table(&["CLUSTER", "ROLE", "OWNER", "RECORDED"]);
    for a in &found {
        let d = &a.deed;
        let owner = match (&d.stack_id, &d.logical_id) {
            (Some(s), Some(l)) => format!("{l} of {s}"),
            _ => format!("pool of {}", d.root.clone().unwrap_or_default()),
        };
        let recorded = if dry_run {
            "dry run"
        } else if a.recorded {
            "yes"
        } else {
            "already held"
        };
        t.add_row(vec![
            d.cluster_id.clone(),
            d.role.as_str().into(),
            owner,
            recorded.into(),
        ]);
    }
    println!("{t}");
    Ok(())
}
