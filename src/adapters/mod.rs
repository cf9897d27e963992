//! AWS adapters: the ports implemented over the AWS SDK. SDK types stop here; what leaves this
//! folder is domain values and `AwsError`s that keep the service's error code and say whether
//! trying again can help. This is the only place that reads AWS error codes.

pub mod counting;
pub mod dynamo;
pub mod events;
pub mod http;
pub mod kms;
pub mod memory;
pub mod rds;
mod rename;
pub mod schedules;
pub mod secrets;
pub mod skew;
pub mod ssm;
pub mod stacks;
#[cfg(feature = "cli")]
pub mod volumes;
mod wire;

pub use wire::sdk_ports;

use crate::error::AwsError;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use std::time::Duration;

/// Error codes every AWS service uses for "slow down" or "try again".
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServiceError",
    "InternalServerErrorException",
    "InternalServiceErrorException",
    "DependencyTimeoutException",
    "TransactionConflictException",
];

/// Converts an SDK error into an `AwsError`, keeping its code and judging whether it is
/// transient: throttling, 5xx, timeouts and connection failures are; so are the codes in
/// `also_transient` (a service's own "not now" states).
pub fn sdk_error<E>(
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    also_transient: &[&str],
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, status) = match &err {
        SdkError::ServiceError(s) => (
            s.err().code().unwrap_or("Unknown").to_string(),
            s.raw().status().as_u16(),
        ),
        SdkError::TimeoutError(_) => ("Timeout".to_string(), 0),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), 0),
        SdkError::ResponseError(r) => ("ResponseError".to_string(), r.raw().status().as_u16()),
        _ => ("ConstructionFailure".to_string(), 0),
    };
    let message = match err.message() {
        Some(m) => m.to_string(),
        None => DisplayErrorContext(&err).to_string(),
    };
    let retryable = match &err {
        SdkError::ServiceError(_) => status >= 500 || is_transient(&code, also_transient),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    };
    AwsError {
        operation,
        code,
        message,
        retryable,
    }
}

/// True when `code` says "try again later": a throttle or service failure any service sends, or
/// one of the service's own `also_transient` codes.
pub fn is_transient(code: &str, also_transient: &[&str]) -> bool {
    TRANSIENT_CODES.contains(&code) || also_transient.contains(&code)
}

/// Shorthand for `sdk_error` with no service-specific transient codes.
pub fn aws_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sdk_error(operation, err, &[])
}

/// True when the code names a resource that does not exist.
pub fn is_not_found(e: &AwsError) -> bool {
    e.code.contains("NotFound")
}

/// Each attempt of a call, and each call with its retries, is bounded: an invocation can never
/// outlive its hand-off margin waiting on one call, and a lease holder never outlives its lease.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
pub use crate::ports::OPERATION_TIMEOUT;

/// Retries with the SDK's standard mode: exponential backoff with full jitter, and a client-side
/// retry budget so that a throttled account is not hammered.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The SDK clients, built from one shared configuration (so `AWS_ENDPOINT_URL` points them all
/// at a local emulator).
#[derive(Clone, Debug)]
pub struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub kms: aws_sdk_kms::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    /// Only the CLI's cost estimates use it.
    #[cfg(feature = "cli")]
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Account and region, for the policies of keys this tool creates.
    pub region: String,
    /// AWS calls made through these clients.
    pub calls: counting::CallCounter,
}

macro_rules! client {
    ($sdk:ident, $conf:expr, $calls:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($conf)
                .interceptor($calls.clone())
                .build(),
        )
    };
}

/// The HTTP client of every AWS call: hyper 1 with rustls on ring and the platform's root
/// certificates (the SDK's default brings aws-lc-rs: 247 KB more of the zip).
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls_provider())
        .build_https()
}

/// The same TLS setup for a bare connector (the response PUT).
pub fn https_connector() -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
    let connector = aws_smithy_http_client::Connector::builder()
        .tls_provider(tls_provider())
        .build();
    aws_smithy_runtime_api::client::http::SharedHttpConnector::new(connector)
}

fn tls_provider() -> aws_smithy_http_client::tls::Provider {
    aws_smithy_http_client::tls::Provider::Rustls(
        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
    )
}

impl Clients {
    /// Clients over `conf` as given (tests set their own retry and timeout settings).
    pub fn new(conf: &aws_config::SdkConfig) -> Clients {
        let calls = counting::CallCounter::default();
        Clients {
            rds: client!(aws_sdk_rds, conf, calls),
            ssm: client!(aws_sdk_ssm, conf, calls),
            events: client!(aws_sdk_eventbridge, conf, calls),
            secrets: client!(aws_sdk_secretsmanager, conf, calls),
            kms: client!(aws_sdk_kms, conf, calls),
            dynamodb: client!(aws_sdk_dynamodb, conf, calls),
            cloudformation: client!(aws_sdk_cloudformation, conf, calls),
            scheduler: client!(aws_sdk_scheduler, conf, calls),
            #[cfg(feature = "cli")]
            cloudwatch: client!(aws_sdk_cloudwatch, conf, calls),
            calls,
            region: conf
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into()),
        }
    }

    /// The Lambda's clients, from what Lambda puts in the environment: the role's credentials
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), `AWS_REGION`, and
    /// `AWS_ENDPOINT_URL` for a local AWS; bounded timeouts and jittered retries. Not the SDK's
    /// whole default chain (profiles, SSO, instance metadata, role assumption): a function never
    /// needs it, and without it that chain and the STS client it carries stay out of the zip.
    pub fn from_env() -> Clients {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
        let mut conf = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .credentials_provider(aws_sdk_rds::config::SharedCredentialsProvider::new(
                credentials,
            ));
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        conf.set_region(region.map(aws_config::Region::new));
        conf.set_endpoint_url(var("AWS_ENDPOINT_URL"));
        Clients::new(&conf.build())
    }

    /// The operator's clients: a profile and region where given (the CLI's `--profile`,
    /// `--region`), otherwise the environment's, as the SDK's default chain finds them.
    #[cfg(feature = "cli")]
    pub async fn from_env_with(profile: Option<&str>, region: Option<&str>) -> Clients {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        Clients::new(&loader.load().await)
    }
}
