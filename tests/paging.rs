//! Defect 8: the original saw only the first 100 clusters and made one tag call per cluster.
//! moto returns DescribeDBClusters in one page whatever MaxRecords says, so this test serves
//! two pages itself (RDS's XML, with a Marker) and counts the calls the adapter makes.

mod support;

use aurora_clone_manager::adapters::rds::SdkRds;
use aurora_clone_manager::ports::Rds;
use std::sync::{Arc, Mutex};
use support::http::{serve, Reply};

fn page(ids: std::ops::Range<u32>, marker: Option<&str>) -> String {
    let clusters: String = ids
        .map(|i| format!("<DBCluster><DBClusterIdentifier>c{i}</DBClusterIdentifier><Status>available</Status><Engine>aurora-postgresql</Engine><TagList><Tag><Key>n</Key><Value>{i}</Value></Tag></TagList></DBCluster>"))
        .collect();
    let marker = marker
        .map(|m| format!("<Marker>{m}</Marker>"))
        .unwrap_or_default();
    format!(
        r#"<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBClustersResult>{marker}<DBClusters>{clusters}</DBClusters></DescribeDBClustersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBClustersResponse>"#
    )
}

/// Serves page 1 (clusters 0..100, Marker) or page 2 (100..150), recording each request body.
async fn rds_stand_in() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let url = serve(move |request| {
        let body = String::from_utf8_lossy(&request.body).to_string();
        let reply = if body.contains("Marker=page-2") {
            page(100..150, None)
        } else {
            page(0..100, Some("page-2"))
        };
        log.lock().unwrap().push(body);
        Some(Reply {
            status: 200,
            content_type: "text/xml",
            body: reply,
            close: false,
        })
    })
    .await;
    (url, seen)
}

#[tokio::test]
async fn clusters_are_read_across_pages_with_tags_inline() {
    let (url, seen) = rds_stand_in().await;
    let creds = aws_sdk_rds::config::Credentials::new("t", "t", None, None, "test");
    let conf = aws_sdk_rds::config::Builder::new()
        .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_rds::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .build();
    let rds = SdkRds::new(aws_sdk_rds::Client::from_conf(conf));
    let clusters = rds.clusters().await.unwrap();
    assert_eq!(clusters.len(), 150, "both pages");
    assert_eq!(
        clusters[149].tags.get("n").map(String::as_str),
        Some("149"),
        "tags come inline"
    );
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one call per page: {bodies:?}");
    assert!(bodies
        .iter()
        .all(|b| b.contains("Action=DescribeDBClusters") && b.contains("MaxRecords=100")));
    assert!(
        !bodies.iter().any(|b| b.contains("ListTagsForResource")),
        "no per-cluster tag calls"
    );
}
