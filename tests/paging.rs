//! Defect 8: the original saw only the first 100 clusters and made one tag call per cluster.
//! moto returns DescribeDBClusters in one page whatever MaxRecords says, so this test serves
//! two pages itself (RDS's XML, with a Marker) and counts the calls the adapter makes.

use aurora_clone_manager::adapters::rds::SdkRds;
use aurora_clone_manager::ports::Rds;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len: usize = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + len {
                            let body = text[head_end + 4..].to_string();
                            let reply = if body.contains("Marker=page-2") {
                                page(100..150, None)
                            } else {
                                page(0..100, Some("page-2"))
                            };
                            log.lock().unwrap().push(body);
                            let resp = format!("HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{reply}", reply.len());
                            let _ = sock.write_all(resp.as_bytes()).await;
                            buf.clear();
                        }
                    }
                }
            });
        }
    });
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
