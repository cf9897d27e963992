//! Errors that cross module boundaries. An AWS error keeps the service's error code and says
//! whether trying again later can succeed: that judgement is made once, in the adapter that
//! knows the service (`adapters`), and everything above reads only the flag.

use thiserror::Error;

/// An AWS call that failed, with the service's own error code when it sent one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The AWS error code, e.g. `DBClusterNotFoundFault`; `Unknown` when the service sent none.
    pub code: String,
    pub message: String,
    /// True when the same call may succeed later (throttling, a 5xx, a timeout, a transient
    /// state): the work waits for the next follow-up instead of failing the request.
    pub retryable: bool,
}

impl AwsError {
    /// A permanent error: trying again will not help.
    pub fn permanent(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            operation,
            code: code.into(),
            message: message.into(),
            retryable: false,
        }
    }

    /// A transient error: the next follow-up tries again.
    pub fn transient(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            retryable: true,
            ..AwsError::permanent(operation, code, message)
        }
    }

    /// The call did not finish before the invocation had to hand its work off.
    pub fn out_of_time(operation: &'static str) -> Self {
        AwsError::transient(
            operation,
            "OutOfTime",
            "not finished before the invocation's hand-off margin",
        )
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
    #[error("stored state is unreadable: {0}")]
    State(String),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// True when waiting and trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Aws(e) if e.retryable)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
