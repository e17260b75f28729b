//! Signals → two cancellation tokens: the first SIGINT, SIGTERM or SIGHUP stops the run (which then
//! stops its load, keeps what was measured and cleans up); a second one abandons it: the run
//! returns at once as interrupted, and `main` hands the workspace back and exits with 130.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// What the signals cancel.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Cancelled on the first signal: stop the load, keep what was measured, clean up.
    pub stop: CancellationToken,
    /// Cancelled on the second: give up now (what was already deleted stays deleted; the post
    /// step or `cleanup` finishes the rest).
    pub abandon: CancellationToken,
}

/// Install the handlers.
pub fn install() -> anyhow::Result<Signals> {
    let signals = Signals::default();
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let s = signals.clone();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            };
            seen += 1;
            if seen == 1 {
                tracing::warn!("{name} received: stopping the run and cleaning up (send again to exit at once)");
                s.stop.cancel();
            } else {
                tracing::error!("{name} received again: exiting now");
                s.abandon.cancel();
            }
        }
    });
    Ok(signals)
}
