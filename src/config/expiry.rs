//! The expiry of a run's resources and its cost cap: `ttl_minutes` (long enough for the test, its
//! prefill and the cache's creation, at most a week; a default margin when not given) and
//! `max_cost_usd`. Pure.

use std::time::Duration;

use super::parse::{opt, parse_bool};
use super::{ConfigError, RunInputs};

/// Default extra lifetime after the test duration before the expiry tag says a run is stale.
pub const DEFAULT_TTL_MARGIN_MINUTES: u64 = 120;
/// Longest wait for the cache to become available (the AWS target's creation timeout).
pub const CACHE_CREATE_TIMEOUT_MINUTES: u64 = 45;
/// Longest a prefill may take (the plan's prefill timeout plus its kill delay, rounded up; a test
/// in `plan` keeps the two in step).
pub const PREFILL_BOUND_MINUTES: u64 = 31;
/// Margin on top of creation, prefill and test for collection and the start of teardown.
pub const TTL_SAFETY_MINUTES: u64 = 15;

/// The shortest `ttl_minutes` for a test of `duration_min` minutes: the expiry (and the dead-man's
/// switch, which deletes the cache then) must not come before creation, prefill and test are over.
pub fn min_ttl_minutes(duration_min: u64, prefill: bool) -> u64 {
    duration_min
        + CACHE_CREATE_TIMEOUT_MINUTES
        + if prefill { PREFILL_BOUND_MINUTES } else { 0 }
        + TTL_SAFETY_MINUTES
}

/// The cost cap: a positive number of US dollars (a leading `$` allowed), or `none`.
pub(super) fn max_cost(v: &str) -> Result<Option<f64>, ConfigError> {
    let t = v.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let n: f64 = t.trim_start_matches('$').parse().map_err(|_| {
        ConfigError::new(
            "max_cost_usd",
            v,
            "must be a positive number of US dollars, or 'none' for no limit",
        )
    })?;
    if !n.is_finite() || n <= 0.0 {
        return Err(ConfigError::new(
            "max_cost_usd",
            v,
            "must be more than zero (or 'none' for no limit)",
        ));
    }
    Ok(Some(n))
}

/// The dead-man's switch's expiry: long enough for the test, its prefill and the cache's creation,
/// and at most a week.
pub(super) fn ttl_of(i: &RunInputs, duration: Duration) -> Result<Duration, ConfigError> {
    let duration_min = duration.as_secs().div_ceil(60);
    let ttl = match opt(i.ttl_minutes.as_ref()) {
        None => Duration::from_secs((duration_min + DEFAULT_TTL_MARGIN_MINUTES) * 60),
        Some(t) => {
            let prefill = parse_bool("prefill", &i.prefill, None).unwrap_or(false);
            let min = min_ttl_minutes(duration_min, prefill);
            let n: u64 = t.parse().map_err(|_| {
                ConfigError::new("ttl_minutes", t, "must be a whole number of minutes")
            })?;
            if n < min {
                return Err(ConfigError::new(
                    "ttl_minutes",
                    t,
                    format!(
                        "must be at least {min}: the test's {duration_min} minutes plus {CACHE_CREATE_TIMEOUT_MINUTES} for the cache's creation{} and {TTL_SAFETY_MINUTES} more; an earlier expiry could have the dead-man's switch delete the cache while the test runs",
                        if prefill { format!(", {PREFILL_BOUND_MINUTES} for the prefill") } else { String::new() }
                    ),
                ));
            }
            if n > 7 * 24 * 60 {
                return Err(ConfigError::new(
                    "ttl_minutes",
                    t,
                    "must be at most a week (10080)",
                ));
            }
            Duration::from_secs(n * 60)
        }
    };
    Ok(ttl)
}
