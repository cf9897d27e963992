//! How far this machine's clock is from AWS's. Leases expire by the wall clock of whoever
//! takes them: a holder whose clock runs behind acts past its lease, one whose clock runs ahead
//! takes over a lease still held. An interceptor on the state table's client reads the `Date`
//! header of every response (whole seconds, AWS's clock) and keeps the newest sample; a lease is
//! refused when the local clock is more than `MAX_SKEW_SECS` off it. (The fencing number catches
//! what the few seconds allowed still leave.)

use crate::clock::Clock;
use crate::error::AwsError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::{DateTime, Format};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// The most a lease taker's clock may be off AWS's.
pub const MAX_SKEW_SECS: f64 = 5.0;

/// A sample older than this is taken again before a lease is: clocks drift, and an NTP fix
/// should be seen within minutes.
pub const SAMPLE_FRESH_FOR: Duration = Duration::from_secs(300);

/// One reading: the local clock minus AWS's, and when it was read (monotonic).
#[derive(Debug, Clone, Copy)]
struct Sample {
    skew: f64,
    at: std::time::Instant,
}

/// Reads the `Date` of every response its client receives; cloned handles share the sample.
#[derive(Debug, Clone)]
pub struct SkewProbe {
    clock: Clock,
    last: Arc<Mutex<Option<Sample>>>,
}

impl SkewProbe {
    /// A probe that compares AWS's `Date` with `clock` (the system clock in production; a
    /// shifted one in tests, to play a machine whose clock is off).
    pub fn new(clock: Clock) -> SkewProbe {
        SkewProbe {
            clock,
            last: Arc::default(),
        }
    }

    /// Notes a response's `Date` header, read at the local clock's now.
    pub fn note(&self, date: &str) {
        let Some(skew) = skew_secs(self.clock.now(), date) else {
            return;
        };
        let sample = Sample {
            skew,
            at: std::time::Instant::now(),
        };
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(sample);
    }

    /// The newest skew read, if it is fresh.
    pub fn fresh_skew(&self) -> Option<f64> {
        let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.filter(|s| s.at.elapsed() <= SAMPLE_FRESH_FOR)
            .map(|s| s.skew)
    }
}

/// Local minus AWS, in seconds, from an HTTP `Date` (RFC 7231, whole seconds: AWS's time lay
/// somewhere in the second after it, so its middle is taken). `None` when it does not parse.
pub fn skew_secs(local: OffsetDateTime, date: &str) -> Option<f64> {
    let aws = DateTime::from_str(date.trim(), Format::HttpDate).ok()?;
    let local_secs = local.unix_timestamp_nanos() as f64 / 1e9;
    Some(local_secs - (aws.secs() as f64 + 0.5))
}

/// Whether a machine whose clock is `skew` seconds off AWS's may take a lease.
pub fn judge(skew: f64) -> Result<(), AwsError> {
    if skew.abs() <= MAX_SKEW_SECS {
        return Ok(());
    }
    let way = if skew > 0.0 { "ahead of" } else { "behind" };
    Err(AwsError::permanent(
        "take lease",
        "ClockSkew",
        format!(
            "this machine's clock is {:.0} s off AWS's ({way} it; at most {MAX_SKEW_SECS:.0} s is allowed): fix NTP; no lease was taken",
            skew.abs()
        ),
    ))
}

impl Intercept for SkewProbe {
    fn name(&self) -> &'static str {
        "SkewProbe"
    }

    /// Every attempt that got a response, errors included (a 400 carries AWS's `Date` too).
    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            self.note(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const DATE: &str = "Sun, 06 Dec 2026 02:30:00 GMT";

    #[test]
    fn skew_is_local_minus_aws() {
        let at = |s: i64| datetime!(2026-12-06 02:30:00 UTC) + time::Duration::seconds(s);
        assert_eq!(skew_secs(at(0), DATE), Some(-0.5));
        assert_eq!(skew_secs(at(9), DATE), Some(8.5));
        assert_eq!(skew_secs(at(-7), DATE), Some(-7.5));
        assert_eq!(skew_secs(at(0), "yesterday"), None);
    }

    #[test]
    fn a_clock_more_than_five_seconds_off_is_refused() {
        assert!(judge(0.0).is_ok());
        assert!(judge(4.9).is_ok() && judge(-4.9).is_ok());
        let e = judge(8.5).unwrap_err();
        assert_eq!((e.code.as_str(), e.retryable), ("ClockSkew", false));
        assert!(
            e.message.contains("clock is 8 s off AWS's") && e.message.contains("fix NTP"),
            "{e}"
        );
        assert!(judge(-60.0).unwrap_err().message.contains("behind"));
    }

    #[test]
    fn the_probe_keeps_the_newest_sample() {
        let shift = Arc::new(std::sync::atomic::AtomicI64::new(30));
        let probe = SkewProbe::new(Clock::Shifted(shift));
        assert_eq!(probe.fresh_skew(), None);
        let now = httpdate(OffsetDateTime::now_utc());
        probe.note(&now);
        let skew = probe.fresh_skew().expect("sampled");
        assert!((28.0..=31.0).contains(&skew), "{skew}");
        probe.note("not a date");
        assert!(
            probe.fresh_skew().is_some(),
            "an unreadable Date keeps the last sample"
        );
    }

    fn httpdate(t: OffsetDateTime) -> String {
        DateTime::from_secs(t.unix_timestamp())
            .fmt(Format::HttpDate)
            .expect("formats")
    }
}
