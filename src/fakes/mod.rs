//! In-memory fakes of the ports, for tests only (`test-support`): each lags and fails as the AWS
//! service does, never kinder. One module per port; the state store and the responder are the
//! in-memory adapters the CLI also uses.

mod events;
mod keys;
mod ledger;
mod parameters;
mod rds;
mod schedules;
mod secrets;
mod stacks;

pub use crate::adapters::memory::{MemoryResponder as FakeResponder, MemoryState as FakeState};
pub use events::{FakeEvents, FakeFollowUps};
pub use keys::FakeKeys;
pub use ledger::FakeLedger;
pub use parameters::FakeParameters;
pub use rds::FakeRds;
pub use schedules::{FakeSchedule, FakeSchedules};
pub use secrets::{FakeSecret, FakeSecrets};
pub use stacks::FakeStacks;

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
