//! The invocation's time budget from the runtime's deadline header. Lambda sends
//! `Lambda-Runtime-Deadline-Ms` as Unix-time milliseconds; local emulators have sent a duration
//! (`cargo lambda watch`: 600000), a time in the past, or a date decades ahead. Each is read
//! sensibly, so that local runs serve real work instead of handing everything off at once.

use std::time::Duration;

/// Lambda's longest timeout: no genuine deadline lies further ahead.
const MAX_TIMEOUT: Duration = Duration::from_secs(900);
/// A header value this small is a duration, not a time (a day, in milliseconds).
const DURATION_LIKE_MS: u64 = 86_400_000;

/// How the header was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Budget {
    /// A Unix-time deadline, as Lambda sends it.
    Deadline(Duration),
    /// A value shaped like a duration (a local emulator): taken as one.
    Duration(Duration),
    /// In the past or implausibly far ahead: `fallback` instead, with a warning.
    Implausible(Duration),
}

impl Budget {
    pub fn remaining(&self) -> Duration {
        match self {
            Budget::Deadline(d) | Budget::Duration(d) | Budget::Implausible(d) => *d,
        }
    }
}

/// Reads `header_ms` at `now_ms`; `fallback` is the function's configured timeout.
pub fn read(header_ms: u64, now_ms: u64, fallback: Duration) -> Budget {
    if header_ms <= DURATION_LIKE_MS {
        return Budget::Duration(Duration::from_millis(header_ms).min(MAX_TIMEOUT));
    }
    let ahead = Duration::from_millis(header_ms.saturating_sub(now_ms));
    if header_ms <= now_ms || ahead > MAX_TIMEOUT + Duration::from_secs(5) {
        return Budget::Implausible(fallback.min(MAX_TIMEOUT));
    }
    Budget::Deadline(ahead)
}

/// The function's configured timeout: the template's `Timeout` (tests/template.rs holds the two
/// equal). Lambda puts it in no environment variable.
pub const CONFIGURED_TIMEOUT: Duration = Duration::from_secs(120);

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_000_000_000;
    const FALLBACK: Duration = Duration::from_secs(600);

    #[test]
    fn lambdas_deadline_is_a_time_ahead() {
        assert_eq!(
            read(NOW + 300_000, NOW, FALLBACK),
            Budget::Deadline(Duration::from_secs(300))
        );
    }

    #[test]
    fn cargo_lambda_watch_sends_a_duration() {
        assert_eq!(
            read(600_000, NOW, FALLBACK),
            Budget::Duration(Duration::from_secs(600))
        );
    }

    #[test]
    fn a_past_or_far_future_deadline_takes_the_configured_timeout() {
        for header in [NOW - 1, 1_000_000_000_000, NOW + 40 * 365 * 86_400_000] {
            let b = read(header, NOW, FALLBACK);
            assert_eq!(b, Budget::Implausible(FALLBACK), "{header}");
            assert_eq!(b.remaining(), FALLBACK);
        }
    }
}
