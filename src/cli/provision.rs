//! `provision` and `delete` from the terminal, through the same service as the Lambda: the
//! request is recorded in the stack's state table and served in process (no ResponseURL, no
//! follow-up rule), under the same placement lease as the Lambda's; `--wait` serves it again
//! until it is answered.

use super::{json, Command, Outcome, FAILED, REFUSED, USAGE};
use crate::adapters::memory::MemoryResponder;
use crate::cfn::{CfnRequest, RequestType};
use crate::domain::Role;
use crate::service::{Flows, Invocation, Progress, Tracker};
use serde_json::{json, Value};
use std::time::Duration;

/// How often `--wait` looks again.
const POLL: Duration = Duration::from_secs(15);

fn request(props: Value) -> CfnRequest {
    let id = format!(
        "cli-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    CfnRequest {
        request_type: RequestType::Create,
        response_url: String::new(),
        stack_id: format!("cli:{user}"),
        request_id: id,
        resource_type: "Custom::AuroraClone".into(),
        logical_resource_id: "cli".into(),
        physical_resource_id: None,
        resource_properties: props,
        old_resource_properties: None,
    }
}

pub async fn provision(
    m: &Flows,
    answers: &MemoryResponder,
    volumes: &dyn crate::ports::VolumeSizes,
    command: &Command,
    as_json: bool,
) -> Outcome {
    let Command::Provision {
        source,
        copy_ok,
        set_password,
        dry_run,
        wait,
        ..
    } = command
    else {
        return Err((USAGE, "not provision".into()));
    };
    if *set_password && !*wait {
        return Err((
            USAGE,
            "--set-password needs --wait: the password is set once the clone is up".into(),
        ));
    }
    if *dry_run {
        return super::view::plan(m, volumes, source, *copy_ok, None, as_json).await;
    }
    let props = properties(command)?;
    let req = request(props);
    let tracker = Tracker::default();
    let inv = Invocation::default();
    let mut progress = m
        .receive
        .serve(req.clone(), &inv, &tracker)
        .await
        .map_err(|e| (FAILED, format!("could not record the request: {}", e.0)))?;
    let bar = (*wait && !as_json).then(super::term::Spinner::new);
    while *wait && matches!(progress, Progress::Pending(_)) {
        if let (Some(b), Progress::Pending(what)) = (&bar, &progress) {
            b.set_message(what.clone());
        }
        tokio::time::sleep(POLL).await;
        // Served again, as a redelivery is: it continues this request's record in the state
        // table, and leaves every other item of the table to the Lambda.
        progress = m
            .receive
            .serve(req.clone(), &inv, &tracker)
            .await
            .map_err(|e| (FAILED, format!("could not read the request: {}", e.0)))?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match (answers.sent().pop(), progress) {
        (None, Progress::Ignored(_)) => finished_elsewhere(m, &req, as_json).await,
        (answer, progress) => report(answer, progress, as_json),
    }
}

/// The resource properties `provision`'s options ask for, checked as CloudFormation's would be
/// before anything is recorded.
fn properties(command: &Command) -> Result<Value, (u8, String)> {
    let Command::Provision {
        source,
        cluster_id,
        instance_class,
        copy_ok,
        set_password,
        expires_after,
        expires_at,
        expiry_action,
        tags,
        ..
    } = command
    else {
        return Err((USAGE, "not provision".into()));
    };
    let mut props = json!({"SourceClusterId": source, "CopyOk": copy_ok.to_string(), "SetPassword": set_password.to_string()});
    let optional = [
        ("ClusterId", cluster_id),
        ("InstanceClass", instance_class),
        ("ExpiresAfter", expires_after),
        ("ExpiresAt", expires_at),
        ("ExpiryAction", expiry_action),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            props[key] = json!(v);
        }
    }
    if !tags.is_empty() {
        props["Tags"] = tag_map(tags)?;
    }
    let parsed = crate::domain::properties::CloneProperties::parse(&props)
        .map_err(|e| (USAGE, format!("invalid option: {e}")))?;
    not_born_expired(&parsed)?;
    Ok(props)
}

/// A stack may keep an `ExpiresAt` that has passed (a rollback sends old properties again); a
/// clone made here now must not be born expired.
fn not_born_expired(props: &crate::domain::properties::CloneProperties) -> Outcome {
    match props.expiry.as_ref().map(|e| &e.when) {
        Some(crate::domain::expiry::ExpiresWhen::At(t))
            if *t <= time::OffsetDateTime::now_utc() =>
        {
            let when = crate::domain::tags::format_time(*t);
            Err((
                USAGE,
                format!("--expires-at {when}: ExpiresAt must be after now"),
            ))
        }
        _ => Ok(()),
    }
}

/// `--tag KEY=VALUE` options as the resource's `Tags` map.
fn tag_map(tags: &[String]) -> Result<Value, (u8, String)> {
    let mut map = serde_json::Map::new();
    for tag in tags {
        let Some((k, v)) = tag.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            return Err((USAGE, format!("--tag {tag:?}: expected KEY=VALUE")));
        };
        map.insert(k.trim().to_string(), json!(v));
    }
    Ok(Value::Object(map))
}

/// The Lambda's follow-ups took the request up and answered it (the answer of a request made
/// here goes to nobody): what became of it is the clone itself.
async fn finished_elsewhere(m: &Flows, req: &CfnRequest, as_json: bool) -> Outcome {
    let id = match m.answers.recorded(&req.request_id).await {
        Ok(Some(item)) => item.record.cluster_id,
        _ => String::new(),
    };
    let cluster = match id.is_empty() {
        true => None,
        false => m.deeds.observe_cluster(&id).await.ok().flatten(),
    };
    match cluster {
        Some(c) if as_json => {
            json::print(json!({"clusterId": c.id, "status": c.status.as_str()}));
            Ok(())
        }
        Some(c) => {
            println!("{}: {} (the stack's Lambda finished the request)", c.id, c.status);
            Ok(())
        }
        None => Err((
            FAILED,
            format!("the stack's Lambda answered the request and its clone {id:?} is not there: it failed; see the function's logs"),
        )),
    }
}

fn report(answer: Option<Value>, progress: Progress, as_json: bool) -> Outcome {
    match (progress, answer) {
        (_, Some(a)) if a["Status"] == "SUCCESS" => {
            if as_json {
                // The `Fn::GetAtt` names, lower-camel-cased: `ClusterId` is `clusterId`.
                json::print(a["Data"].clone());
            } else {
                println!("clone ready:");
                for (k, v) in a["Data"].as_object().into_iter().flatten() {
                    println!("  {k:18} {}", v.as_str().unwrap_or_default());
                }
            }
            Ok(())
        }
        (_, Some(a)) => Err((FAILED, a["Reason"].as_str().unwrap_or("failed").to_string())),
        (Progress::Pending(what), None) => {
            let text = format!(
                "started; not usable yet ({what}). `status` shows it; the clone finishes by itself."
            );
            print(as_json, json!({ "pending": what }), text);
            Ok(())
        }
        (other, None) => Err((FAILED, format!("{other:?}"))),
    }
}

pub async fn delete(m: &Flows, cluster_id: &str, options: Deleting, as_json: bool) -> Outcome {
    let failed = |e: crate::error::AwsError| (FAILED, e.to_string());
    let Some(cluster) = m.deeds.observe_cluster(cluster_id).await.map_err(failed)? else {
        let gone = json!({"clusterId": cluster_id, "deleted": false, "reason": "no such cluster"});
        print(as_json, gone, format!("{cluster_id}: already gone"));
        return Ok(());
    };
    deletable(m, &cluster, options.force)?;
    if options.dry_run {
        let plan = json!({"clusterId": cluster_id, "dryRun": true, "wouldDelete": true,
            "instances": cluster.members.iter().map(|i| &i.instance_id).collect::<Vec<_>>()});
        let text = format!("would delete {cluster_id} and its instances (no final snapshot)");
        print(as_json, plan, text);
        return Ok(());
    }
    let outcome = m
        .reaper
        .remove_cluster(&cluster, &Invocation::default())
        .await
        .map_err(failed)?;
    if options.wait {
        wait_until_gone(m, cluster_id, as_json).await?;
    }
    let outcome = match (options.wait, outcome) {
        (true, _) => "gone",
        (false, crate::ports::Deletion::NotYet) => "deferred",
        (false, _) => "started",
    };
    let done = json!({"clusterId": cluster_id, "deleted": true, "outcome": outcome});
    print(as_json, done, format!("{cluster_id}: deletion {outcome}"));
    Ok(())
}

/// `delete`'s options.
#[derive(Debug, Clone, Copy)]
pub struct Deleting {
    pub force: bool,
    pub dry_run: bool,
    pub wait: bool,
}

/// Refuses a cluster that is not a clone this stack made, or that a CloudFormation stack owns
/// (without `--force`).
fn deletable(m: &Flows, cluster: &crate::domain::Cluster, force: bool) -> Outcome {
    let stack = &m.core.settings.stack_name;
    let owner = cluster
        .ownership()
        .filter(|o| &o.managed_by == stack && o.role == Role::Clone);
    let Some(owner) = owner else {
        let why = format!(
            "{} is not a clone made by stack {stack}: not deleting it",
            cluster.id
        );
        return Err((REFUSED, why));
    };
    match owner.stack_id.as_deref().filter(|s| s.starts_with("arn:")) {
        Some(owning) if !force => Err((
            REFUSED,
            format!(
                "{} belongs to CloudFormation stack {owning}: delete it there, or pass --force",
                cluster.id
            ),
        )),
        _ => Ok(()),
    }
}

/// Looks again every `POLL` until the cluster is gone (the reap work in the state table goes on
/// if RDS refuses for now, with the Lambda's follow-ups).
async fn wait_until_gone(m: &Flows, cluster_id: &str, as_json: bool) -> Outcome {
    let bar = (!as_json).then(super::term::Spinner::new);
    loop {
        let found = m.deeds.observe_cluster(cluster_id).await;
        match found.map_err(|e| (FAILED, e.to_string()))? {
            None => break,
            Some(c) => {
                if let Some(b) = &bar {
                    b.set_message(format!("{cluster_id} is {}", c.status.as_str()));
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

/// One line: JSON for scripts, the sentence for people.
fn print(as_json: bool, doc: Value, text: String) {
    match as_json {
        true => json::print(doc),
        false => println!("{text}"),
    }
}
