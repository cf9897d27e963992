//! Errors that cross module boundaries. AWS errors keep the service's error code so that callers
//! can tell "already gone" from "try again" without string matching on messages.

use thiserror::Error;

/// An AWS call that failed, with the service's own error code when it sent one.
#[derive(Debug, Clone, Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The AWS error code, e.g. `DBClusterNotFoundFault`; `Unknown` when the service sent none.
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn new(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            operation,
            code: code.into(),
            message: message.into(),
        }
    }

    /// True when the code names a resource that does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code.contains("NotFound")
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code == code
    }
}

/// What can go wrong while serving a request or a follow-up.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("invalid property: {0}")]
    Property(#[from] crate::properties::PropertyError),
    #[error("could not send the CloudFormation response: {0}")]
    Response(String),
    #[error("stored pending work is unreadable: {0}")]
    Pending(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
