//! Signals → one cancellation token: the first SIGINT, SIGTERM or SIGHUP cancels the run (which then
//! stops its load, keeps what was measured and cleans up); a second one exits at once with 130.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// Install the handlers; the returned token is cancelled on the first signal.
pub fn install() -> anyhow::Result<CancellationToken> {
    let token = CancellationToken::new();
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let t = token.clone();
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
                t.cancel();
            } else {
                tracing::error!("{name} received again: exiting now");
                // A second signal means the user wants out now; the first already started cleanup.
                #[allow(clippy::exit)]
                std::process::exit(i32::from(crate::outcome::EXIT_INTERRUPTED));
            }
        }
    });
    Ok(token)
}
