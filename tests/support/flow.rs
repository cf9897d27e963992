//! A Create → follow-ups → Delete flow through the real handler and adapters against moto.

use super::fault::Faults;
use super::http::Capture;
use super::moto::{realistic_source, sdk_config, state_table, unique};
use super::values::{cfn_request, APP_STACK};
use aurora_clone_manager::adapters::{self, http::HttpResponder, Clients};
use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::clock::Clock;
use aurora_clone_manager::config::Settings;
use aurora_clone_manager::lambda::{self, App};
use aurora_clone_manager::service::{Flows, Invocation};
use aws_config::SdkConfig;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:acm";

pub struct Flow {
    pub app: App,
    pub stack: String,
    pub events: aws_sdk_eventbridge::Client,
    pub rds: aws_sdk_rds::Client,
    pub base_url: String,
    pub capture: Capture,
    pub source: String,
    /// The SDK configuration of the function's clients (with the fault layer, if any).
    pub conf: SdkConfig,
    pub settings: Settings,
    /// Seconds the function's clock runs ahead of the system's.
    pub shift: Arc<AtomicI64>,
}

impl Flow {
    pub async fn new() -> Flow {
        Flow::with_settings(&[]).await
    }

    /// A flow whose manager has these settings besides its own STACK_NAME.
    pub async fn with_settings(extra: &[(&str, &str)]) -> Flow {
        Flow::build(extra, sdk_config()).await
    }

    /// A flow whose function reaches AWS through `faults`, retrying as it does in Lambda.
    pub async fn with_faults(extra: &[(&str, &str)], faults: &Faults) -> Flow {
        Flow::build(extra, faults.lambda_config()).await
    }

    async fn build(extra: &[(&str, &str)], fn_conf: SdkConfig) -> Flow {
        let conf = sdk_config();
        let stack = unique("acm");
        let mut vars: std::collections::HashMap<String, String> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.insert("STACK_NAME".to_string(), stack.clone());
        vars.insert(
            "ALLOWED_RESPONSE_HOSTS".to_string(),
            "127.0.0.1".to_string(),
        );
        // moto's PutEvents fails on a bus where any rule targets a Lambda (the follow-up rule
        // does, on the default bus): lifecycle events go to a bus of their own.
        if !vars.contains_key("EVENT_BUS_NAME") {
            let bus = unique("events");
            aws_sdk_eventbridge::Client::new(&conf)
                .create_event_bus()
                .name(&bus)
                .send()
                .await
                .expect("bus");
            vars.insert("EVENT_BUS_NAME".to_string(), bus);
        }
        vars.insert("STATE_TABLE".to_string(), state_table(&conf).await);
        let settings = Settings::from_map(&vars).unwrap();
        let shift = Arc::new(AtomicI64::new(0));
        let app = Flow::app(&settings, &fn_conf, &shift);
        let (base_url, capture) = super::http::start().await;
        let source = unique("orders");
        realistic_source(&conf, &source).await;
        Flow {
            app,
            conf: fn_conf,
            settings,
            shift,
            stack,
            events: aws_sdk_eventbridge::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
            base_url,
            capture,
            source,
        }
    }

    /// The function as a fresh process would run it: new clients, nothing in memory.
    fn app(settings: &Settings, conf: &SdkConfig, shift: &Arc<AtomicI64>) -> App {
        let responder = Arc::new(
            HttpResponder::with_retries(3, Duration::from_millis(20))
                .with_attempt_timeout(Duration::from_secs(2)),
        );
        let ports = adapters::sdk_ports(settings, &Clients::new(conf), responder.clone());
        let flows = Flows::new(settings.clone(), ports, Clock::Shifted(shift.clone()));
        App {
            answering: None,
            response_hosts: settings.guard.allowed_response_hosts.clone(),
            region: None,
            stack_name: settings.stack_name.clone(),
            flows: Ok(flows),
            responder,
            calls: None,
        }
    }

    /// A killed process is gone; the next invocation starts a fresh one, `secs` later on the
    /// function's clock (so that leases the dead one held have expired).
    pub fn restart(&mut self, secs: i64) {
        self.shift.fetch_add(secs, Ordering::SeqCst);
        self.app = Flow::app(&self.settings, &self.conf, &self.shift);
    }

    pub fn request(&self, kind: &str, props: Value) -> CfnRequest {
        let id = unique("req-");
        let url = format!("{}/{id}?X-Amz-Signature=s3cr3t", self.base_url);
        cfn_request(kind, APP_STACK, &id, &url, props)
    }

    pub async fn invoke(&self, event: Value) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        let inv = Invocation::new(Some(FUNCTION.into()), None);
        match lambda::handle(&self.app, event, inv, deadline).await {
            Ok(v) => v,
            Err(e) => json!({"redeliver": e.to_string()}),
        }
    }

    /// Plays the scheduler: while the follow-up rule is enabled, invoke its target's input.
    pub async fn run_follow_ups(&self, max: usize) {
        let rule = format!("{}-follow-up", self.stack);
        for _ in 0..max {
            let Ok(r) = self.events.describe_rule().name(&rule).send().await else {
                return;
            };
            if r.state().map(|s| s.as_str()) != Some("ENABLED") {
                return;
            }
            let targets = self
                .events
                .list_targets_by_rule()
                .rule(&rule)
                .send()
                .await
                .unwrap();
            let target = &targets.targets()[0];
            assert_eq!(target.arn(), FUNCTION);
            let out = self
                .invoke(serde_json::from_str(target.input().unwrap()).unwrap())
                .await;
            eprintln!("follow-up: {out}");
        }
        panic!("follow-ups still enabled after {max} runs");
    }

    pub fn answers_for(&self, r: &CfnRequest) -> Vec<Value> {
        self.capture
            .requests()
            .into_iter()
            .filter(|c| c.head.contains(&r.request_id))
            .map(|c| c.json())
            .collect()
    }

    pub async fn create(&self, props: Value) -> (CfnRequest, Value) {
        let r = self.request("Create", props);
        self.invoke(serde_json::to_value(&r).unwrap()).await;
        self.run_follow_ups(10).await;
        let answers = self.answers_for(&r);
        assert_eq!(answers.len(), 1, "{answers:?}");
        (r, answers[0].clone())
    }

    pub async fn cluster_ids(&self) -> Vec<String> {
        let out = self.rds.describe_db_clusters().send().await.unwrap();
        out.db_clusters()
            .iter()
            .filter_map(|c| c.db_cluster_identifier().map(str::to_string))
            .collect()
    }
}
