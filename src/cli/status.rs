//! `status`: every clone and pool copy this stack manages, with expiry, orphan mark and an
//! estimated monthly cost, and the sums per pool.

use super::cost::{costs, usd, Costs};
use super::view::{age, table};
use super::{json, Outcome, FAILED};
use crate::domain::cost::Cost;
use crate::domain::expiry::{Expiry, EXTENDED};
use crate::domain::{tags, Cluster, Role};
use crate::ports::VolumeSizes;
use crate::service::Flows;
use serde::Serialize;
use serde_json::{json, Value};

pub async fn status(m: &Flows, volumes: &dyn VolumeSizes, as_json: bool) -> Outcome {
    let failed = |e: crate::error::AwsError| (FAILED, e.to_string());
    let clusters = m.deeds.observe_clusters().await.map_err(failed)?;
    let instances = m.deeds.observe_instances().await.map_err(failed)?;
    let managed: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| {
            c.ownership()
                .is_some_and(|o| o.managed_by == m.core.settings.stack_name)
        })
        .collect();
    let costs = costs(m, volumes, &managed, &instances).await;
    let index = crate::planner::pool::VolumeIndex::new(&clusters);
    let rows: Vec<Value> = managed
        .iter()
        .map(|c| status_json(c, &index, &costs.of(&c.id)))
        .collect();
    if as_json {
        let pools = pool_sums(&managed, &costs);
        json::print(json!({"clusters": rows, "pools": pools, "costNote": costs.note}));
        return Ok(());
    }
    println!(
        "Clusters managed by stack {} ({} of {} in the account)",
        m.core.settings.stack_name,
        managed.len(),
        clusters.len()
    );
    println!("{}", status_table(m, &managed, &rows, &costs));
    print_pool_sums(&managed, &costs);
    Ok(())
}

fn status_table(m: &Flows, managed: &[&Cluster], rows: &[Value], costs: &Costs) -> String {
    let now = m.core.clock.now();
    let mut t = table(&[
        "CLUSTER",
        "ROLE",
        "STATUS",
        "ROOT",
        "DATA AGE",
        "CLONES ON IT",
        "OWNER",
        "EXPIRES",
        "REFRESH",
        "EST. $/MONTH",
    ]);
    for (c, r) in managed.iter().zip(rows) {
        let lineage = c.lineage();
        t.add_row(vec![
            c.id.clone(),
            r["role"].as_str().unwrap_or_default().into(),
            c.status.as_str().to_string(),
            lineage.as_ref().map(|l| l.root.clone()).unwrap_or_default(),
            age(lineage.as_ref().map(|l| l.data_timestamp), now),
            r["clonesOnIt"].to_string(),
            r["owner"].as_str().unwrap_or_default().into(),
            expires(c),
            refresh_cell(&r["refresh"]),
            costs.of(&c.id).describe(),
        ]);
    }
    t.to_string()
}

/// A root's pool copies and clones, and their month.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PoolSum {
    root_cluster_id: String,
    copies: usize,
    copies_cost: Cost,
    clones: usize,
    clones_cost: Cost,
}

fn pool_sums(managed: &[&Cluster], costs: &Costs) -> Vec<PoolSum> {
    let mut roots: Vec<String> = managed
        .iter()
        .filter_map(|c| c.lineage().map(|l| l.root))
        .collect();
    roots.sort();
    roots.dedup();
    let of = |root: &str, role: Role| -> (usize, Cost) {
        let members: Vec<&&Cluster> = managed
            .iter()
            .filter(|c| c.lineage().is_some_and(|l| l.root == root))
            .filter(|c| c.ownership().is_some_and(|o| o.role == role))
            .collect();
        let each: Vec<Cost> = members.iter().map(|c| costs.of(&c.id)).collect();
        (members.len(), Cost::sum(&each))
    };
    roots
        .into_iter()
        .map(|root| {
            let (copies, copies_cost) = of(&root, Role::Copy);
            let (clones, clones_cost) = of(&root, Role::Clone);
            PoolSum {
                root_cluster_id: root,
                copies,
                copies_cost,
                clones,
                clones_cost,
            }
        })
        .collect()
}

fn print_pool_sums(managed: &[&Cluster], costs: &Costs) {
    let money = |c: &Cost| format!("{} a month ({})", usd(c.total()), c.describe());
    for p in pool_sums(managed, costs) {
        println!(
            "Pool of {}: {} copies, {}; {} clones, {}",
            p.root_cluster_id,
            p.copies,
            money(&p.copies_cost),
            p.clones,
            money(&p.clones_cost)
        );
    }
    if let Some(note) = &costs.note {
        println!("{note}");
    }
    println!("{}", super::cost::BASIS);
}

fn status_json(c: &Cluster, index: &crate::planner::pool::VolumeIndex, cost: &Cost) -> Value {
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
    json!({"clusterId": c.id, "role": role, "status": c.status.as_str(), "rootClusterId": lineage.as_ref().map(|l| l.root.clone()),
        "sourceClusterId": lineage.as_ref().map(|l| l.source.clone()), "dataTimestamp": lineage.map(|l| tags::format_time(l.data_timestamp)),
        "clonesOnIt": index.clones_on(c).len(), "owner": owner, "expiry": expiry_json(c),
        "orphanSince": c.tags.get(crate::planner::sweep::ORPHAN_SINCE), "costPerMonth": cost,
        "refresh": refresh_json(c)})
}

/// A clone's refresh schedule (as its deed's properties ask) and the attempt under way, if any.
fn refresh_json(c: &Cluster) -> Value {
    let deed = c.deed.as_ref();
    let props = deed
        .and_then(|d| d.properties.as_ref())
        .and_then(|p| crate::domain::properties::CloneProperties::parse(p).ok());
    let spec = props.and_then(|p| p.refresh);
    let underway = deed.and_then(|d| d.refreshing.clone());
    match (spec, underway) {
        (None, None) => Value::Null,
        (spec, underway) => json!({
            "schedule": spec.as_ref().map(|s| s.schedule.clone()),
            "timezone": spec.as_ref().map(|s| s.timezone.clone().unwrap_or_else(|| "UTC".into())),
            "underway": underway,
        }),
    }
}

fn expiry_json(c: &Cluster) -> Value {
    Expiry::from_tags(&c.tags).map_or(Value::Null, |e| {
        json!({"expiresAt": tags::format_time(e.at), "action": e.action.as_str(),
            "warned": e.warned, "expired": e.handled.map(|a| a.as_str()),
            "extendedAt": c.tags.get(EXTENDED)})
    })
}

/// A clone's refresh for the table: its schedule, and "now" while one is under way.
fn refresh_cell(r: &Value) -> String {
    let schedule = r["schedule"]
        .as_str()
        .map(|s| format!("{s} {}", r["timezone"].as_str().unwrap_or("UTC")));
    match (schedule, r["underway"].is_string()) {
        (Some(s), true) => format!("{s}, refreshing now"),
        (Some(s), false) => s,
        (None, true) => "refreshing now".into(),
        (None, false) => String::new(),
    }
}

/// A clone's expiry for the table: the moment and the action, or what was done at it.
fn expires(c: &Cluster) -> String {
    let Some(e) = Expiry::from_tags(&c.tags) else {
        return String::new();
    };
    let extended = if c.tags.contains_key(EXTENDED) {
        ", extended"
    } else {
        ""
    };
    match e.handled {
        Some(done) => format!(
            "expired {} ({}){extended}",
            tags::format_time(e.at),
            done.as_str()
        ),
        None => format!(
            "{} ({}){extended}",
            tags::format_time(e.at),
            e.action.as_str()
        ),
    }
}

/// The stack name out of a stack id ARN.
fn short_stack(stack_id: &str) -> String {
    stack_id.split('/').nth(1).unwrap_or(stack_id).to_string()
}
