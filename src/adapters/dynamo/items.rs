//! The state table's items as attribute maps: keys, numbers and strings, JSON documents, and
//! the work items read back from them.

use super::Item;
use crate::error::AwsError;
use crate::state::{Answer, MaintainItem, Phase, RequestItem, Work};
use aws_sdk_dynamodb::types::AttributeValue as Av;

pub(super) fn s(v: impl Into<String>) -> Av {
    Av::S(v.into())
}

pub(super) fn n(v: impl ToString) -> Av {
    Av::N(v.to_string())
}

pub(super) fn request_pk(id: &str) -> String {
    format!("request#{id}")
}

pub(super) fn reap_pk(cluster_id: &str) -> String {
    format!("reap#{cluster_id}")
}

pub(super) const MAINTAIN_PK: &str = "maintain";

pub(super) fn text<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(super) fn number(item: &Item, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn unreadable(what: &str, e: impl std::fmt::Display) -> AwsError {
    AwsError::permanent("decode", "Unreadable", format!("{what}: {e}"))
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String, AwsError> {
    serde_json::to_string(value).map_err(|e| unreadable("encoding", e))
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(
    item: &Item,
    key: &str,
) -> Result<T, AwsError> {
    serde_json::from_str(text(item, key).unwrap_or_default()).map_err(|e| unreadable(key, e))
}

pub(super) fn to_request(item: &Item) -> Result<RequestItem, AwsError> {
    let phase = match text(item, "state") {
        Some("pending") => Phase::Pending,
        Some("answering") => Phase::Answering(decode::<Answer>(item, "answer")?),
        Some("done") => Phase::Done,
        other => return Err(unreadable("request state", format!("{other:?}"))),
    };
    Ok(RequestItem {
        record: decode(item, "record")?,
        phase,
        version: number(item, "version").unwrap_or(0) as u64,
    })
}

pub(super) fn to_work(item: &Item) -> Result<Option<Work>, AwsError> {
    let pk = text(item, "pk").unwrap_or_default();
    Ok(if pk.starts_with("request#") {
        Some(Work::Request(Box::new(to_request(item)?)))
    } else if pk.starts_with(super::refresh::PREFIX) {
        Some(Work::Refresh(Box::new(super::refresh::to_refresh(item)?)))
    } else if pk.starts_with("reap#") {
        Some(Work::Reap(decode(item, "reap")?))
    } else if pk == MAINTAIN_PK {
        let mut sources: Vec<String> = item
            .get("sources")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        sources.sort();
        Some(Work::Maintain(MaintainItem {
            sources,
            dry_run: item
                .get("dry_run")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            not_before: number(item, "not_before").unwrap_or(0),
            version: number(item, "version").unwrap_or(0) as u64,
        }))
    } else {
        None
    })
}
