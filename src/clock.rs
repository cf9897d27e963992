//! Wall-clock time as the planner sees it. The Lambda uses the system clock; tests use a clock
//! that follows tokio's (pausable) time from a fixed start, so hours pass in microseconds.

use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Tokio {
        base: OffsetDateTime,
        start: tokio::time::Instant,
    },
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
        }
    }
}
