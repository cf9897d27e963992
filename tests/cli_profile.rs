//! The CLI's `--region` and `--profile` reach the SDK's configuration: with them it acts in
//! another region, and with the credentials and region a profile names (against moto, which
//! keeps each region's clusters apart).

mod support;

use aws_config::Region;
use support::moto::{run_cli, run_cli_without, sdk_config, unique};

/// A cluster with a writer in `region`: what `plan` needs to show a pool.
async fn source_in(region: &str, id: &str) {
    let conf = sdk_config()
        .into_builder()
        .region(Region::new(region.to_string()))
        .build();
    let rds = aws_sdk_rds::Client::new(&conf);
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("app")
        .master_user_password("source-password-1")
        .send()
        .await
        .expect("source cluster");
    rds.create_db_instance()
        .db_instance_identifier(format!("{id}-1"))
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .expect("source instance");
}

#[tokio::test]
async fn region_chooses_where_the_cli_looks() {
    let source = unique("orders");
    source_in("eu-west-2", &source).await;
    let stack = unique("acm");
    let plan = ["plan", "--source", &source];

    // The environment's region (us-east-1) has no such cluster.
    let (code, _, err) = run_cli(&stack, &[], &plan);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no cluster"), "{err}");

    let args = [&["--region", "eu-west-2"], &plan[..]].concat();
    let (code, out, err) = run_cli(&stack, &[], &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("Pool of {source}")), "{out}");
}

#[tokio::test]
async fn a_profile_gives_the_credentials_and_the_region() {
    let source = unique("orders");
    source_in("eu-west-3", &source).await;
    let stack = unique("acm");
    let dir = std::env::temp_dir().join(unique("acm-profile"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(&config, "[profile acm-test]\nregion = eu-west-3\n").unwrap();
    let keys = "[acm-test]\naws_access_key_id = test\naws_secret_access_key = test\n";
    std::fs::write(&credentials, keys).unwrap();
    let files = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ];
    // No credentials or region but the profile's.
    let unset = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    let plan = ["plan", "--source", &source];

    let args = [&["--profile", "acm-test"], &plan[..]].concat();
    let (code, out, err) = run_cli_without(&stack, &unset, &files, &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("Pool of {source}")), "{out}");

    // --region outranks the profile's region.
    let args = [
        &["--profile", "acm-test", "--region", "us-east-1"],
        &plan[..],
    ]
    .concat();
    let (code, _, err) = run_cli_without(&stack, &unset, &files, &args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no cluster"), "{err}");

    // Without the profile there are no credentials at all: nothing is found.
    let (code, out, _) = run_cli_without(&stack, &unset, &files, &plan);
    assert_ne!(code, 0, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}
