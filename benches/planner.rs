//! The planner on a large account: 10,000 clusters (one root with 40 full pool copies, every
//! volume full of clones, the rest unrelated). Times placement of a new clone and a maintenance
//! plan, median and slowest of 30 runs. `cargo bench --bench planner`.

use aurora_clone_manager::config::maintenance::ClusterConfig;
use aurora_clone_manager::domain::{Cluster, Instance, Lineage, Member, Ownership, Role};
use aurora_clone_manager::planner::pool::{observe_pool, place};
use aurora_clone_manager::planner::upkeep::plan_upkeep;
use aurora_clone_manager::planner::Policy;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

fn managed(id: &str, role: Role, source: &str, at: OffsetDateTime) -> Cluster {
    let mut c = Cluster::new(id, "available");
    c.members = vec![Member {
        instance_id: format!("{id}-1"),
        writer: true,
    }];
    Ownership {
        managed_by: "acm".into(),
        role,
        stack_id: Some("s".into()),
        logical_id: Some("L".into()),
        request_id: Some(id.into()),
    }
    .write(&mut c.tags);
    Lineage {
        root: "orders".into(),
        source: source.into(),
        data_timestamp: at,
    }
    .write(&mut c.tags);
    c
}

fn account(now: OffsetDateTime) -> Vec<Cluster> {
    let mut all = vec![Cluster::new("orders", "available")];
    all[0].members = vec![Member {
        instance_id: "orders-1".into(),
        writer: true,
    }];
    for i in 0..40 {
        all.push(managed(
            &format!("orders-copy-{i}"),
            Role::Copy,
            "orders",
            now - time::Duration::hours(i),
        ));
    }
    for v in 0..41 {
        let source = if v == 0 {
            "orders".to_string()
        } else {
            format!("orders-copy-{}", v - 1)
        };
        for k in 0..15 {
            all.push(managed(
                &format!("{source}-clone-{k}"),
                Role::Clone,
                &source,
                now,
            ));
        }
    }
    while all.len() < 10_000 {
        all.push(Cluster::new(
            &format!("unrelated-{}", all.len()),
            "available",
        ));
    }
    all
}

fn measure(name: &str, mut f: impl FnMut()) {
    let mut runs: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    println!(
        "{name}: median {:.2} ms, slowest {:.2} ms (30 runs)",
        runs[15].as_secs_f64() * 1e3,
        runs[29].as_secs_f64() * 1e3
    );
}

fn main() {
    let now = OffsetDateTime::now_utc();
    let all = account(now);
    let instances: Vec<Instance> = all
        .iter()
        .filter(|c| !c.members.is_empty())
        .map(|c| Instance {
            id: format!("{}-1", c.id),
            cluster_id: Some(c.id.clone()),
            status: "available".into(),
            class: "db.r6g.large".into(),
            settings: Default::default(),
        })
        .collect();
    let vars = [("STACK_NAME".to_string(), "acm".to_string())].into();
    let settings = aurora_clone_manager::config::Settings::from_map(&vars).expect("settings");
    let policy: Policy = aurora_clone_manager::service::policy_of(&settings);
    println!(
        "account: {} clusters, {} instances",
        all.len(),
        instances.len()
    );
    measure("place a clone (observe pool + choose volume)", || {
        let pool = observe_pool("orders", &all, &policy, 15).expect("root");
        assert!(place(&pool, &policy, now, None).is_none());
    });
    let cfg = ClusterConfig {
        target_clone_slots: 30,
        dry_run: true,
        ..ClusterConfig::unconfigured("orders")
    };
    measure("maintenance plan for one source", || {
        let plan = plan_upkeep(&cfg, &all, &instances, &policy, now);
        assert_eq!(plan.create.len(), 2);
    });
}
