//! Wall-time as the planner sees it. The Lambda uses the system clock; tests use a clock that
//! follows tokio's (pausable) time from a fixed start, so hours pass in microseconds, or the
//! system clock shifted by a number of seconds they control (to let leases of killed
//! invocations expire without waiting).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Tokio {
        base: OffsetDateTime,
        start: tokio::time::Instant,
    },
    /// The system clock plus a shift in seconds.
    Shifted(Arc<AtomicI64>),
}

impl Clock {
    /// A clock that reads `base` now and advances with tokio's time (paused in tests).
    pub fn following_tokio(base: OffsetDateTime) -> Clock {
        Clock::Tokio {
            base,
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match self {
            Clock::System => OffsetDateTime::now_utc(),
            Clock::Tokio { base, start } => *base + start.elapsed(),
            Clock::Shifted(by) => {
                OffsetDateTime::now_utc() + time::Duration::seconds(by.load(Ordering::SeqCst))
            }
        }
    }
}
