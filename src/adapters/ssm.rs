//! The `Parameters` port over SSM: the operators' maintenance config. (Request state lives in
//! the DynamoDB table: SSM has no compare-and-swap.)

use super::{aws_error, is_not_found};
use async_trait::async_trait;
use aws_sdk_ssm::Client;

/// The `Parameters` port over SSM.
pub struct SsmParameters {
    client: Client,
}

impl SsmParameters {
    pub fn new(client: Client) -> SsmParameters {
        SsmParameters { client }
    }
}

#[async_trait]
impl crate::ports::Parameters for SsmParameters {
    async fn get(&self, name: &str) -> Result<Option<String>, crate::error::AwsError> {
        match self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
            Err(e) => {
                let e = aws_error("GetParameter", e);
                if is_not_found(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}
