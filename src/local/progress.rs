//! Progress a person can follow during the load: one line every few seconds with elapsed time,
//! ops/s as the server counts them and the load generators' p99 so far.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::sampler::Sampler;
use crate::loadgen::Progress;
use crate::results::server::names;

/// Time between progress lines.
pub(super) const EVERY: Duration = Duration::from_secs(5);

/// Prints progress lines.
#[derive(Debug)]
pub(super) struct Reporter {
    started: Instant,
    duration: Duration,
}

impl Reporter {
    /// Start the clock.
    pub(super) fn new(duration: Duration) -> Self {
        Self {
            started: Instant::now(),
            duration,
        }
    }

    /// Log one progress line.
    pub(super) fn report(&mut self, sampler: &Sampler, generators: &[watch::Receiver<Progress>]) {
        let elapsed = self.started.elapsed().as_secs();
        let ops = sampler.latest(names::OPS_PER_SEC);
        let client_ops: f64 = generators.iter().map(|r| r.borrow().ops_per_sec_last).sum();
        let p99 = generators
            .iter()
            .filter_map(|r| r.borrow().p99_ms_so_far)
            .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
        let mut line = format!("{elapsed:>5} s / {} s", self.duration.as_secs());
        if let Some(o) = ops {
            line.push_str(&format!("  server {o:>10.0} ops/s"));
        }
        if !generators.is_empty() {
            line.push_str(&format!("  clients {client_ops:>10.0} ops/s"));
        }
        if let Some(p) = p99 {
            line.push_str(&format!("  p99 so far {p:.3} ms"));
        }
        tracing::info!("{line}");
    }
}
