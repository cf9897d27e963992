//! A refresh in place through the real handler and adapters against moto, which renames
//! clusters and instances: the four renames of the cut-over land, and the clone's identifier,
//! host name, port, ARN and secret stay while a new cluster serves under them.
//!
//! moto keeps each instance's old cluster id after a cluster rename, so afterwards it lists the
//! old writer as the new cluster's member (AWS keeps members with their cluster). The manager
//! never finishes on a listing that names the old writer under the clone's name, so on moto the
//! refresh waits there; the fakes (`tests/refresh.rs`) carry it to its end.

mod support;

use aurora_clone_manager::domain::refresh::{RefreshStage, CUT_OVER_RENAMES};
use serde_json::json;
use support::flow::Flow;

#[tokio::test]
async fn a_refresh_on_moto_swaps_the_names_and_keeps_the_address() {
    let f = Flow::new().await;
    let props = json!({"SourceClusterId": f.source, "SetPassword": "true", "CopyOk": "false"});
    let (_, a) = f.create(props).await;
    assert_eq!(a["Status"], "SUCCESS", "{a}");
    let id = a["Data"]["ClusterId"].as_str().unwrap().to_string();
    let describe = |id: String| {
        let rds = f.rds.clone();
        async move {
            let out = rds
                .describe_db_clusters()
                .db_cluster_identifier(id)
                .send()
                .await;
            out.expect("listed").db_clusters()[0].clone()
        }
    };
    let before = describe(id.clone()).await;

    let asked = f
        .invoke(json!({"source": "aurora-clone-manager", "action": "refresh", "cluster": id}))
        .await;
    assert_eq!(asked["started"], true, "{asked}");
    let flows = f.app.flows.as_ref().expect("flows");
    let follow_up = json!({"source": "aurora-clone-manager", "action": "follow-up"});
    let mut item = None;
    for _ in 0..25 {
        f.invoke(follow_up.clone()).await;
        item = flows.refresh.underway(&id).await.expect("readable");
        if item.as_ref().is_none_or(|r| r.renamed >= CUT_OVER_RENAMES) {
            break;
        }
    }
    if let Some(r) = &item {
        assert_eq!(r.stage, RefreshStage::CuttingOver, "{r:?}");
        assert_eq!(r.renamed, CUT_OVER_RENAMES, "every rename accepted: {r:?}");
    }
    let after = describe(id.clone()).await;
    assert_ne!(
        after.cluster_create_time(),
        before.cluster_create_time(),
        "a new cluster serves under the name"
    );
    // The host name is the identifier under the account's and region's own suffix on AWS
    // (`<id>.cluster-<suffix>.<region>.rds.amazonaws.com`); moto draws a suffix per cluster, so
    // here only the identifier part can be held equal.
    let host = |c: &aws_sdk_rds::types::DbCluster| {
        c.endpoint()
            .and_then(|e| e.split(".cluster-").next())
            .map(str::to_string)
    };
    assert_eq!(
        host(&after),
        Some(id.clone()),
        "the host name is the clone's"
    );
    assert_eq!(host(&after), host(&before));
    assert_eq!(after.port(), before.port());
    assert_eq!(
        after.db_cluster_arn(),
        before.db_cluster_arn(),
        "the same ARN"
    );
    let tag = |c: &aws_sdk_rds::types::DbCluster, k: &str| {
        let t = c.tag_list().iter().find(|t| t.key() == Some(k));
        t.and_then(|t| t.value()).map(str::to_string)
    };
    let secret = "aurora-clone-manager:password-secret";
    assert!(tag(&before, secret).is_some());
    assert_eq!(tag(&after, secret), tag(&before, secret), "the same secret");
    let deed = flows
        .deeds
        .deed(&id)
        .await
        .unwrap()
        .expect("the clone's deed");
    assert_eq!(deed.secret_arn(), a["Data"]["PasswordSecretArn"].as_str());
}
