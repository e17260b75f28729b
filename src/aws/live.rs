//! Printing an AWS load's progress for people: on a terminal, one bar redrawn in place; in CI
//! logs, one log line each time.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

/// Width of the bar in characters.
const BAR_WIDTH: usize = 24;

/// Prints progress lines, as a bar on a terminal.
#[derive(Debug)]
pub struct Bar {
    total: Duration,
    tty: bool,
    drawn: bool,
}

impl Bar {
    /// A bar for a load of `total` when stderr is a terminal; log lines otherwise.
    pub fn new(total: Duration) -> Self {
        Self {
            total,
            tty: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Show `line` at `elapsed`.
    pub fn show(&mut self, line: &str, elapsed: Duration) {
        if !self.tty {
            tracing::info!("{line}");
            return;
        }
        let share = elapsed.as_secs_f64() / self.total.as_secs_f64().max(1.0);
        let bar = crate::report::human::progress_bar(share, BAR_WIDTH);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{bar} {line}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }

    /// End the bar's line so that a log line can follow on its own (the bar is drawn again at
    /// the next [`Bar::show`]).
    pub fn interrupt(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr().lock());
            self.drawn = false;
        }
    }

    /// Done with the bar.
    pub fn finish(&mut self) {
        self.interrupt();
    }
}
