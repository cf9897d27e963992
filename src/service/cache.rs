//! What a warm Lambda process may remember between invocations, briefly: facts that change
//! rarely and cost an AWS call each to read (a source's maintenance config entry, how its
//! writer is set up). Never request state: that lives in the state table. A process frozen
//! for longer than an entry's life reads it again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Values by key, each kept for `life`.
#[derive(Debug)]
pub struct Remembered<V> {
    life: Duration,
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> Remembered<V> {
    pub fn new(life: Duration) -> Remembered<V> {
        Remembered {
            life,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.life)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: &str, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(key.to_string(), (Instant::now(), value));
    }
}

/// The manager's caches.
#[derive(Debug)]
pub struct Caches {
    /// A source's maintenance config entry (`None`: it has none).
    pub source_config: Remembered<Option<crate::domain::upkeep::ClusterConfig>>,
    /// How a source's writer is set up.
    pub writer_settings: Remembered<Option<crate::domain::InstanceSettings>>,
    /// The account's quotas (one entry, keyed ""); usage moves, so briefly.
    pub quotas: Remembered<crate::domain::Quotas>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            source_config: Remembered::new(Duration::from_secs(60)),
            writer_settings: Remembered::new(Duration::from_secs(600)),
            quotas: Remembered::new(Duration::from_secs(30)),
        }
    }
}
