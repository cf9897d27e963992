//! Scheduled maintenance of the copy pools (issue 3: in progress).

use crate::service::Manager;
use serde_json::{json, Value};

pub async fn run_scheduled(_m: &Manager) -> Value {
    tracing::warn!("maintenance is not implemented in this build");
    json!({"maintenance": "not implemented"})
}
