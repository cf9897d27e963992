//! The ownership ledger in memory, with the conditions `adapters::dynamo::DynamoLedger` writes. Harsh like
//! DynamoDB: a write can take effect and still lose its reply (`lose_replies`).

use super::lock;
use crate::domain::Deed;
use crate::error::AwsError;
use crate::ports::{Entered, Ledger};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct FakeLedger {
    deeds: Mutex<BTreeMap<String, Deed>>,
    /// Writes whose reply is lost from now on (they take effect, then err).
    lost_replies: AtomicU32,
    writes: AtomicU32,
    calls: AtomicU32,
}

impl FakeLedger {
    /// Every deed, as stored.
    pub fn all(&self) -> Vec<Deed> {
        lock(&self.deeds).values().cloned().collect()
    }

    pub fn get(&self, cluster_id: &str) -> Option<Deed> {
        lock(&self.deeds).get(cluster_id).cloned()
    }

    /// Puts a deed as an operator's `adopt` (or a test's setup) would.
    pub fn insert(&self, deed: Deed) {
        let version = deed.version.max(1);
        lock(&self.deeds).insert(deed.cluster_id.clone(), Deed { version, ..deed });
    }

    /// The next `n` writes take effect and lose their reply.
    pub fn lose_replies(&self, n: u32) {
        self.lost_replies.store(n, Ordering::SeqCst);
    }

    pub fn writes(&self) -> u32 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Calls made, reads included (each one DynamoDB call).
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    fn written<T>(&self, operation: &'static str, out: T) -> Result<T, AwsError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let lost = self
            .lost_replies
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match lost {
            Ok(_) => Err(AwsError::transient(
                operation,
                "InternalServerError",
                "reply lost after the write took effect",
            )),
            Err(_) => Ok(out),
        }
    }
}

impl FakeLedger {
    /// A DynamoDB round trip: counted, and other invocations run meanwhile (never instant, as
    /// no AWS call is).
    async fn round_trip(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(8)).await;
    }
}

#[async_trait]
impl Ledger for FakeLedger {
    async fn deed(&self, cluster_id: &str) -> Result<Option<Deed>, AwsError> {
        self.round_trip().await;
        Ok(self.get(cluster_id))
    }

    async fn deeds(&self) -> Result<Vec<Deed>, AwsError> {
        self.round_trip().await;
        Ok(self.all())
    }

    async fn enter(&self, deed: &Deed) -> Result<Entered, AwsError> {
        self.round_trip().await;
        let found = {
            let mut deeds = lock(&self.deeds);
            match deeds.get(&deed.cluster_id) {
                Some(held) if held.same_intent(deed) => Entered::Held(held.clone()),
                Some(other) => Entered::Other(other.clone()),
                None => {
                    let new = Deed {
                        version: 1,
                        ..deed.clone()
                    };
                    deeds.insert(deed.cluster_id.clone(), new.clone());
                    Entered::New(new)
                }
            }
        };
        match found {
            Entered::New(_) => self.written("PutItem", found),
            other => Ok(other),
        }
    }

    async fn amend(&self, deed: &Deed) -> Result<Option<Deed>, AwsError> {
        self.round_trip().await;
        let next = Deed {
            version: deed.version + 1,
            ..deed.clone()
        };
        {
            let mut deeds = lock(&self.deeds);
            match deeds.get_mut(&deed.cluster_id) {
                Some(held) if held.version == deed.version => *held = next.clone(),
                // A lost reply retried finds its own amendment: the same deed at the next
                // version (read, as the adapter reads it; nothing written).
                Some(held) if *held == next => return Ok(Some(next)),
                _ => return Ok(None),
            }
        }
        self.written("UpdateItem", Some(next))
    }

    async fn strike(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.round_trip().await;
        lock(&self.deeds).remove(cluster_id);
        self.written("DeleteItem", ())
    }
}
