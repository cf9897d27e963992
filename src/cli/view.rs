//! What the CLI shows: pools, plans, maintenance reports and status, as tables or JSON.

use super::cost::{costs, usd, Costs};
use super::term::Table;
use super::{json, Outcome, FAILED, USAGE};
use crate::domain::tags;
use crate::domain::Cluster;
use crate::domain::RestoreType;
use crate::planner::action::Action;
use crate::planner::pool::{observe_pool, Pool, Volume, VolumeRole};
use crate::planner::progress::{next_step, Observed, Request, Step};
use crate::ports::VolumeSizes;
use crate::properties::CloneProperties;
use crate::service::maintain::Report;
use crate::service::Flows;
use serde_json::{json, Value};
use time::OffsetDateTime;

pub(super) fn table(header: &[&str]) -> Table {
    Table::new(header)
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
        v.status.as_str().to_string(),
        age(v.data_timestamp, now),
        v.data_timestamp
            .map(tags::format_time)
            .unwrap_or_else(|| "live".into()),
        format!("{}/{}", v.clones.len(), v.slots),
        v.free().to_string(),
    ]
}

fn volume_json(v: &Volume, costs: &Costs) -> Value {
    json!({"costPerMonth": costs.of(&v.cluster_id), "clusterId": v.cluster_id, "role": if v.role == VolumeRole::Root { "root" } else { "copy" }, "status": v.status.as_str(),
        "dataTimestamp": v.data_timestamp.map(tags::format_time), "clones": v.clones, "slots": v.slots, "free": v.free()})
}

pub async fn plan(
    m: &Flows,
    volumes: &dyn VolumeSizes,
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
        .deeds
        .observe_clusters()
        .await
        .map_err(|e| (FAILED, e.to_string()))?;
    let now = m.core.clock.now();
    let source_config = m.sources.source_config(&props.source_cluster_id).await;
    let policy = m.core.policy.for_source(source_config.as_ref());
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
    let costs = pool_costs(m, volumes, &pool, &clusters).await;
    let req = Request {
        props: &props,
        cluster_id: "(new clone)",
        stack_id: "cli",
        logical_id: "cli",
        request_id: "plan",
        fallback_id: None,
        deadline: now + time::Duration::hours(1),
        adopted: false,
        preparation: None,
    };
    let seen = Observed::Absent {
        clusters,
        quotas: None,
        source_config,
        root_writer: None,
    };
    let decision = describe(&next_step(&req, &seen, &m.core.policy, now));
    if as_json {
        let volumes: Vec<Value> = std::iter::once(&pool.root)
            .chain(pool.copies.iter())
            .map(|v| volume_json(v, &costs))
            .collect();
        json::print(json!({"sourceClusterId": source, "volumes": volumes, "plan": decision}));
        return Ok(());
    }
    print_pool(&pool, &policy, now, &costs);
    println!("Plan: {decision}");
    Ok(())
}

/// The month of each of the pool's volumes (the root included: its own writers).
async fn pool_costs(
    m: &Flows,
    volumes: &dyn VolumeSizes,
    pool: &Pool,
    clusters: &[Cluster],
) -> Costs {
    let ids: Vec<&str> = std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .map(|v| v.cluster_id.as_str())
        .collect();
    let members: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| ids.contains(&c.id.as_str()))
        .collect();
    let instances = m.deeds.observe_instances().await.unwrap_or_default();
    costs(m, volumes, &members, &instances).await
}

fn print_pool(pool: &Pool, policy: &crate::planner::Policy, now: OffsetDateTime, costs: &Costs) {
    let mut t = table(&[
        "VOLUME",
        "ROLE",
        "STATUS",
        "AGE",
        "DATA TIME",
        "CLONES",
        "FREE",
        "EST. $/MONTH",
    ]);
    for v in std::iter::once(&pool.root).chain(pool.copies.iter()) {
        let mut row = volume_row(v, now);
        row.push(costs.of(&v.cluster_id).describe());
        t.add_row(row);
    }
    println!(
        "Pool of {} ({} clones per volume; copies host clones for {})",
        pool.root.cluster_id,
        policy.max_clones_per_source,
        age(Some(now - policy.max_copy_age), now)
    );
    println!("{t}");
    let copies: Vec<_> = pool
        .copies
        .iter()
        .map(|v| costs.of(&v.cluster_id))
        .collect();
    let sum = crate::domain::cost::Cost::sum(&copies);
    println!(
        "Pool copies: {} a month ({})",
        usd(sum.total()),
        sum.describe()
    );
    if let Some(note) = &costs.note {
        println!("{note}");
    }
    println!("{}", super::cost::BASIS);
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
        json::print_serialized(report);
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
    for f in &report.sweep {
        let done = if f.removed { ", removed" } else { "" };
        println!(
            "sweep: {} {} ({}; {} / {}){done}",
            f.cluster_id, f.standing, f.reason, f.stack_id, f.logical_id
        );
    }
}
