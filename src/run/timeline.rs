//! The run's timeline: every phase with its start and end, so a user sees how much of the job's
//! wall time was measurement.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::results::{rfc3339_ms, Phase};

/// Records phases as they happen.
#[derive(Debug, Default)]
pub struct Timeline {
    phases: Vec<Phase>,
    open: Option<(String, u64, Instant)>,
}

/// Now, in Unix milliseconds (0 before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

impl Timeline {
    /// Start a phase (ending the open one) and log it.
    pub fn phase(&mut self, name: &str) {
        self.end();
        tracing::info!("phase: {name}");
        self.open = Some((name.to_string(), now_ms(), Instant::now()));
    }

    /// End the open phase.
    pub fn end(&mut self) {
        if let Some((name, start_ms, started)) = self.open.take() {
            let secs = started.elapsed().as_secs_f64();
            self.phases.push(Phase {
                name,
                started_at: rfc3339_ms(start_ms),
                ended_at: rfc3339_ms(now_ms()),
                duration_secs: (secs * 1000.0).round() / 1000.0,
            });
        }
    }

    /// All phases, ending the open one.
    pub fn finish(mut self) -> Vec<Phase> {
        self.end();
        self.phases
    }
}
