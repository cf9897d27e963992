//! The `VolumeSizes` port over aws-sdk-cloudwatch: the latest `VolumeBytesUsed` of each cluster
//! (namespace `AWS/RDS`, dimension `DBClusterIdentifier`), up to 500 clusters per GetMetricData.

use super::aws_error;
use crate::error::AwsError;
use crate::ports::VolumeSizes;
use async_trait::async_trait;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_cloudwatch::Client;
use std::collections::BTreeMap;

/// GetMetricData's limit of queries per call.
const QUERIES_PER_CALL: usize = 500;
/// RDS reports the volume's size a few times an hour: the last day's newest point is current.
const LOOKBACK_SECS: i64 = 86_400;

pub struct CloudWatchVolumes {
    client: Client,
}

impl CloudWatchVolumes {
    pub fn new(client: Client) -> CloudWatchVolumes {
        CloudWatchVolumes { client }
    }
}

fn query(i: usize, cluster_id: &str) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace("AWS/RDS")
        .metric_name("VolumeBytesUsed")
        .dimensions(
            Dimension::builder()
                .name("DBClusterIdentifier")
                .value(cluster_id)
                .build(),
        )
        .build();
    MetricDataQuery::builder()
        .id(format!("v{i}"))
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(3600)
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build()
}

#[async_trait]
impl VolumeSizes for CloudWatchVolumes {
    async fn volume_bytes(
        &self,
        cluster_ids: &[String],
    ) -> Result<BTreeMap<String, u64>, AwsError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut out = BTreeMap::new();
        for (batch, ids) in cluster_ids.chunks(QUERIES_PER_CALL).enumerate() {
            let queries = ids.iter().enumerate().map(|(i, id)| query(i, id));
            let mut pages = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.collect()))
                .start_time(DateTime::from_secs(now - LOOKBACK_SECS))
                .end_time(DateTime::from_secs(now))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| aws_error("GetMetricData", e))?;
                for r in page.metric_data_results() {
                    let index = r.id().and_then(|id| id[1..].parse::<usize>().ok());
                    let newest = r
                        .timestamps()
                        .iter()
                        .zip(r.values())
                        .max_by_key(|(t, _)| **t);
                    if let (Some(i), Some((_, v))) = (index, newest) {
                        out.insert(cluster_ids[batch * QUERIES_PER_CALL + i].clone(), *v as u64);
                    }
                }
            }
        }
        Ok(out)
    }
}
