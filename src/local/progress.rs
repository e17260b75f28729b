//! Progress a person can follow during the load: on a terminal, a bar redrawn every second; in CI
//! logs, one line every few seconds — both with elapsed time, ops/s as the server counts them, the
//! load generators' ops/s and their p99 so far.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::sampler::Sampler;
use crate::loadgen::Progress;
use crate::results::server::names;

/// Width of the bar in characters.
const BAR_WIDTH: usize = 24;

/// Prints progress.
#[derive(Debug)]
pub(super) struct Reporter {
    started: Instant,
    duration: Duration,
    tty: bool,
    drawn: bool,
}

impl Reporter {
    /// Start the clock; a bar when stderr is a terminal, lines otherwise.
    pub(super) fn new(duration: Duration) -> Self {
        Self {
            started: Instant::now(),
            duration,
            tty: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// How often to call [`Reporter::report`].
    pub(super) fn every(&self) -> Duration {
        if self.tty {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        }
    }

    /// Report once.
    pub(super) fn report(&mut self, sampler: &Sampler, generators: &[watch::Receiver<Progress>]) {
        let elapsed = self.started.elapsed();
        let mut line = format!("{:>5} s / {} s", elapsed.as_secs(), self.duration.as_secs());
        if let Some(o) = sampler.latest(names::OPS_PER_SEC) {
            line.push_str(&format!("  server {o:>9.0} ops/s"));
        }
        if !generators.is_empty() {
            let client_ops: f64 = generators.iter().map(|r| r.borrow().ops_per_sec_last).sum();
            line.push_str(&format!("  clients {client_ops:>9.0} ops/s"));
        }
        let p99 = generators
            .iter()
            .filter_map(|r| r.borrow().p99_ms_so_far)
            .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
        if let Some(p) = p99 {
            line.push_str(&format!("  p99 so far {p:.3} ms"));
        }
        if self.tty {
            let share = elapsed.as_secs_f64() / self.duration.as_secs_f64().max(1.0);
            let bar = crate::report::human::progress_bar(share, BAR_WIDTH);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{bar} {line}\x1b[K");
            let _ = err.flush();
            self.drawn = true;
        } else {
            tracing::info!("{line}");
        }
    }

    /// End the bar's line so that the next log line starts on its own.
    pub(super) fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err);
            self.drawn = false;
        }
    }
}
