//! A moto server for this test binary: started on a free loopback port on first use, and
//! stopped when the test process exits (its stdin pipe closes, and its wrapper kills it).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::types::Tag;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

fn moto_server_path() -> String {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return p;
    }
    let local = format!("{}/.venv/bin/moto_server", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&local).exists() {
        return local;
    }
    panic!("moto_server not found: run `./build.sh test`, which installs moto into .venv, or set MOTO_SERVER");
}

/// The shared moto server, started on first call.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let log = format!("{}/moto-{port}.log", std::env::temp_dir().display());
        let script = format!(
            "{} -H 127.0.0.1 -p {port} >{log} 2>&1 & pid=$!; read _; kill $pid",
            moto_server_path()
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not start; see {log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: Mutex::new(child),
        }
    })
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Ok(mut c) = self._child.lock() {
            if let Some(stdin) = c.stdin.as_mut() {
                let _ = stdin.write_all(b"\n");
            }
        }
    }
}

/// SDK configuration pointing at moto: static credentials, one attempt per call (so that an
/// occasional moto 500 never repeats a side effect).
pub fn sdk_config() -> SdkConfig {
    let creds = aws_sdk_rds::config::Credentials::new("test", "test", None, None, "moto");
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&moto().endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_rds::config::SharedCredentialsProvider::new(creds))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

/// For a test's read-only checks: moto's threaded server now and then answers 500 while
/// another test writes (it deletes and re-inserts a cluster on ModifyDBCluster), and a read is
/// safe to repeat.
pub fn check_config() -> SdkConfig {
    sdk_config()
        .into_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .build()
}

/// True when the cluster carries the tag `key = value`.
pub fn has_tag(cluster: &aws_sdk_rds::types::DbCluster, key: &str, value: &str) -> bool {
    cluster
        .tag_list()
        .iter()
        .any(|t| t.key() == Some(key) && t.value() == Some(value))
}

/// A unique name for this test run, so that tests sharing the server never collide.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}{n}", std::process::id() % 10_000)
}

/// One EC2 query call (moto does not check signatures); returns the first `<tag>` value.
async fn ec2(params: &[(&str, &str)], tag: &str) -> String {
    let mut form = vec![("Version", "2016-11-15")];
    form.extend_from_slice(params);
    let body = reqwest::Client::new()
        .post(&moto().endpoint)
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x")
        .form(&form)
        .send()
        .await
        .expect("ec2 call")
        .text()
        .await
        .expect("ec2 body");
    let open = format!("<{tag}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no {tag} in {body}"))
        + open.len();
    body[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A realistic source: an aurora-postgresql cluster in its own VPC subnet group and security
/// group, with tags, a database and one writer instance.
pub async fn realistic_source(conf: &SdkConfig, id: &str) {
    let vpc = ec2(
        &[("Action", "CreateVpc"), ("CidrBlock", "10.1.0.0/16")],
        "vpcId",
    )
    .await;
    let a = ec2(
        &[
            ("Action", "CreateSubnet"),
            ("VpcId", &vpc),
            ("CidrBlock", "10.1.1.0/24"),
            ("AvailabilityZone", "us-east-1a"),
        ],
        "subnetId",
    )
    .await;
    let b = ec2(
        &[
            ("Action", "CreateSubnet"),
            ("VpcId", &vpc),
            ("CidrBlock", "10.1.2.0/24"),
            ("AvailabilityZone", "us-east-1b"),
        ],
        "subnetId",
    )
    .await;
    let sg_name = format!("{id}-db");
    let sg = ec2(
        &[
            ("Action", "CreateSecurityGroup"),
            ("GroupName", &sg_name),
            ("GroupDescription", "database"),
            ("VpcId", &vpc),
        ],
        "groupId",
    )
    .await;
    let rds = aws_sdk_rds::Client::new(conf);
    let subnets = format!("{id}-subnets");
    rds.create_db_subnet_group()
        .db_subnet_group_name(&subnets)
        .db_subnet_group_description("db")
        .subnet_ids(a)
        .subnet_ids(b)
        .send()
        .await
        .expect("subnet group");
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("app")
        .master_user_password("source-password-1")
        .database_name("orders")
        .db_subnet_group_name(&subnets)
        .vpc_security_group_ids(sg)
        .tags(Tag::builder().key("team").value("orders").build())
        .tags(Tag::builder().key("env").value("production").build())
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

/// One query-protocol call to moto for a service the tests use without an SDK crate (SQS);
/// returns the response body.
pub async fn query(service: &str, params: &[(&str, &str)]) -> String {
    reqwest::Client::new()
        .post(&moto().endpoint)
        .header("Authorization", format!("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"))
        .form(params)
        .send()
        .await
        .expect("query call")
        .text()
        .await
        .expect("query body")
}

/// The text of every `<tag>` element in `body`.
pub fn elements(body: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    body.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&format!("</{tag}>")).next())
        .map(|s| {
            s.replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect()
}

/// A custom event bus whose events reach a new SQS queue through a rule matching `source`;
/// returns the bus name and the queue URL.
pub async fn bus_to_queue(conf: &SdkConfig, source: &str) -> (String, String) {
    let bus = unique("bus");
    let events = aws_sdk_eventbridge::Client::new(conf);
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("bus");
    let queue = unique("q");
    let created = query(
        "sqs",
        &[
            ("Action", "CreateQueue"),
            ("QueueName", &queue),
            ("Version", "2012-11-05"),
        ],
    )
    .await;
    let url = elements(&created, "QueueUrl").pop().expect("queue url");
    let arn = format!("arn:aws:sqs:us-east-1:123456789012:{queue}");
    let rule = unique("to-queue");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(format!("{{\"source\":[\"{source}\"]}}"))
        .send()
        .await
        .expect("rule");
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("q")
        .arn(arn)
        .build()
        .expect("target");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(target)
        .send()
        .await
        .expect("targets");
    (bus, url)
}

/// Every message body waiting in the queue.
pub async fn receive_all(queue_url: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let body = query(
            "sqs",
            &[
                ("Action", "ReceiveMessage"),
                ("QueueUrl", queue_url),
                ("MaxNumberOfMessages", "10"),
                ("Version", "2012-11-05"),
            ],
        )
        .await;
        let got: Vec<serde_json::Value> = elements(&body, "Body")
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect();
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// Creates the state table as the stack does (partition key `pk`, String, on demand, TTL on
/// `ttl`); returns its name.
pub async fn state_table(conf: &SdkConfig) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    };
    let name = unique("state");
    let ddb = aws_sdk_dynamodb::Client::new(conf);
    ddb.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the state table");
    ddb.update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL");
    name
}

/// A stack as the clone manager's looks to the CLI: a `StateTable` whose name CloudFormation
/// chose (not `<stack>-state`, so a CLI that guesses the name finds nothing). Returns the
/// table's name.
pub async fn deployed_stack(conf: &SdkConfig, stack: &str) -> String {
    deployed_stack_with(conf, stack, serde_json::json!({})).await
}

/// A deployed clone manager stack with these parameters (`{"Name": {"Type": "String",
/// "Default": ...}}`): its state table, and the settings the CLI reads from it.
pub async fn deployed_stack_with(
    conf: &SdkConfig,
    stack: &str,
    parameters: serde_json::Value,
) -> String {
    let template = serde_json::json!({"Parameters": parameters,
        "Resources": {"StateTable": {"Type": "AWS::DynamoDB::Table",
        "Properties": {"BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}}});
    let cfn = aws_sdk_cloudformation::Client::new(conf);
    cfn.create_stack()
        .stack_name(stack)
        .template_body(template.to_string())
        .send()
        .await
        .expect("stack");
    let out = cfn
        .describe_stack_resource()
        .stack_name(stack)
        .logical_resource_id("StateTable")
        .send()
        .await
        .expect("the stack's table");
    let table = out
        .stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .expect("a physical id")
        .to_string();
    assert_ne!(table, format!("{stack}-state"));
    table
}

/// The binary; `ACM_BIN` names another build of it (a target directory shared between
/// worktrees holds whichever worktree built last).
fn binary() -> String {
    std::env::var("ACM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aurora-clone-manager").into())
}

/// The operator CLI as a user runs it against moto, with `env` besides the stack's name and
/// moto's endpoint: its exit code, stdout and stderr.
pub fn run_cli(stack: &str, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    run_cli_without(stack, &[], env, args)
}

/// `run_cli` with the variables in `unset` taken out of its environment (its static
/// credentials and region, to test where else they come from).
pub fn run_cli_without(
    stack: &str,
    unset: &[&str],
    env: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env("STACK_NAME", stack)
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("STATE_TABLE")
        .env_remove("ACM_STACK")
        .env_remove("AWS_PROFILE")
        .envs(env.iter().copied());
    for name in unset {
        command.env_remove(name);
    }
    let out = command.output().expect("run the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
