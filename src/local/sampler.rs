//! Samples the server's `INFO` once a second during the load: the local target's server metrics,
//! and the watchdog that notices a server that stopped answering.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::conn::Conn;
use super::info::{self, InfoSnapshot};
use crate::config::Endpoint;
use crate::results::server::Sample;

/// Time between samples.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// Consecutive failed samples after which the server counts as gone.
const FAILURES_TO_DOWN: u32 = 3;

/// What the sampler has seen so far.
#[derive(Debug, Default)]
pub struct Seen {
    /// The first snapshot (engine version and name).
    pub first: Option<InfoSnapshot>,
    /// One sample per interval.
    pub samples: Vec<Sample>,
    /// Every snapshot's `(unix ms, total_commands_processed)`, the baseline before the load included.
    pub counters: Vec<(u64, u64)>,
    /// Why the server counts as gone, when it does.
    pub down: Option<String>,
}

/// A running sampler.
#[derive(Debug)]
pub struct Sampler {
    seen: Arc<Mutex<Seen>>,
    /// Cancelled when the server stops answering.
    pub server_down: CancellationToken,
    stop: CancellationToken,
    ready: CancellationToken,
    task: JoinHandle<()>,
}

async fn snapshot(conn: &mut Option<Conn>, ep: &Endpoint) -> anyhow::Result<InfoSnapshot> {
    if conn.is_none() {
        *conn = Some(
            Conn::open(
                &ep.host,
                ep.port,
                ep.username.as_deref(),
                ep.password.as_ref(),
                Duration::from_secs(2),
            )
            .await?,
        );
    }
    let c = conn
        .as_mut()
        .ok_or_else(|| anyhow::anyhow!("no connection"))?;
    match c.info().await {
        Ok(text) => Ok(info::parse(&text, crate::clock::now_ms())),
        Err(e) => {
            *conn = None;
            Err(e)
        }
    }
}

impl Sampler {
    /// Start sampling `ep`.
    pub fn spawn(ep: Endpoint) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server_down = CancellationToken::new();
        let stop = CancellationToken::new();
        let ready = CancellationToken::new();
        let task = {
            let (seen, server_down, stop, ready) = (
                seen.clone(),
                server_down.clone(),
                stop.clone(),
                ready.clone(),
            );
            tokio::spawn(async move {
                let mut conn = None;
                let mut prev: Option<InfoSnapshot> = None;
                let mut failures = 0u32;
                // Samples are taken on whole wall-clock seconds, so that each covers one second of
                // the clients' wall-clock-aligned series.
                let to_next_second = Duration::from_millis(1000 - crate::clock::now_ms() % 1000);
                let mut tick = tokio::time::interval_at(
                    tokio::time::Instant::now() + to_next_second,
                    INTERVAL,
                );
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        _ = tick.tick() => {}
                    }
                    let result = snapshot(&mut conn, &ep).await;
                    ready.cancel();
                    match result {
                        Ok(s) => {
                            failures = 0;
                            if let Ok(mut g) = seen.lock() {
                                if g.first.is_none() {
                                    g.first = Some(s.clone());
                                }
                                g.counters.push((s.at_ms, s.commands));
                                if let Some(sample) =
                                    prev.as_ref().and_then(|p| info::sample(p, &s))
                                {
                                    g.samples.push(sample);
                                }
                            }
                            prev = Some(s);
                        }
                        Err(e) => {
                            failures += 1;
                            tracing::debug!("INFO sample failed (attempt {failures}): {e:#}");
                            if failures >= FAILURES_TO_DOWN {
                                if let Ok(mut g) = seen.lock() {
                                    g.down = Some(format!(
                                        "the server stopped answering (no INFO for {failures} s: {e:#})"
                                    ));
                                }
                                server_down.cancel();
                                break;
                            }
                        }
                    }
                }
            })
        };
        Self {
            seen,
            server_down,
            stop,
            ready,
            task,
        }
    }

    /// Wait until the first snapshot was taken (the baseline the first sample is measured from),
    /// so that the load starts after it.
    pub async fn ready(&self) {
        self.ready.cancelled().await;
    }

    /// The latest sample's value of a metric.
    pub fn latest(&self, metric: &str) -> Option<f64> {
        self.seen
            .lock()
            .ok()?
            .samples
            .last()?
            .values
            .get(metric)
            .copied()
    }

    /// Stop and return everything seen.
    pub async fn finish(self) -> Seen {
        self.stop.cancel();
        let _ = self.task.await;
        Arc::try_unwrap(self.seen)
            .ok()
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default()
    }
}
