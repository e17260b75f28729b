//! The wall clock, read in one place: now in Unix milliseconds, and run ids made from it. A leaf: it imports nothing from
//! the crate, so every layer (the run's timeline, the AWS target's ledger and load, the local
//! target's sampler) can read it without importing the layer that records the run.

use std::time::{SystemTime, UNIX_EPOCH};

/// A run id unique enough across matrix jobs and re-runs, valid under every cloud naming rule
/// (lowercase, starts with a letter, no double hyphen, short).
pub fn new_run_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let salt =
        (u64::from(now.subsec_nanos()) ^ u64::from(std::process::id()).rotate_left(17)) & 0xffff;
    format!("ecp-{secs:x}-{salt:04x}")
}

/// Now, in Unix milliseconds (0 before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_this_code_was_written() {
        // 2024-01-01T00:00:00Z: a clock reading 0 (before 1970) or seconds would fail.
        assert!(now_ms() > 1_704_067_200_000);
    }
}
