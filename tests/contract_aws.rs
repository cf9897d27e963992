//! The contracts of the ports over Secrets Manager, KMS, SSM and CloudFormation: the same cases
//! run against the SDK adapter on moto and against the fake the flow tests use, so that no fake
//! is kinder than AWS. What moto does differently from AWS is left out, each time with the
//! reason (shared/brief/moto.md).

mod support;

use async_trait::async_trait;
use aurora_clone_manager::adapters::{
    kms::SdkKeys, secrets::SdkSecrets, ssm::SsmParameters, stacks::SdkStacks,
};
use aurora_clone_manager::domain::tags::{FOR_SECRET, MANAGED_BY};
use aurora_clone_manager::domain::Tags;
use aurora_clone_manager::error::AwsError;
use aurora_clone_manager::fakes::{FakeKeys, FakeParameters, FakeSecrets, FakeStacks};
use aurora_clone_manager::password::{key_policy, secret_policy};
use aurora_clone_manager::ports::*;
use aws_sdk_ssm::types::ParameterType;
use support::moto::{sdk_config, unique};
use support::values::tags;

/// The error's code and whether it is worth trying again.
fn code(e: &AwsError) -> (&str, bool) {
    (e.code.as_str(), e.retryable)
}

// --- Secrets -----------------------------------------------------------------------------------

async fn secrets_contract(secrets: &dyn Secrets) {
    let name = unique("/acm-contract/s-");
    assert_eq!(secrets.read(&name).await.unwrap(), None, "none: None");
    assert_eq!(secrets.tags(&name).await.unwrap(), None);
    let made = created_secret(secrets, &name).await;
    secrets
        .retag(&made.arn, &tags(&[("cost", "x")]), &["team".into()])
        .await
        .unwrap();
    assert_eq!(
        secrets.tags(&name).await.unwrap(),
        Some(tags(&[("cost", "x")]))
    );
    readers_and_missing(secrets, &made).await;
    deleted_secret(secrets, &made).await;
}

/// Created once (the name taken says `Exists`, the value kept); read by name and by ARN.
async fn created_secret(secrets: &dyn Secrets, name: &str) -> SecretRef {
    let team = tags(&[("team", "qa")]);
    let Created::New(made) = secrets.create(name, "pw-1", None, &team).await.unwrap() else {
        panic!("created anew")
    };
    assert_eq!(made.name, name);
    let again = secrets.create(name, "pw-2", None, &Tags::new()).await;
    assert_eq!(again.unwrap(), Created::Exists, "the name is taken");
    for id in [name, made.arn.as_str()] {
        let read = secrets.read(id).await.unwrap().expect("found");
        assert_eq!(read.secret, made, "{id}");
        assert_eq!((read.value.as_deref(), &read.tags), (Some("pw-1"), &team));
    }
    made
}

/// Readers set and removed; a secret that does not exist cannot be tagged or given readers.
async fn readers_and_missing(secrets: &dyn Secrets, made: &SecretRef) {
    let readers = ["arn:aws:iam::123456789012:role/developers".to_string()];
    let policy = secret_policy(&readers, None).to_string();
    secrets.set_readers(&made.arn, Some(&policy)).await.unwrap();
    secrets.set_readers(&made.arn, None).await.unwrap();
    let missing = unique("/acm-contract/missing-");
    let refused = [
        secrets.retag(&missing, &tags(&[("a", "1")]), &[]).await,
        secrets.set_readers(&missing, None).await,
    ];
    for e in refused.map(Result::unwrap_err) {
        assert_eq!(code(&e), ("ResourceNotFoundException", false), "{e:?}");
    }
}

/// Deleted (again, and gone, are fine): its tags still read, its value no more. Not asserted:
/// creating a secret under the deleted one's name (AWS: InvalidRequestException; moto:
/// ResourceExistsException, moto.md item 9).
async fn deleted_secret(secrets: &dyn Secrets, made: &SecretRef) {
    secrets.delete(&made.arn).await.unwrap();
    secrets.delete(&made.arn).await.unwrap();
    secrets
        .delete(&unique("/acm-contract/missing-"))
        .await
        .unwrap();
    let kept = secrets.tags(&made.name).await.unwrap();
    assert_eq!(
        kept,
        Some(tags(&[("cost", "x")])),
        "scheduled, still tagged"
    );
    let e = secrets.read(&made.name).await.unwrap_err();
    assert_eq!(code(&e), ("InvalidRequestException", false), "{e:?}");
}

#[tokio::test]
async fn secrets_manager_keeps_the_secrets_contract() {
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config());
    secrets_contract(&SdkSecrets::new(client)).await;
}

#[tokio::test]
async fn the_fake_secrets_keep_the_same_contract() {
    secrets_contract(&FakeSecrets::default()).await;
}

// --- Keys --------------------------------------------------------------------------------------

fn a_key_policy() -> String {
    let role = "arn:aws:iam::123456789012:role/acm";
    key_policy("123456789012", &[], "us-east-1", Some(role)).to_string()
}

/// A key made with tags, found by them, retagged, given a policy, retired (twice is fine).
async fn keys_contract(keys: &dyn Keys) {
    let token = unique("/acm-contract/for-");
    let made = tags(&[(MANAGED_BY, "acm"), (FOR_SECRET, &token)]);
    let id = keys
        .create("contract", &a_key_policy(), &made)
        .await
        .unwrap();
    assert_eq!(keys.tags(&id).await.unwrap(), Some(made));
    let found = keys.find_tagged(FOR_SECRET, &token).await.unwrap();
    assert_eq!(found, std::slice::from_ref(&id), "found by its tag");
    let nothing = keys.find_tagged(FOR_SECRET, &unique("/none-")).await;
    assert!(nothing.unwrap().is_empty());
    let team = tags(&[("team", "qa")]);
    keys.retag(&id, &team, &[FOR_SECRET.into()]).await.unwrap();
    let retagged = tags(&[(MANAGED_BY, "acm"), ("team", "qa")]);
    assert_eq!(keys.tags(&id).await.unwrap(), Some(retagged.clone()));
    keys.set_policy(&id, &a_key_policy()).await.unwrap();
    keys.retire(&id).await.unwrap();
    keys.retire(&id).await.unwrap();
    let pending = keys.tags(&id).await.unwrap();
    assert_eq!(pending, Some(retagged), "pending deletion, still tagged");
    unknown_key(keys).await;
}

/// A key that does not exist: no tags, retired already; its policy and tags cannot be set.
/// (A key pending deletion refuses them too on AWS, KMSInvalidStateException; moto allows
/// both, so that is not asserted.)
async fn unknown_key(keys: &dyn Keys) {
    let unknown = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(keys.tags(unknown).await.unwrap(), None);
    keys.retire(unknown).await.unwrap();
    let refused = [
        keys.set_policy(unknown, &a_key_policy()).await,
        keys.retag(unknown, &tags(&[("a", "1")]), &[]).await,
    ];
    for e in refused.map(Result::unwrap_err) {
        assert_eq!(code(&e), ("NotFoundException", false), "{e:?}");
    }
}

#[tokio::test]
async fn kms_keeps_the_keys_contract() {
    keys_contract(&SdkKeys::new(aws_sdk_kms::Client::new(&sdk_config()))).await;
}

#[tokio::test]
async fn the_fake_keys_keep_the_same_contract() {
    keys_contract(&FakeKeys::default()).await;
}

// --- Parameters --------------------------------------------------------------------------------

const CONFIG: &str = r#"{"clusters":[]}"#;

/// `plain` holds CONFIG as a String, `secure` "s3cr3t" as a SecureString.
async fn parameters_contract(parameters: &dyn Parameters, plain: &str, secure: &str) {
    assert_eq!(
        parameters.get(plain).await.unwrap().as_deref(),
        Some(CONFIG)
    );
    let decrypted = parameters.get(secure).await.unwrap();
    assert_eq!(decrypted.as_deref(), Some("s3cr3t"), "decrypted");
    let none = parameters.get(&unique("/acm-contract/none-")).await;
    assert_eq!(none.unwrap(), None, "none: None");
}

#[tokio::test]
async fn ssm_keeps_the_parameters_contract() {
    let ssm = aws_sdk_ssm::Client::new(&sdk_config());
    let (plain, secure) = (unique("/acm-contract/p-"), unique("/acm-contract/s-"));
    for (name, value, kind) in [
        (&plain, CONFIG, ParameterType::String),
        (&secure, "s3cr3t", ParameterType::SecureString),
    ] {
        let put = ssm.put_parameter().name(name).value(value).r#type(kind);
        put.send().await.expect("a parameter");
    }
    parameters_contract(&SsmParameters::new(ssm), &plain, &secure).await;
}

#[tokio::test]
async fn the_fake_parameters_keep_the_same_contract() {
    let fake = FakeParameters::default();
    fake.set("/plain", CONFIG);
    fake.set("/secure", "s3cr3t");
    parameters_contract(&fake, "/plain", "/secure").await;
}

// --- Stacks ------------------------------------------------------------------------------------

/// Where the stacks a contract asks about are made and deleted.
#[async_trait]
trait StackHost: Sync {
    /// A stack holding one SNS topic under `logical_id`; its id.
    async fn make(&self, logical_id: &str) -> String;
    async fn delete(&self, stack_id: &str);
}

struct Moto(aws_sdk_cloudformation::Client);

impl Moto {
    fn new() -> Moto {
        Moto(aws_sdk_cloudformation::Client::new(&sdk_config()))
    }
}

#[async_trait]
impl StackHost for Moto {
    async fn make(&self, logical_id: &str) -> String {
        let template =
            format!(r#"{{"Resources": {{"{logical_id}": {{"Type": "AWS::SNS::Topic"}}}}}}"#);
        let create = self.0.create_stack().stack_name(unique("app"));
        let made = create.template_body(template).send().await.expect("stack");
        made.stack_id().unwrap().to_string()
    }

    async fn delete(&self, stack_id: &str) {
        let delete = self.0.delete_stack().stack_name(stack_id);
        delete.send().await.expect("delete");
    }
}

#[async_trait]
impl StackHost for FakeStacks {
    async fn make(&self, logical_id: &str) -> String {
        let stack_id = format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/1",
            unique("app")
        );
        let topic = StackResource::Found {
            resource_type: "AWS::SNS::Topic".into(),
            status: "CREATE_COMPLETE".into(),
            physical_id: Some("arn:aws:sns:us-east-1:123456789012:app-topic".into()),
        };
        self.set(&stack_id, logical_id, topic);
        self.set_stack_status(&stack_id, "CREATE_COMPLETE");
        stack_id
    }

    async fn delete(&self, stack_id: &str) {
        self.remove_stack(stack_id);
    }
}

/// CloudFormation's view of a resource: found, a missing logical id, a stack that does not
/// exist.
async fn what_stacks_hold(stacks: &dyn Stacks, host: &dyn StackHost) {
    let stack_id = host.make("Topic").await;
    let StackResource::Found {
        resource_type,
        status,
        physical_id,
    } = stacks.resource(&stack_id, "Topic").await.unwrap()
    else {
        panic!("found")
    };
    assert_eq!(resource_type, "AWS::SNS::Topic");
    assert!(status.as_str().starts_with("CREATE_"), "{status}");
    assert!(physical_id.is_some());
    assert_eq!(
        stacks.resource(&stack_id, "Nothing").await.unwrap(),
        StackResource::Missing
    );
    let gone = "arn:aws:cloudformation:us-east-1:123456789012:stack/gone/1";
    let missing = stacks.resource(gone, "Topic").await.unwrap();
    assert_eq!(missing, StackResource::Missing);
}

/// DescribeStacks as the Delete check reads it: a stack's own status, a deleted stack's (by its
/// ARN) `DELETE_COMPLETE` or nothing, and nothing for a name that never was.
async fn what_stacks_say_of_themselves(stacks: &dyn Stacks, host: &dyn StackHost) {
    let stack_id = host.make("Topic").await;
    let status = stacks.stack_status(&stack_id).await.unwrap();
    assert!(
        status
            .as_ref()
            .is_some_and(|s| s.as_str().starts_with("CREATE_")),
        "{status:?}"
    );
    let never = stacks.stack_status("never-was-a-stack").await;
    assert_eq!(never.unwrap(), None);
    host.delete(&stack_id).await;
    let gone = stacks.stack_status(&stack_id).await.unwrap();
    assert!(
        gone.is_none()
            || gone
                .as_ref()
                .is_some_and(|s| s.as_str().starts_with("DELETE_")),
        "{gone:?}"
    );
}

#[tokio::test]
async fn stacks_say_what_they_hold() {
    let host = Moto::new();
    what_stacks_hold(&SdkStacks::new(host.0.clone()), &host).await;
}

#[tokio::test]
async fn the_fake_stacks_say_what_they_hold() {
    let fake = FakeStacks::default();
    what_stacks_hold(&fake, &fake).await;
}

#[tokio::test]
async fn stacks_say_their_status() {
    let host = Moto::new();
    what_stacks_say_of_themselves(&SdkStacks::new(host.0.clone()), &host).await;
}

#[tokio::test]
async fn the_fake_stacks_say_their_status() {
    let fake = FakeStacks::default();
    what_stacks_say_of_themselves(&fake, &fake).await;
}

/// Fake only: a stack this role may not read is an error, never `Missing` (moto enforces no
/// IAM, so the adapter's mapping of AccessDenied cannot be shown there).
#[tokio::test]
async fn the_fake_stacks_refuse_what_may_not_be_read() {
    let fake = FakeStacks::default();
    let stack_id = fake.make("Topic").await;
    fake.deny(&stack_id);
    let e = fake.resource(&stack_id, "Topic").await.unwrap_err();
    assert_eq!(code(&e), ("AccessDenied", false));
    assert!(fake.stack_status(&stack_id).await.is_err());
}

/// The sweep's question against moto: once the clone's stack is deleted, what CloudFormation
/// says of the resource (by stack ARN) reads as an orphan; while the stack holds another
/// resource under that logical id, so does that.
#[tokio::test]
async fn a_deleted_stack_makes_its_clones_orphans() {
    use aurora_clone_manager::domain::Cluster;
    use aurora_clone_manager::planner::sweep::{standing, Standing};
    let host = Moto::new();
    let stack_id = host.make("Db").await;
    let stacks = SdkStacks::new(host.0.clone());
    let clone = Cluster::new("qa-clone", "available");
    let held = stacks.resource(&stack_id, "Db").await.unwrap();
    assert!(
        matches!(standing(&clone, &held), Standing::Orphan(_)),
        "the stack's Db is a topic, not this clone: {held:?}"
    );
    host.delete(&stack_id).await;
    let after = stacks.resource(&stack_id, "Db").await.unwrap();
    assert!(
        matches!(standing(&clone, &after), Standing::Orphan(_)),
        "a deleted stack: {after:?}"
    );
}
