//! In-process adapters: a state store and a responder that live as long as the process. The
//! operator CLI answers its own requests to the responder (they have no ResponseURL) and keeps
//! the state of plans and dry runs in the store (everything else shares the stack's table), and
//! the tests use them beside the DynamoDB adapter: the state store keeps exactly the
//! conditions `adapters::dynamo` writes, so a test over it sees the same races settle the same
//! way. `fail_writes` makes it harsh: a write takes effect and its caller still gets an error,
//! as when a reply is lost and the SDK's retries run out.

use crate::error::AwsError;
use crate::ports::StateStore;
use crate::state::{Answer, MaintainItem, Phase, ReapItem, RequestItem, RequestRecord, Work};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

mod refresh;
mod responder;

pub use responder::{MemoryResponder, NoFollowUps};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Default)]
struct Tables {
    requests: BTreeMap<String, RequestItem>,
    reaps: BTreeMap<String, ReapItem>,
    maintain: Option<MaintainItem>,
    refreshes: BTreeMap<String, crate::domain::refresh::RefreshItem>,
    leases: BTreeMap<String, LeaseItem>,
    writes: u64,
    /// The phase each request was first stored in (`pending` or `answering`).
    first: BTreeMap<String, &'static str>,
}

/// A lease as the table keeps it: released leases stay, holderless, so that their fencing
/// number is never handed out again.
#[derive(Debug, Clone, Default)]
struct LeaseItem {
    holder: Option<String>,
    expires: i64,
    fence: u64,
}

/// The state table in memory.
#[derive(Debug, Default)]
pub struct MemoryState {
    tables: Mutex<Tables>,
    /// Writes (counted from 1) whose reply is lost: they take effect and return an error.
    lost_replies: Mutex<Vec<u64>>,
    refused_writes: Mutex<Vec<u64>>,
    /// Scans to let through, then scans to fail.
    failing_scans: Mutex<(u32, u32)>,
    /// This share of calls (in percent) is refused as throttled, before it takes effect.
    throttle_percent: AtomicU32,
    calls: AtomicU32,
}

impl MemoryState {
    /// The request ids of recorded requests, in any phase.
    pub fn request_ids(&self) -> Vec<String> {
        lock(&self.tables).requests.keys().cloned().collect()
    }

    /// The request items not yet done.
    pub fn open_requests(&self) -> Vec<RequestItem> {
        lock(&self.tables)
            .requests
            .values()
            .filter(|r| r.phase != Phase::Done)
            .cloned()
            .collect()
    }

    /// Refreshes recorded and not yet over.
    pub fn refreshes(&self) -> Vec<crate::domain::refresh::RefreshItem> {
        lock(&self.tables).refreshes.values().cloned().collect()
    }

    pub fn reaps(&self) -> Vec<ReapItem> {
        lock(&self.tables).reaps.values().cloned().collect()
    }

    pub fn maintain(&self) -> Option<MaintainItem> {
        lock(&self.tables).maintain.clone()
    }

    /// The holder of a lease, if any (expired or not), and when it expires.
    pub fn lease(&self, name: &str) -> Option<(String, i64)> {
        let t = lock(&self.tables);
        let l = t.leases.get(name)?;
        Some((l.holder.clone()?, l.expires))
    }

    /// The phase a request was first stored in: `pending` (work) or `answering` (a refusal).
    pub fn first_phase(&self, request_id: &str) -> Option<&'static str> {
        lock(&self.tables).first.get(request_id).copied()
    }

    /// Refuses the writes whose number (from 1, in order) is listed, before they take effect.
    pub fn refuse_writes(&self, writes: &[u64]) {
        lock(&self.refused_writes).extend_from_slice(writes);
    }

    /// Fails the `count` scans that follow the next `skip` (a second look that errs).
    pub fn fail_scans(&self, skip: u32, count: u32) {
        *lock(&self.failing_scans) = (skip, count);
    }

    /// Loses the reply of every write whose number (from 1, in order) is listed.
    pub fn lose_replies_of_writes(&self, writes: &[u64]) {
        lock(&self.lost_replies).extend_from_slice(writes);
    }

    /// Refuses `percent` of calls as throttled, spread evenly (0 stops it).
    pub fn throttle_percent(&self, percent: u32) {
        self.throttle_percent
            .store(percent.min(100), Ordering::SeqCst);
    }

    /// Attempts made (without throttling, one per call).
    pub fn call_count(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn writes(&self) -> u64 {
        lock(&self.tables).writes
    }

    /// A call as the SDK makes it: up to `SDK_ATTEMPTS` attempts, each of which may be
    /// throttled; the error surfaces only when every attempt was.
    fn check(&self, operation: &'static str) -> Result<(), AwsError> {
        let percent = self.throttle_percent.load(Ordering::SeqCst);
        for _ in 0..SDK_ATTEMPTS {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if !throttled(n, percent) {
                return Ok(());
            }
        }
        Err(AwsError::transient(
            operation,
            "ThrottlingException",
            "Rate exceeded",
        ))
    }

    /// Runs a write; a write whose reply is to be lost takes effect and then errs.
    fn write<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Tables) -> T,
    ) -> Result<T, AwsError> {
        self.check(operation)?;
        let mut t = lock(&self.tables);
        let n = t.writes + 1;
        let mut refused = lock(&self.refused_writes);
        if let Some(i) = refused.iter().position(|w| *w == n) {
            refused.remove(i);
            t.writes = n;
            return Err(AwsError::transient(
                operation,
                "InternalServerError",
                "the write was refused",
            ));
        }
        drop(refused);
        t.writes = n;
        let out = f(&mut t);
        drop(t);
        let mut lost = lock(&self.lost_replies);
        if let Some(i) = lost.iter().position(|w| *w == n) {
            lost.remove(i);
            return Err(AwsError::transient(
                operation,
                "InternalServerError",
                "reply lost after the write took effect",
            ));
        }
        Ok(out)
    }
}

impl MemoryState {
    /// Stores a request's first item in `phase` unless it is stored already (the condition
    /// the DynamoDB adapter writes with).
    fn put_first(&self, record: &RequestRecord, phase: Phase) -> Result<RequestItem, AwsError> {
        let first = match phase {
            Phase::Pending => "pending",
            _ => "answering",
        };
        self.write("PutItem", |t| {
            let item = t
                .requests
                .entry(record.request_id().to_string())
                .or_insert_with(|| RequestItem {
                    record: record.clone(),
                    phase,
                    version: 1,
                })
                .clone();
            t.first
                .entry(record.request_id().to_string())
                .or_insert(first);
            item
        })
    }

    fn scan_fault(&self) -> Result<(), AwsError> {
        let mut f = lock(&self.failing_scans);
        match *f {
            (0, 0) => Ok(()),
            (0, n) => {
                *f = (0, n - 1);
                let operation = "Scan";
                Err(AwsError::transient(
                    operation,
                    "InternalServerError",
                    "injected",
                ))
            }
            (k, n) => {
                *f = (k - 1, n);
                Ok(())
            }
        }
    }
}

/// Attempts per call, as the SDK's standard retry mode makes them (`adapters::retry_config`).
pub const SDK_ATTEMPTS: u32 = 3;

/// True when call `n` falls in the throttled `percent`: a fixed pseudo-random draw per call
/// number (splitmix64), so a run repeats exactly and no periodic pattern lines up with a flow.
pub fn throttled(n: u32, percent: u32) -> bool {
    let mut z = u64::from(n).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    percent > 0 && z % 100 < u64::from(percent)
}

#[async_trait]
impl StateStore for MemoryState {
    async fn record(&self, record: &RequestRecord) -> Result<RequestItem, AwsError> {
        self.put_first(record, Phase::Pending)
    }

    async fn refuse(
        &self,
        record: &RequestRecord,
        answer: &Answer,
    ) -> Result<RequestItem, AwsError> {
        self.put_first(record, Phase::Answering(answer.clone()))
    }

    async fn request(&self, request_id: &str) -> Result<Option<RequestItem>, AwsError> {
        self.check("GetItem")?;
        Ok(lock(&self.tables).requests.get(request_id).cloned())
    }

    async fn revise(
        &self,
        item: &RequestItem,
        record: &RequestRecord,
    ) -> Result<Option<RequestItem>, AwsError> {
        self.write("UpdateItem", |t| {
            let stored = t.requests.get_mut(record.request_id())?;
            // A lost reply retried finds its own revision: the same record at the next version.
            let own = stored.version == item.version + 1 && &stored.record == record;
            if stored.phase == Phase::Pending && own {
                return Some(stored.clone());
            }
            if stored.phase != Phase::Pending || stored.version != item.version {
                return None;
            }
            stored.record = record.clone();
            stored.version += 1;
            Some(stored.clone())
        })
    }

    async fn decide(
        &self,
        request_id: &str,
        answer: &Answer,
    ) -> Result<Option<RequestItem>, AwsError> {
        self.write("UpdateItem", |t| {
            let stored = t.requests.get_mut(request_id)?;
            match stored.phase {
                Phase::Pending => {
                    stored.phase = Phase::Answering(answer.clone());
                    stored.version += 1;
                    Some(stored.clone())
                }
                Phase::Answering(_) => Some(stored.clone()),
                Phase::Done => None,
            }
        })
    }

    async fn event_sent(&self, request_id: &str) -> Result<(), AwsError> {
        self.write("UpdateItem", |t| {
            if let Some(Phase::Answering(a)) = t.requests.get_mut(request_id).map(|r| &mut r.phase)
            {
                a.event_sent = true;
            }
        })
    }

    async fn finish(&self, request_id: &str, _now: i64) -> Result<(), AwsError> {
        self.write("UpdateItem", |t| {
            if let Some(r) = t.requests.get_mut(request_id) {
                if matches!(r.phase, Phase::Answering(_)) {
                    r.phase = Phase::Done;
                    r.version += 1;
                }
            }
        })
    }

    async fn list(&self) -> Result<Vec<Work>, AwsError> {
        self.check("Scan")?;
        self.scan_fault()?;
        let t = lock(&self.tables);
        let mut out: Vec<Work> = t
            .requests
            .values()
            .map(|r| Work::Request(Box::new(r.clone())))
            .collect();
        out.extend(t.reaps.values().cloned().map(Work::Reap));
        out.extend(t.maintain.clone().map(Work::Maintain));
        out.extend(
            t.refreshes
                .values()
                .cloned()
                .map(|r| Work::Refresh(Box::new(r))),
        );
        Ok(out)
    }

    async fn put_reap(&self, reap: &ReapItem, if_absent: bool) -> Result<(), AwsError> {
        self.write("PutItem", |t| {
            if !(if_absent && t.reaps.contains_key(&reap.cluster_id)) {
                t.reaps.insert(reap.cluster_id.clone(), reap.clone());
            }
        })
    }

    async fn remove_reap(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.write("DeleteItem", |t| {
            t.reaps.remove(cluster_id);
        })
    }

    async fn put_maintain(&self, item: &MaintainItem) -> Result<(), AwsError> {
        if item.sources.is_empty() {
            return Ok(());
        }
        self.write("UpdateItem", |t| {
            let m = t.maintain.get_or_insert_with(|| MaintainItem {
                sources: vec![],
                dry_run: item.dry_run,
                not_before: item.not_before,
                version: 0,
            });
            for s in &item.sources {
                if !m.sources.contains(s) {
                    m.sources.push(s.clone());
                }
            }
            m.sources.sort();
            m.not_before = item.not_before;
            m.dry_run = item.dry_run;
            m.version += 1;
        })
    }

    async fn take_maintain(&self, version: u64) -> Result<bool, AwsError> {
        self.write("DeleteItem", |t| {
            if t.maintain.as_ref().is_some_and(|m| m.version == version) {
                t.maintain = None;
                true
            } else {
                false
            }
        })
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl: i64,
    ) -> Result<Option<u64>, AwsError> {
        self.write("UpdateItem", |t| {
            let lease = t.leases.entry(name.to_string()).or_default();
            let mine = lease.holder.as_deref() == Some(holder) && lease.expires >= now;
            if !mine && lease.holder.is_some() && lease.expires >= now {
                return None;
            }
            if !mine {
                lease.fence += 1;
            }
            lease.holder = Some(holder.to_string());
            lease.expires = now + ttl;
            Some(lease.fence)
        })
    }

    async fn confirm_lease(
        &self,
        name: &str,
        holder: &str,
        fence: u64,
        now: i64,
    ) -> Result<bool, AwsError> {
        self.check("UpdateItem")?;
        Ok(lock(&self.tables).leases.get(name).is_some_and(|l| {
            l.holder.as_deref() == Some(holder) && l.fence == fence && l.expires >= now
        }))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), AwsError> {
        self.write("UpdateItem", |t| {
            if let Some(l) = t.leases.get_mut(name) {
                if l.holder.as_deref() == Some(holder) {
                    l.holder = None;
                    l.expires = 0;
                }
            }
        })
    }
}
