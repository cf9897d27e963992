//! Refreshes in the in-memory state table, under the same conditions as `dynamo::refresh`.

use super::{lock, MemoryState};
use crate::domain::refresh::RefreshItem;
use crate::error::AwsError;
use crate::ports::Refreshes;
use async_trait::async_trait;

#[async_trait]
impl Refreshes for MemoryState {
    async fn begin(&self, item: &RefreshItem) -> Result<RefreshItem, AwsError> {
        self.write("PutItem", |t| {
            t.refreshes
                .entry(item.cluster_id.clone())
                .or_insert_with(|| RefreshItem {
                    version: 1,
                    ..item.clone()
                })
                .clone()
        })
    }

    async fn refresh(&self, cluster_id: &str) -> Result<Option<RefreshItem>, AwsError> {
        self.check("GetItem")?;
        Ok(lock(&self.tables).refreshes.get(cluster_id).cloned())
    }

    async fn amend(&self, item: &RefreshItem) -> Result<Option<RefreshItem>, AwsError> {
        let amended = RefreshItem {
            version: item.version + 1,
            ..item.clone()
        };
        self.write("UpdateItem", |t| {
            match t.refreshes.get_mut(&item.cluster_id) {
                Some(stored) if stored.version == item.version => {
                    *stored = amended;
                    Some(stored.clone())
                }
                // A lost reply retried finds its own amendment, as `dynamo::refresh` reads it.
                Some(stored) if *stored == amended => Some(amended),
                _ => None,
            }
        })
    }

    async fn end(&self, cluster_id: &str, attempt: &str) -> Result<(), AwsError> {
        self.write("DeleteItem", |t| {
            if t.refreshes
                .get(cluster_id)
                .is_some_and(|r| r.attempt == attempt)
            {
                t.refreshes.remove(cluster_id);
            }
        })
    }
}
