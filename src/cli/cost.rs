//! Cost estimates for `status` and `plan`: each cluster's month (`domain::cost`), with its
//! volume's size from CloudWatch where readable (else storage is unknown), and sums per pool.

use crate::domain::cost::{estimate, Compute, Cost};
use crate::domain::{Cluster, Instance};
use crate::ports::VolumeSizes;
use crate::service::Flows;
use std::collections::BTreeMap;

/// Each cluster's estimate, and why storage is unknown, when CloudWatch could not be read.
pub struct Costs {
    pub by_cluster: BTreeMap<String, Cost>,
    pub note: Option<String>,
}

impl Costs {
    pub fn of(&self, cluster_id: &str) -> Cost {
        self.by_cluster.get(cluster_id).copied().unwrap_or_default()
    }
}

pub async fn costs(
    m: &Flows,
    volumes: &dyn VolumeSizes,
    clusters: &[&Cluster],
    instances: &[Instance],
) -> Costs {
    let prices = m.sources.prices().await;
    let ids: Vec<String> = clusters.iter().map(|c| c.id.clone()).collect();
    let (sizes, note) = match volumes.volume_bytes(&ids).await {
        Ok(s) => (s, None),
        Err(e) => (
            BTreeMap::new(),
            Some(format!(
                "storage unknown: CloudWatch VolumeBytesUsed not readable ({}: {})",
                e.operation, e.code
            )),
        ),
    };
    let by_cluster = clusters
        .iter()
        .map(|c| {
            let compute = compute_of(c, instances);
            (
                c.id.clone(),
                estimate(sizes.get(&c.id).copied(), &compute, &prices),
            )
        })
        .collect();
    Costs { by_cluster, note }
}

fn compute_of(c: &Cluster, instances: &[Instance]) -> Compute {
    Compute {
        classes: instances
            .iter()
            .filter(|i| i.cluster_id.as_deref() == Some(c.id.as_str()))
            .map(|i| i.class.clone())
            .collect(),
        min_capacity: c.capacity.map(|c| c.min),
    }
}

/// What the estimates rest on, printed under them.
pub const BASIS: &str =
    "Estimates: Aurora Standard on-demand prices (defaults for us-east-1, or the \
maintenance config's `prices`), 730 hours a month, compute at the Serverless v2 minimum; storage \
from CloudWatch VolumeBytesUsed ($? where it has no data point).";

/// `$1.23` a month, or `?`.
pub fn usd(v: Option<f64>) -> String {
    v.map_or("?".to_string(), |v| format!("${v:.2}"))
}
