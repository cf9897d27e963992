//! A world of in-memory fakes around the real handler, with paused tokio time.

use super::cloudformation::CloudFormation;
use super::values::cfn_request;
use aurora_clone_manager::cfn::CfnRequest;
use aurora_clone_manager::clock::Clock;
use aurora_clone_manager::config::Settings;
use aurora_clone_manager::domain::{Lineage, Ownership, Role, Tags};
use aurora_clone_manager::fakes::*;
use aurora_clone_manager::lambda::{self, App, Redeliver};
use aurora_clone_manager::ports::Ports;
use aurora_clone_manager::ports::Responder;
use aurora_clone_manager::service::{Flows, Invocation};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;

pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:acm";
pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111";

pub struct World {
    pub rds: Arc<FakeRds>,
    pub state: Arc<FakeState>,
    pub ledger: Arc<FakeLedger>,
    pub follow_ups: Arc<FakeFollowUps>,
    pub responder: Arc<FakeResponder>,
    pub secrets: Arc<FakeSecrets>,
    pub keys: Arc<FakeKeys>,
    pub events: Arc<FakeEvents>,
    pub parameters: Arc<FakeParameters>,
    pub stacks: Arc<FakeStacks>,
    pub schedules: Arc<FakeSchedules>,
    pub app: App,
    /// The ports the flows were wired with (to wire others around them).
    pub ports: Ports,
    /// CloudFormation's record of the stacks, as the function's answers and the tests move it.
    pub cloudformation: Arc<CloudFormation>,
    next_id: AtomicU32,
    kinds: Arc<Mutex<HashMap<String, String>>>,
}

/// A fake RDS that makes a cluster, and an instance, in a minute.
pub fn quick_rds() -> FakeRds {
    FakeRds::with_delays(Duration::from_secs(60), Duration::from_secs(60))
}

pub fn settings() -> Settings {
    settings_with(&[])
}

/// The test stack's settings with these variables besides `STACK_NAME=acm`.
pub fn settings_with(extra: &[(&str, &str)]) -> Settings {
    let vars: HashMap<String, String> = [
        ("STACK_NAME", "acm"),
        ("ALLOWED_RESPONSE_HOSTS", "cfn-responses.example"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Settings::from_map(&vars).expect("valid settings")
}

impl World {
    pub fn new() -> World {
        World::with_rds(FakeRds::default())
    }

    pub fn with_rds(rds: FakeRds) -> World {
        World::with(rds, settings())
    }

    pub fn with(rds: FakeRds, settings: Settings) -> World {
        let response_hosts = settings.guard.allowed_response_hosts.clone();
        let rds = Arc::new(rds);
        rds.add_source("orders", Default::default());
        let (state, follow_ups, responder) = (
            Arc::new(FakeState::default()),
            Arc::new(FakeFollowUps::default()),
            Arc::new(FakeResponder::default()),
        );
        let (secrets, keys, events) = (
            Arc::new(FakeSecrets::default()),
            Arc::new(FakeKeys::default()),
            Arc::new(FakeEvents::default()),
        );
        let parameters = Arc::new(FakeParameters::default());
        let stacks = Arc::new(FakeStacks::default());
        let kinds = Arc::default();
        // Answers reach CloudFormation, which updates what its stacks say of the resources.
        let stand_in = Arc::new(CloudFormation {
            answers: responder.clone(),
            stacks: stacks.clone(),
            kinds: Arc::clone(&kinds),
        });
        let cloudformation: Arc<dyn Responder> = stand_in.clone();
        let schedules = Arc::new(FakeSchedules::default());
        let ledger = Arc::new(FakeLedger::default());
        let ports = Ports {
            rds: rds.clone(),
            state: state.clone(),
            ledger: ledger.clone(),
            follow_ups: follow_ups.clone(),
            responder: cloudformation.clone(),
            secrets: secrets.clone(),
            keys: keys.clone(),
            events: events.clone(),
            parameters: parameters.clone(),
            stacks: stacks.clone(),
            schedules: schedules.clone(),
            refreshes: state.clone(),
        };
        let flows = Flows::new(
            settings,
            ports.clone(),
            Clock::following_tokio(datetime!(2026-11-22 12:00 UTC)),
        );
        let app = App {
            answering: None,
            response_hosts,
            region: None,
            stack_name: "acm".into(),
            flows: Ok(flows),
            responder: cloudformation,
            calls: None,
        };
        World {
            rds,
            state,
            ledger,
            follow_ups,
            responder,
            secrets,
            keys,
            events,
            parameters,
            stacks,
            schedules,
            app,
            ports,
            cloudformation: stand_in,
            next_id: AtomicU32::new(1),
            kinds,
        }
    }

    /// Puts a cluster this stack made before the test began: in RDS, and in the ledger with
    /// the deed its ownership tags describe (as `adopt` would record it).
    pub fn put_owned(&self, c: aurora_clone_manager::domain::Cluster) {
        let deed = aurora_clone_manager::domain::ledger::adopted(&c, 0).expect("ownership tags");
        self.ledger.insert(deed);
        self.rds.put(c);
    }

    pub fn flows(&self) -> &Flows {
        self.app.flows.as_ref().expect("flows")
    }

    /// Flows with the world's settings and clock over other ports.
    pub fn flows_with(&self, ports: Ports) -> Flows {
        let core = &self.flows().core;
        Flows::new((*core.settings).clone(), ports, core.clock.clone())
    }

    pub fn request(&self, kind: &str, props: Value) -> CfnRequest {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.kinds
            .lock()
            .unwrap()
            .insert(format!("req-{n}"), kind.to_string());
        let mut props = props;
        props["ServiceToken"] = json!(FUNCTION_ARN);
        let url = format!("https://cfn-responses.example/signed-{n}?X-Amz-Signature=abc");
        cfn_request(kind, STACK_ID, &format!("req-{n}"), &url, props)
    }

    /// An Update of the resource whose answer was `before` (same logical id and physical id),
    /// from `old` to `new`.
    pub fn update_of(&self, before: &Value, old: Value, new: Value) -> CfnRequest {
        let mut u = self.request("Update", new);
        if let Some(logical_id) = before["LogicalResourceId"].as_str() {
            u.logical_resource_id = logical_id.into();
        }
        u.physical_resource_id = before["PhysicalResourceId"].as_str().map(str::to_string);
        u.old_resource_properties = Some(old);
        u
    }

    /// Delivers `request` and follows up until one more answer is sent (`max_ticks` at most):
    /// the request's answer.
    pub async fn answered(&self, request: &CfnRequest, max_ticks: usize) -> Value {
        self.deliver(request).await;
        self.ticks_until_answers(self.answers().len() + 1, max_ticks)
            .await;
        self.answer_for(request).pop().expect("answered")
    }

    pub fn invocation() -> Invocation {
        Invocation::new(Some(FUNCTION_ARN.into()), None)
    }

    /// Delivers a request as Lambda would, with a 15-minute invocation deadline.
    pub async fn deliver(&self, request: &CfnRequest) -> Value {
        self.deliver_with_deadline(request, Duration::from_secs(900))
            .await
    }

    pub async fn deliver_with_deadline(&self, request: &CfnRequest, within: Duration) -> Value {
        let event = serde_json::to_value(request).expect("request JSON");
        match self.handle_within(event, within).await {
            Ok(v) => v,
            Err(e) => json!({"redeliver": e.to_string()}),
        }
    }

    /// Invokes the function with `event` as Lambda would, with a 15-minute deadline.
    pub async fn handle(&self, event: Value) -> Result<Value, Redeliver> {
        self.handle_within(event, Duration::from_secs(900)).await
    }

    async fn handle_within(&self, event: Value, within: Duration) -> Result<Value, Redeliver> {
        let deadline = tokio::time::Instant::now() + within;
        lambda::handle(&self.app, event, World::invocation(), deadline).await
    }

    /// One minute passes and the follow-up rule fires (if it is enabled).
    pub async fn tick(&self) {
        tokio::time::sleep(Duration::from_secs(60)).await;
        if self.follow_ups.enabled() {
            let event = json!({"source": "aurora-clone-manager", "action": "follow-up"});
            let _ = self.handle(event).await;
        }
    }

    /// Ticks until `n` responses have been sent or `max` ticks passed.
    pub async fn ticks_until_answers(&self, n: usize, max: usize) -> usize {
        for i in 0..max {
            if self.responder.sent().len() >= n {
                return i;
            }
            self.tick().await;
        }
        max
    }

    /// Plays EventBridge Scheduler: every expiry schedule due now fires (and is gone).
    pub async fn fire_schedules(&self) {
        let now = self.flows().core.clock.now();
        for input in self.schedules.fire_due(now) {
            let event: Value = serde_json::from_str(&input).expect("schedule input");
            let _ = self.handle(event).await;
        }
    }

    pub fn answers(&self) -> Vec<Value> {
        self.responder.sent()
    }

    pub fn answer_for(&self, request: &CfnRequest) -> Vec<Value> {
        self.answers()
            .into_iter()
            .filter(|a| a["RequestId"] == request.request_id.as_str())
            .collect()
    }
}

/// The tags of a pool copy of `root` made by the test stack, its data from `data`.
pub fn copy_tags(root: &str, data: OffsetDateTime) -> Tags {
    let mut t = Tags::new();
    let owner = Ownership {
        managed_by: "acm".into(),
        role: Role::Copy,
        stack_id: None,
        logical_id: None,
        request_id: None,
    };
    owner.write(&mut t);
    let lineage = Lineage {
        root: root.into(),
        source: root.into(),
        data_timestamp: data,
    };
    lineage.write(&mut t);
    t
}

/// An Update's answer: SUCCESS for the same clone (changed in place, not replaced).
pub fn assert_in_place(first: &Value, answer: &Value) {
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["PhysicalResourceId"], first["PhysicalResourceId"],
        "in place, not replaced: {answer}"
    );
}

/// The details of the lifecycle events of `detail_type` the function put, in order.
pub fn events(w: &World, detail_type: &str) -> Vec<Value> {
    w.events
        .sent()
        .into_iter()
        .filter(|(t, _)| t == detail_type)
        .map(|(_, d)| d)
        .collect()
}

/// The master password a secret of this tool holds (its JSON's `password`).
pub fn password_in(w: &World, secret_arn: &str) -> String {
    let secret = w
        .secrets
        .all()
        .into_values()
        .find(|s| s.arn == secret_arn)
        .expect("the secret");
    let v: Value = serde_json::from_str(&secret.value).expect("secret JSON");
    v["password"].as_str().expect("a password").to_string()
}
