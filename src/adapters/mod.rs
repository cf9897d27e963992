//! AWS adapters: the ports implemented over the AWS SDK. SDK types stop here; what leaves this
//! folder is domain values and `AwsError`s that keep the service's error code.

pub mod counting;
pub mod events;
pub mod http;
pub mod kms;
pub mod memory;
pub mod rds;
pub mod secrets;
pub mod ssm;

use crate::error::AwsError;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;

/// Converts any SDK error into an `AwsError`, keeping its code.
pub fn aws_error<E>(operation: &'static str, err: E) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or("Unknown").to_string();
    let message = match err.message() {
        Some(m) => m.to_string(),
        None => DisplayErrorContext(&err).to_string(),
    };
    AwsError::new(operation, code, message)
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
    /// Account and region, for the policies of keys this tool creates.
    pub region: String,
    /// AWS calls made through these clients.
    pub calls: counting::CallCounter,
}

impl Clients {
    pub fn new(conf: &aws_config::SdkConfig) -> Clients {
        let calls = counting::CallCounter::default();
        Clients {
            rds: aws_sdk_rds::Client::from_conf(
                aws_sdk_rds::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build(),
            ),
            events: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build(),
            ),
            secrets: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .build(),
            ),
            calls,
            region: conf
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into()),
        }
    }

    /// Loads the configuration from the environment, as the Lambda and the CLI run.
    pub async fn from_env() -> Clients {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Clients::new(&conf)
    }
}
