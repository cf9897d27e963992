//! The `VolumeSizes` adapter on CloudWatch's own wire protocol. moto 5.2 does not serve the
//! rpc-v2-cbor protocol the SDK speaks to CloudWatch, so this stub answers GetMetricData as
//! CloudWatch does, in CBOR: the adapter's request, its decoding, its batching of 500 queries per
//! call, and the mapping of answers back to clusters run for real.

use aurora_clone_manager::adapters::volumes::CloudWatchVolumes;
use aurora_clone_manager::ports::VolumeSizes;
use aws_sdk_cloudwatch::config::{Credentials, Region};
use aws_smithy_cbor::Encoder;
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::DateTime;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A GetMetricData answer: query `v0` has two points (the newer one last), `v1` none.
fn answer() -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.begin_map().str("MetricDataResults").begin_array();
    e.begin_map()
        .str("Id")
        .str("v0")
        .str("StatusCode")
        .str("Complete");
    e.str("Timestamps").begin_array();
    e.timestamp(&DateTime::from_secs(1_800_000_000))
        .timestamp(&DateTime::from_secs(1_800_003_600))
        .end();
    e.str("Values")
        .begin_array()
        .double(40e9)
        .double(50e9)
        .end();
    e.end();
    e.begin_map()
        .str("Id")
        .str("v1")
        .str("StatusCode")
        .str("Complete");
    e.str("Timestamps").begin_array().end();
    e.str("Values").begin_array().end();
    e.end();
    e.end().end();
    e.into_writer()
}

#[tokio::test]
async fn the_newest_volume_size_per_cluster_in_batches_of_500() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
        counted.fetch_add(1, Ordering::SeqCst);
        assert!(
            req.uri().path().ends_with("/operation/GetMetricData"),
            "{}",
            req.uri()
        );
        http::Response::builder()
            .status(200)
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor")
            .body(SdkBody::from(answer()))
            .unwrap()
    });
    let conf = aws_sdk_cloudwatch::Config::builder()
        .http_client(http)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("a", "b", None, None, "test"))
        .behavior_version_latest()
        .build();
    let volumes = CloudWatchVolumes::new(aws_sdk_cloudwatch::Client::from_conf(conf));
    let ids: Vec<String> = (0..502).map(|i| format!("cluster-{i}")).collect();
    let sizes = volumes.volume_bytes(&ids).await.expect("GetMetricData");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "502 clusters: two calls");
    assert_eq!(
        sizes.get("cluster-0"),
        Some(&50_000_000_000),
        "the newest point"
    );
    assert_eq!(
        sizes.get("cluster-500"),
        Some(&50_000_000_000),
        "v0 of the second call"
    );
    assert!(
        !sizes.contains_key("cluster-1"),
        "no data point: unknown, not zero"
    );
    assert_eq!(sizes.len(), 2, "{sizes:?}");
}
