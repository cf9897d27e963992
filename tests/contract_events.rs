//! The contracts of the ports through which the function is called back and tells others:
//! lifecycle events and the follow-up rule (EventBridge), one-time expiry schedules and
//! recurring refresh schedules (EventBridge Scheduler), the response PUT. The same cases run against the adapter (on moto; the PUT
//! against a loopback server) and against the fake the flow tests use; each side is observed
//! its own way (an SQS queue behind the bus, the rule as described, the schedule as stored,
//! what the server received). Then what only the adapters do, on the wire.

mod support;

use async_trait::async_trait;
use aurora_clone_manager::adapters::events::{BusEvents, RuleFollowUps};
use aurora_clone_manager::adapters::{http::HttpResponder, rds::SdkRds, schedules::SdkSchedules};
use aurora_clone_manager::cfn::{Outcome, ResponseBody};
use aurora_clone_manager::domain::events::{InstanceReady, LifecycleEvent};
use aurora_clone_manager::domain::refresh::refresh_input;
use aurora_clone_manager::domain::Cluster;
use aurora_clone_manager::error::AwsError;
use aurora_clone_manager::fakes::{FakeEvents, FakeFollowUps, FakeResponder, FakeSchedules};
use aurora_clone_manager::ports::*;
use serde_json::{json, Value};
use std::time::Duration;
use support::http::Capture;
use support::moto::{bus_to_queue, realistic_source, receive_all, sdk_config, unique};
use support::values::cfn_request;
use tokio::time::Instant;

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:acm";
const SOURCE: &str = "aurora-clone-manager";

// --- Events ------------------------------------------------------------------------------------

/// What reached the users' automation: (detail-type, detail) of every event so far.
#[async_trait]
trait Seen: Sync {
    async fn events(&self) -> Vec<(String, Value)>;
}

/// An SQS queue behind a rule on the bus, matching this tool's source.
struct Queue(String);

#[async_trait]
impl Seen for Queue {
    async fn events(&self) -> Vec<(String, Value)> {
        let all = receive_all(&self.0).await.into_iter();
        let ours = all.filter(|e| e["source"] == SOURCE);
        let pair = |e: Value| {
            (
                e["detail-type"].as_str().unwrap().to_string(),
                e["detail"].clone(),
            )
        };
        ours.map(pair).collect()
    }
}

#[async_trait]
impl Seen for FakeEvents {
    async fn events(&self) -> Vec<(String, Value)> {
        self.sent()
    }
}

/// Every event put arrives, its type and detail as given.
async fn events_contract(events: &dyn Events, seen: &dyn Seen) {
    let mut cluster = Cluster::new(&unique("clone-"), "available");
    cluster.endpoint = Some(format!("{}.example", cluster.id));
    let ready = LifecycleEvent::InstanceReady(Box::new(InstanceReady::of(&cluster)));
    let deleted = LifecycleEvent::deleted(&cluster);
    events.put(&ready).await.unwrap();
    events.put(&deleted).await.unwrap();
    let mut got = seen.events().await;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want = [
        (
            "lifecycle-event/clone-deleted".to_string(),
            deleted.detail(),
        ),
        ("lifecycle-event/instance-ready".to_string(), ready.detail()),
    ];
    assert_eq!(got, want);
}

#[tokio::test]
async fn eventbridge_keeps_the_events_contract() {
    let conf = sdk_config();
    let (bus, queue) = bus_to_queue(&conf, SOURCE).await;
    let events = BusEvents::new(aws_sdk_eventbridge::Client::new(&conf), bus, SOURCE);
    events_contract(&events, &Queue(queue)).await;
}

#[tokio::test]
async fn the_fake_events_keep_the_same_contract() {
    let fake = FakeEvents::default();
    events_contract(&fake, &fake).await;
}

// --- FollowUps ---------------------------------------------------------------------------------

/// The follow-up rule as EventBridge has it: enabled, and the function it targets.
#[async_trait]
trait RuleView: Sync {
    async fn armed(&self) -> (bool, Option<String>);
}

struct Rule {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

#[async_trait]
impl RuleView for Rule {
    async fn armed(&self) -> (bool, Option<String>) {
        let Ok(rule) = self.client.describe_rule().name(&self.name).send().await else {
            return (false, None);
        };
        let list = self.client.list_targets_by_rule().rule(&self.name);
        let targets = list.send().await.expect("the rule's targets");
        let target = targets.targets().first().map(|t| t.arn().to_string());
        (rule.state().map(|s| s.as_str()) == Some("ENABLED"), target)
    }
}

#[async_trait]
impl RuleView for FakeFollowUps {
    async fn armed(&self) -> (bool, Option<String>) {
        (self.enabled(), self.target())
    }
}

/// Stopping a rule never armed is fine; armed (twice is fine) it targets the function; stopped,
/// it is disabled and keeps its target; armed again.
async fn follow_ups_contract(follow_ups: &dyn FollowUps, rule: &dyn RuleView) {
    follow_ups
        .stop()
        .await
        .expect("stopping a missing rule is fine");
    assert_eq!(rule.armed().await, (false, None));
    follow_ups.ensure(FUNCTION).await.unwrap();
    follow_ups.ensure(FUNCTION).await.unwrap();
    assert_eq!(rule.armed().await, (true, Some(FUNCTION.to_string())));
    follow_ups.stop().await.unwrap();
    assert_eq!(rule.armed().await, (false, Some(FUNCTION.to_string())));
    follow_ups.ensure(FUNCTION).await.unwrap();
    assert!(rule.armed().await.0, "armed again");
}

/// The contract on moto, then what the adapter writes: a rule firing every minute whose one
/// target's input is the follow-up event.
#[tokio::test]
async fn follow_up_rule_is_armed_and_disarmed() {
    let events = aws_sdk_eventbridge::Client::new(&sdk_config());
    let rule = unique("acm-follow-up");
    let follow_ups = RuleFollowUps::new(events.clone(), &rule);
    let view = Rule {
        client: events.clone(),
        name: rule.clone(),
    };
    follow_ups_contract(&follow_ups, &view).await;
    let described = events.describe_rule().name(&rule).send().await.unwrap();
    assert_eq!(described.schedule_expression(), Some("rate(1 minute)"));
    let list = events.list_targets_by_rule().rule(&rule);
    let targets = list.send().await.unwrap();
    assert_eq!(targets.targets().len(), 1);
    let input: Value = serde_json::from_str(targets.targets()[0].input().unwrap()).unwrap();
    assert_eq!(input["action"], "follow-up");
}

#[tokio::test]
async fn the_fake_follow_ups_keep_the_same_contract() {
    let fake = FakeFollowUps::default();
    follow_ups_contract(&fake, &fake).await;
}

// --- Schedules ---------------------------------------------------------------------------------

/// A schedule as Scheduler stores it: when it fires (its expression, and its time zone, UTC
/// unless given), what it invokes, as which role, with what input.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    expression: String,
    timezone: String,
    target: ScheduleTarget,
    input: String,
}

/// The schedules of one group, as Scheduler keeps them.
#[async_trait]
trait ScheduleView: Sync {
    /// The schedule `name`; `None` when there is no such schedule.
    async fn stored(&self, name: &str) -> Option<Stored>;
    /// The names of every schedule in the group (one namespace, whatever their kind).
    async fn names(&self) -> Vec<String>;

    async fn input(&self, name: &str) -> Option<String> {
        self.stored(name).await.map(|s| s.input)
    }
}

struct Group {
    client: aws_sdk_scheduler::Client,
    name: String,
}

#[async_trait]
impl ScheduleView for Group {
    async fn stored(&self, name: &str) -> Option<Stored> {
        let get = self.client.get_schedule().name(name).group_name(&self.name);
        let stored = get.send().await.ok()?;
        let target = stored.target()?;
        Some(Stored {
            expression: stored.schedule_expression()?.to_string(),
            timezone: stored.schedule_expression_timezone()?.to_string(),
            target: ScheduleTarget {
                function_arn: target.arn().to_string(),
                role_arn: target.role_arn().to_string(),
            },
            input: target.input()?.to_string(),
        })
    }

    async fn names(&self) -> Vec<String> {
        let list = self.client.list_schedules().group_name(&self.name);
        let listed = list.send().await.expect("the group's schedules");
        let names = listed.schedules().iter().filter_map(|s| s.name());
        names.map(str::to_string).collect()
    }
}

/// `at(...)` as Scheduler stores a one-time schedule's time.
fn at_expression(at: time::OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    let (date, clock) = (t.date(), t.time());
    format!(
        "at({date}T{:02}:{:02}:{:02})",
        clock.hour(),
        clock.minute(),
        clock.second()
    )
}

#[async_trait]
impl ScheduleView for FakeSchedules {
    async fn stored(&self, name: &str) -> Option<Stored> {
        if let Some(r) = self.recurring().get(name) {
            return Some(Stored {
                expression: r.expression.clone(),
                timezone: r.timezone.clone().unwrap_or_else(|| "UTC".into()),
                target: r.target.clone(),
                input: r.input.clone(),
            });
        }
        self.all().get(name).map(|s| Stored {
            expression: at_expression(s.at),
            timezone: "UTC".into(),
            target: s.target.clone(),
            input: s.input.clone(),
        })
    }

    async fn names(&self) -> Vec<String> {
        let once = self.all().into_keys();
        once.chain(self.recurring().into_keys()).collect()
    }
}

fn expiry_target() -> ScheduleTarget {
    ScheduleTarget {
        function_arn: FUNCTION.into(),
        role_arn: "arn:aws:iam::123456789012:role/acm-expiry-us-east-1".into(),
    }
}

/// Made once (the name taken says `Exists` and keeps the first); removed (twice is fine), and
/// then the name is free again.
async fn schedules_contract(schedules: &dyn Schedules, view: &dyn ScheduleView) {
    let (name, target) = (unique("qa-"), expiry_target());
    let at = time::macros::datetime!(2030-01-02 03:04:05 UTC);
    let input = json!({"source": SOURCE, "action": "expire", "cluster": name}).to_string();
    let first = schedules.once(&name, at, &target, &input).await.unwrap();
    assert_eq!(first, Created::New(()));
    let again = schedules.once(&name, at, &target, "{}").await.unwrap();
    assert_eq!(again, Created::Exists);
    assert_eq!(
        view.input(&name).await,
        Some(input.clone()),
        "the first kept"
    );
    schedules.remove(&name).await.unwrap();
    schedules.remove(&name).await.unwrap();
    assert_eq!(view.input(&name).await, None);
    let anew = schedules.once(&name, at, &target, &input).await.unwrap();
    assert_eq!(anew, Created::New(()), "the name is free again");
    let stored = view.stored(&name).await.expect("stored");
    assert_eq!(stored.expression, "at(2030-01-02T03:04:05)");
    assert_eq!((stored.timezone.as_str(), stored.target), ("UTC", target));
}

/// How many schedules of the group bear `name`.
async fn bearing(view: &dyn ScheduleView, name: &str) -> usize {
    view.names().await.iter().filter(|n| *n == name).count()
}

/// A clone's refresh schedule: made with its expression, time zone, target and input; made
/// again with another expression and no zone, changed in place (one schedule of that name,
/// the new expression, UTC: UpdateSchedule replaces every setting); its name is taken for a
/// one-time schedule too (one namespace per group); removed (twice is fine). A recurring
/// schedule given a one-time schedule's name replaces it.
async fn recurring_contract(schedules: &dyn Schedules, view: &dyn ScheduleView) {
    let (name, target) = (unique("refresh-qa-"), expiry_target());
    let input = refresh_input(&name);
    let cron = "cron(0 5 ? * MON-FRI *)";
    let paris = Some("Europe/Paris");
    let made = schedules
        .recurring(&name, cron, paris, &target, &input)
        .await;
    made.unwrap();
    let want = Stored {
        expression: cron.into(),
        timezone: "Europe/Paris".into(),
        target: target.clone(),
        input: input.clone(),
    };
    assert_eq!(view.stored(&name).await, Some(want.clone()));
    let daily = "rate(1 day)";
    let changed = schedules.recurring(&name, daily, None, &target, "{}").await;
    changed.unwrap();
    let now = view.stored(&name).await.expect("still there");
    assert_eq!(
        (now.expression.as_str(), now.timezone.as_str()),
        (daily, "UTC")
    );
    assert_eq!(now.input, "{}");
    assert_eq!(bearing(view, &name).await, 1, "changed in place");
    let at = time::macros::datetime!(2030-01-02 03:04:05 UTC);
    let once = schedules.once(&name, at, &target, &input).await.unwrap();
    assert_eq!(once, Created::Exists, "one namespace");
    assert_eq!(
        view.stored(&name).await.map(|s| s.expression).as_deref(),
        Some(daily)
    );
    schedules.remove(&name).await.unwrap();
    assert_eq!(view.stored(&name).await, None);
    assert_eq!(bearing(view, &name).await, 0);
    schedules.remove(&name).await.unwrap();

    let expiry = unique("qa-");
    schedules.once(&expiry, at, &target, &input).await.unwrap();
    let hourly = "rate(2 hours)";
    let replaced = schedules
        .recurring(&expiry, hourly, paris, &target, &input)
        .await;
    replaced.unwrap();
    let now = view.stored(&expiry).await.map(|s| s.expression);
    assert_eq!(now.as_deref(), Some(hourly));
    assert_eq!(bearing(view, &expiry).await, 1);
    schedules.remove(&expiry).await.unwrap();
}

#[tokio::test]
async fn eventbridge_scheduler_keeps_the_schedules_contract() {
    let client = aws_sdk_scheduler::Client::new(&sdk_config());
    let name = unique("acm-expiry");
    let group = client.create_schedule_group().name(&name);
    group.send().await.expect("group");
    let schedules = SdkSchedules::new(client.clone(), &name);
    let group = Group { client, name };
    schedules_contract(&schedules, &group).await;
    recurring_contract(&schedules, &group).await;
}

#[tokio::test]
async fn the_fake_schedules_keep_the_same_contract() {
    let fake = FakeSchedules::default();
    schedules_contract(&fake, &fake).await;
    recurring_contract(&fake, &fake).await;
}

/// Expiry against moto: a one-time schedule in the stack's group (moto stores it; it never
/// fires it), removed twice; a clone stopped and started.
#[tokio::test]
async fn expiry_schedules_and_stopping() {
    let conf = sdk_config();
    let scheduler = aws_sdk_scheduler::Client::new(&conf);
    let group = unique("acm-expiry");
    scheduler
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .expect("group");
    let schedules = SdkSchedules::new(scheduler.clone(), &group);
    let target = expiry_target();
    let at = time::macros::datetime!(2030-01-02 03:04:05 UTC);
    let input = r#"{"source":"aurora-clone-manager","action":"expire","cluster":"qa"}"#;
    assert_eq!(
        schedules.once("qa-x", at, &target, input).await.unwrap(),
        Created::New(())
    );
    assert_eq!(
        schedules.once("qa-x", at, &target, input).await.unwrap(),
        Created::Exists
    );
    let stored = scheduler
        .get_schedule()
        .name("qa-x")
        .group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.schedule_expression(),
        Some("at(2030-01-02T03:04:05)")
    );
    assert_eq!(stored.target().map(|t| t.input()), Some(Some(input)));
    schedules.remove("qa-x").await.unwrap();
    schedules.remove("qa-x").await.unwrap();

    let rds = SdkRds::new(aws_sdk_rds::Client::new(&conf));
    let source = unique("src");
    realistic_source(&conf, &source).await;
    stop_retrying(&rds, &source).await;
    assert_eq!(
        rds.cluster(&source).await.unwrap().unwrap().status,
        "stopped"
    );
    stop_retrying(&rds, &source).await;
    let started = retrying("StartDBCluster", || rds.start_cluster(&source)).await;
    started.unwrap();
}

/// StopDBCluster, tried again on a retryable error (see `retrying`).
async fn stop_retrying(rds: &SdkRds, id: &str) {
    let stopped = retrying("StopDBCluster", || rds.stop_cluster(id)).await;
    stopped.unwrap_or_else(|e| panic!("StopDBCluster: {e}"));
}

/// A call tried again on a retryable error. moto deep-copies the cluster while other tests
/// write to the same server, and then answers 500 ("OrderedDict mutated during iteration"); a
/// 5xx from AWS is what the SDK's own retries (off in these tests) take care of.
async fn retrying<F, Fut>(operation: &str, call: F) -> Result<(), AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    for attempt in 1..=5 {
        match call().await {
            Err(e) if e.retryable && attempt < 5 => {
                eprintln!("{operation}: {e}; moto's own race, trying again");
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await
            }
            done => return done,
        }
    }
    unreachable!("the last attempt returns")
}

// --- Responder ---------------------------------------------------------------------------------

/// Attempts the HTTP responder makes in these tests.
const ATTEMPTS: u32 = 3;

/// The ResponseURL's side: refuses the next attempts, tells what was delivered.
trait Receiver: Sync {
    fn refuse_next(&self, attempts: u32);
    fn delivered(&self) -> Vec<Value>;
}

impl Receiver for Capture {
    fn refuse_next(&self, attempts: u32) {
        self.fail_next(&vec![500; attempts as usize]);
    }

    fn delivered(&self) -> Vec<Value> {
        Capture::delivered(self).iter().map(|c| c.json()).collect()
    }
}

impl Receiver for FakeResponder {
    fn refuse_next(&self, attempts: u32) {
        self.fail_next(attempts);
    }

    fn delivered(&self) -> Vec<Value> {
        self.sent()
    }
}

/// Delivered as the body's bytes say; no attempt when none fits before `until`; an error, and
/// nothing delivered, when every attempt is refused.
async fn responder_contract(responder: &dyn Responder, receiver: &dyn Receiver, url: &str) {
    let request = cfn_request("Create", "s", "r", url, json!({}));
    let body = ResponseBody::new(&request, Outcome::success("p", Default::default()));
    let sent: Value = serde_json::from_slice(&body.to_bytes()).unwrap();
    responder.send(url, &body, None).await.unwrap();
    assert_eq!(receiver.delivered(), std::slice::from_ref(&sent));
    let late = responder.send(url, &body, Some(Instant::now())).await;
    assert!(late.is_err(), "no time left: not sent");
    receiver.refuse_next(ATTEMPTS);
    let refused = responder.send(url, &body, None).await;
    assert!(refused.is_err(), "refused: not delivered");
    assert_eq!(receiver.delivered(), [sent], "once, the first time");
}

#[tokio::test]
async fn the_http_responder_keeps_the_responder_contract() {
    let (base, capture) = support::http::start().await;
    let responder = HttpResponder::with_retries(ATTEMPTS, Duration::from_millis(10));
    let url = format!("{base}/signed?X-Amz-Signature=abc");
    responder_contract(&responder, &capture, &url).await;
}

#[tokio::test]
async fn the_fake_responder_keeps_the_same_contract() {
    let fake = FakeResponder::default();
    responder_contract(&fake, &fake, "https://cfn-responses.example/r").await;
}

#[tokio::test]
async fn the_response_put_has_an_empty_content_type_and_a_byte_length() {
    let (base, capture) = support::http::start().await;
    let url = format!("{base}/signed?X-Amz-Signature=abc");
    let responder = HttpResponder::with_retries(4, Duration::from_millis(10));
    let reason = "雪".repeat(2000);
    let body = ResponseBody::new(
        &cfn_request("Create", "s", "r", &url, json!({})),
        Outcome::failed("p", reason),
    );
    responder.send(&url, &body, None).await.unwrap();
    let got = &capture.requests()[0];
    assert!(got.head.starts_with("PUT /signed?X-Amz-Signature=abc "));
    assert_eq!(got.header("content-type").as_deref(), Some(""));
    assert_eq!(
        got.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        got.body.len()
    );
    assert!(got.body.len() <= 4096);
    assert_eq!(got.json()["Status"], "FAILED");
}

#[tokio::test]
async fn the_response_put_retries_on_errors() {
    let (base, capture) = support::http::start().await;
    capture.fail_next(&[500, 403]);
    let url = format!("{base}/r");
    let responder = HttpResponder::with_retries(4, Duration::from_millis(10));
    let body = ResponseBody::new(
        &cfn_request("Create", "s", "r", &url, json!({})),
        Outcome::success("p", Default::default()),
    );
    responder.send(&url, &body, None).await.unwrap();
    assert_eq!(capture.requests().len(), 3);

    capture.fail_next(&[500, 500]);
    let responder = HttpResponder::with_retries(2, Duration::from_millis(10));
    let err = responder
        .send(&url, &body, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("127.0.0.1"),
        "errors never carry the URL: {err}"
    );
    let refused = HttpResponder::with_retries(2, Duration::from_millis(10));
    let err = refused
        .send("http://127.0.0.1:9/secret-path?sig=1", &body, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("secret-path") && !err.contains("sig=1"),
        "{err}"
    );
}
