//! What the CLI shows: pools, plans, maintenance reports and status, as tables or JSON.

use super::{Outcome, FAILED, USAGE};
use crate::domain::RestoreType;
use crate::domain::{tags, Cluster, Role};
use crate::maintenance::Report;
use crate::planner::action::Action;
use crate::planner::pool::{observe_pool, Pool, Volume, VolumeRole};
use crate::planner::progress::{next_step, Observed, Request, Step};
use crate::properties::CloneProperties;
use crate::service::Manager;
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::{json, Value};
use time::OffsetDateTime;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    t
}

/// "3d 4h", "25m": how long ago.
pub fn age(since: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    let Some(t) = since else { return "-".into() };
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}m", s / 60),
    }
}

fn volume_row(v: &Volume, now: OffsetDateTime) -> Vec<String> {
    vec![
        v.cluster_id.clone(),
        if v.role == VolumeRole::Root {
            "root".into()
        } else {
            "copy".into()
        },
        v.status.clone(),
        age(v.data_timestamp, now),
        v.data_timestamp
            .map(tags::format_time)
            .unwrap_or_else(|| "live".into()),
        format!("{}/{}", v.clones.len(), v.slots),
        v.free().to_string(),
    ]
}

fn volume_json(v: &Volume) -> Value {
    json!({"cluster_id": v.cluster_id, "role": if v.role == VolumeRole::Root { "root" } else { "copy" }, "status": v.status,
        "data_timestamp": v.data_timestamp.map(tags::format_time), "clones": v.clones, "slots": v.slots, "free": v.free()})
}

pub async fn plan(
    m: &Manager,
    source: &str,
    copy_ok: bool,
    since: Option<&str>,
    as_json: bool,
) -> Outcome {
    let mut props = json!({"SourceClusterId": source, "CopyOk": copy_ok.to_string()});
    if let Some(s) = since {
        props["CopyCreatedSince"] = json!(s);
    }
    let props = CloneProperties::parse(&props).map_err(|e| (USAGE, e.to_string()))?;
    let clusters = m
        .ports
        .rds
        .clusters()
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let now = m.clock.now();
    let source_config = m.source_config(&props.source_cluster_id).await;
    let policy = m.policy.for_source(source_config.as_ref());
    let pool = observe_pool(
        &props.source_cluster_id,
        &clusters,
        &policy,
        policy.max_clones_per_source,
    )
    .ok_or((
        FAILED,
        format!("no cluster {source} in this account and region"),
    ))?;
    let req = Request {
        props: &props,
        cluster_id: "(new clone)",
        stack_id: "cli",
        logical_id: "cli",
        request_id: "plan",
        fallback_id: None,
        deadline: now + time::Duration::hours(1),
        adopted: false,
    };
    let seen = Observed::Absent {
        clusters,
        quotas: None,
        source_config,
        root_writer: None,
    };
    let decision = describe(&next_step(&req, &seen, &m.policy, now));
    if as_json {
        let volumes: Vec<Value> = std::iter::once(&pool.root)
            .chain(pool.copies.iter())
            .map(volume_json)
            .collect();
        println!(
            "{}",
            json!({"source": source, "volumes": volumes, "plan": decision})
        );
        return Ok(());
    }
    print_pool(&pool, &policy, now);
    println!("Plan: {decision}");
    Ok(())
}

fn print_pool(pool: &Pool, policy: &crate::planner::Policy, now: OffsetDateTime) {
    let mut t = table(&[
        "VOLUME",
        "ROLE",
        "STATUS",
        "AGE",
        "DATA TIME",
        "CLONES",
        "FREE",
    ]);
    for v in std::iter::once(&pool.root).chain(pool.copies.iter()) {
        t.add_row(volume_row(v, now));
    }
    println!(
        "Pool of {} ({} clones per volume; copies host clones for {})",
        pool.root.cluster_id,
        policy.max_clones_per_source,
        age(Some(now - policy.max_copy_age), now)
    );
    println!("{t}");
}

/// A plan step in words.
pub fn describe(step: &Step) -> String {
    match step {
        Step::Act(Action::Restore(r)) if r.restore_type == RestoreType::CopyOnWrite => format!(
            "clone copy-on-write from {} (tagged: root {})",
            r.source_cluster_id,
            r.tags.get(tags::ROOT).map(String::as_str).unwrap_or("?")
        ),
        Step::Act(Action::Restore(r)) => format!(
            "no free slot: make pool copy {} of {} (a full copy: slow), then clone it",
            r.cluster_id, r.source_cluster_id
        ),
        Step::Act(Action::CreateInstance(i)) => format!(
            "add writer {} to {}, then clone it",
            i.instance_id, i.cluster_id
        ),
        Step::Wait(w) => format!("wait: {w}"),
        Step::Fail(r) => format!("fail: {r}"),
        other => format!("{other:?}"),
    }
}

pub fn maintenance(report: &Report, as_json: bool) {
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
        return;
    }
    if let Some(note) = &report.note {
        println!("{note}");
    }
    let mut t = table(&[
        "SOURCE", "TARGET", "FREE", "COMING", "CREATE", "RETIRE", "KEPT", "APPLIED",
    ]);
    for s in &report.clusters {
        let p = &s.plan;
        let kept: Vec<String> = p
            .kept
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        t.add_row(vec![
            p.cluster_id.clone(),
            p.target_clone_slots.to_string(),
            p.slots_free.to_string(),
            p.slots_coming.to_string(),
            p.create_ids.join("\n"),
            p.retire.join("\n"),
            kept.join("\n"),
            if s.applied {
                "yes".into()
            } else {
                format!(
                    "no{}",
                    p.problem
                        .as_ref()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default()
                )
            },
        ]);
    }
    println!("{t}");
    for s in report.clusters.iter().filter(|s| !s.errors.is_empty()) {
        println!("{}: {}", s.plan.cluster_id, s.errors.join("; "));
    }
}

pub async fn status(m: &Manager, as_json: bool) -> Outcome {
    let clusters = m
        .ports
        .rds
        .clusters()
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let now = m.clock.now();
    let managed: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| {
            c.ownership()
                .is_some_and(|o| o.managed_by == m.settings.stack_name)
        })
        .collect();
    let index = crate::planner::pool::VolumeIndex::new(&clusters);
    let rows: Vec<Value> = managed.iter().map(|c| status_json(c, &index)).collect();
    if as_json {
        println!("{}", Value::Array(rows));
        return Ok(());
    }
    let mut t = table(&[
        "CLUSTER",
        "ROLE",
        "STATUS",
        "ROOT",
        "SOURCE",
        "AGE",
        "DATA TIME",
        "CLONES ON IT",
        "OWNER",
    ]);
    for (c, r) in managed.iter().zip(&rows) {
        let lineage = c.lineage();
        t.add_row(vec![
            c.id.clone(),
            r["role"].as_str().unwrap_or_default().into(),
            c.status.clone(),
            lineage.as_ref().map(|l| l.root.clone()).unwrap_or_default(),
            lineage
                .as_ref()
                .map(|l| l.source.clone())
                .unwrap_or_default(),
            age(lineage.as_ref().map(|l| l.data_timestamp), now),
            lineage
                .map(|l| tags::format_time(l.data_timestamp))
                .unwrap_or_default(),
            r["clones_on_it"].to_string(),
            r["owner"].as_str().unwrap_or_default().into(),
        ]);
    }
    println!(
        "Clusters managed by stack {} ({} of {} in the account)",
        m.settings.stack_name,
        managed.len(),
        clusters.len()
    );
    println!("{t}");
    Ok(())
}

fn status_json(c: &Cluster, index: &crate::planner::pool::VolumeIndex) -> Value {
    let o = c.ownership();
    let role = o
        .as_ref()
        .map(|o| {
            if o.role == Role::Copy {
                "copy"
            } else {
                "clone"
            }
        })
        .unwrap_or("?");
    let owner = o
        .as_ref()
        .and_then(|o| {
            Some(format!(
                "{} / {}",
                short_stack(o.stack_id.as_deref()?),
                o.logical_id.as_deref()?
            ))
        })
        .unwrap_or_else(|| "pool".into());
    let lineage = c.lineage();
    json!({"cluster_id": c.id, "role": role, "status": c.status, "root": lineage.as_ref().map(|l| l.root.clone()),
        "source": lineage.as_ref().map(|l| l.source.clone()), "data_timestamp": lineage.map(|l| tags::format_time(l.data_timestamp)),
        "clones_on_it": index.clones_on(c).len(), "owner": owner})
}

/// The stack name out of a stack id ARN.
fn short_stack(stack_id: &str) -> String {
    stack_id.split('/').nth(1).unwrap_or(stack_id).to_string()
}
