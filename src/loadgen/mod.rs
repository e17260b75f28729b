//! The built-in load generator: a closed-loop RESP2 client on tokio that measures SET/GET latency
//! into per-second HDR histograms and returns a [`ClientResult`] that merges exactly with memtier's.
//!
//! A run opens `threads × clients` connections first (AUTH included, so a wrong password fails fast
//! before any load), then starts the clock and lets every connection keep `pipeline` requests in
//! flight until the deadline, the request count, a broken connection or a cancel.

mod assemble;
pub mod command;
pub mod config;
mod conn;
mod error;
pub mod keys;
mod recorder;
pub mod resp;
pub mod verdict;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::ClientResult;
pub use crate::config::{parse_key_pattern, parse_ratio};
use crate::stats::percentile::{us_to_ms, value_at_percentile_us};
pub use config::{ConfigError, LoadgenConfig, Stop};
pub use error::LoadgenError;
pub use keys::KeyPattern;
use recorder::{ConnRecorder, ErrorTally, Shared};

/// A progress report, sent about once a second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Seconds since the measured run started.
    pub elapsed_secs: f64,
    /// Operations completed so far.
    pub ops: u64,
    /// Operations per second over the last report interval.
    pub ops_per_sec_last: f64,
    /// p99 latency of everything merged so far (lags up to a second), in ms.
    pub p99_ms_so_far: Option<f64>,
}

/// Run the generator against `cfg.host:cfg.port` on the caller's (multi-threaded) runtime.
///
/// Returns `Err` only when the run cannot start: invalid settings ([`LoadgenError::Config`]), an
/// unresolvable host, no connection at all ([`LoadgenError::Connect`]) or refused credentials
/// ([`LoadgenError::AuthFailed`]). Everything after the start is measured: error replies and broken
/// connections are counted in `errors`, and a cancel returns what was measured with
/// `interrupted = true`.
pub async fn run(
    cfg: &LoadgenConfig,
    cancel: CancellationToken,
    progress: Option<watch::Sender<Progress>>,
) -> anyhow::Result<ClientResult> {
    cfg.validate().map_err(LoadgenError::from)?;
    let addr = resolve(cfg).await?;
    let total = cfg.connections();

    let mut errors = ErrorTally::default();
    let streams = tokio::select! {
        r = connect_all(cfg, addr, &mut errors) => r?,
        () = cancel.cancelled() => {
            let facts = assemble::RunFacts {
                start_ms: unix_ms(SystemTime::now()),
                duration: Duration::ZERO,
                interrupted: true,
                notes: vec!["cancelled while connecting: nothing was measured".into()],
            };
            let agg = Shared::new().aggregate.into_inner().unwrap_or_else(|p| p.into_inner());
            return Ok(assemble::assemble(cfg, agg, facts));
        }
    };
    let mut notes = Vec::new();
    if streams.len() as u64 != total {
        notes.push(format!(
            "only {} of {total} connections could be opened; the load is lower than configured",
            streams.len()
        ));
    }

    let start = Instant::now();
    let start_ms = unix_ms(SystemTime::now());
    let plan = Arc::new(conn::Plan::new(cfg, start));
    let shared = Arc::new(Shared::new());
    shared.add_errors(&mut errors);
    let mut tasks = JoinSet::new();
    for (index, stream) in streams {
        let plan = Arc::clone(&plan);
        let mut rec = ConnRecorder::new(start, Arc::clone(&shared));
        let token = cancel.child_token();
        tasks.spawn(async move {
            let ended = conn::drive(stream, plan, index, &mut rec, token).await;
            rec.finish();
            ended
        });
    }
    let ticker_stop = CancellationToken::new();
    let ticker = progress.map(|tx| {
        tokio::spawn(report_progress(
            tx,
            Arc::clone(&shared),
            start,
            ticker_stop.clone(),
        ))
    });

    let mut panicked = 0u64;
    while let Some(joined) = tasks.join_next().await {
        if joined.is_err() {
            panicked += 1;
        }
    }
    let duration = start.elapsed();
    ticker_stop.cancel();
    if let Some(t) = ticker {
        let _ = t.await;
    }
    if panicked > 0 {
        notes.push(format!(
            "{panicked} connection task(s) panicked; their current second is lost"
        ));
    }
    let shared = Arc::try_unwrap(shared)
        .map_err(|_| anyhow::anyhow!("internal error: a connection outlived the run"))?;
    let agg = shared
        .aggregate
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let facts = assemble::RunFacts {
        start_ms,
        duration,
        interrupted: cancel.is_cancelled(),
        notes,
    };
    Ok(assemble::assemble(cfg, agg, facts))
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn resolve(cfg: &LoadgenConfig) -> Result<SocketAddr, LoadgenError> {
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let found = tokio::net::lookup_host(addr.as_str()).await;
    match found.map(|mut it| it.next()) {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(LoadgenError::Resolve {
            addr,
            reason: "no address found".into(),
        }),
        Err(e) => Err(LoadgenError::Resolve {
            addr,
            reason: e.to_string(),
        }),
    }
}

/// Open every connection concurrently. The first refused AUTH ends the whole attempt (a wrong
/// password must fail fast); other failures are counted, and only all of them failing is an error.
async fn connect_all(
    cfg: &LoadgenConfig,
    addr: SocketAddr,
    errors: &mut ErrorTally,
) -> Result<Vec<(u64, TcpStream)>, LoadgenError> {
    let total = cfg.connections();
    let shared_cfg = Arc::new(cfg.clone());
    let mut opening = JoinSet::new();
    for index in 0..total {
        let c = Arc::clone(&shared_cfg);
        opening.spawn(async move { (index, conn::open(addr, &c).await) });
    }
    let mut streams = Vec::with_capacity(opening.len());
    let mut first: Option<conn::OpenError> = None;
    while let Some(joined) = opening.join_next().await {
        let Ok((index, result)) = joined else {
            continue;
        };
        match result {
            Ok(s) => streams.push((index, s)),
            Err(e) if e.kind == "auth_failed" => {
                // Dropping the JoinSet aborts the connections still opening.
                return Err(LoadgenError::AuthFailed {
                    addr: addr.to_string(),
                    reason: e.message,
                });
            }
            Err(e) => {
                errors.add(e.kind, || e.message.clone());
                first.get_or_insert(e);
            }
        }
    }
    if streams.is_empty() {
        let (kind, reason) = first.map_or(("connection_error", "unknown".to_string()), |e| {
            (e.kind, e.message)
        });
        return Err(LoadgenError::Connect {
            addr: addr.to_string(),
            kind,
            reason,
            total,
        });
    }
    streams.sort_unstable_by_key(|(i, _)| *i);
    Ok(streams)
}

async fn report_progress(
    tx: watch::Sender<Progress>,
    shared: Arc<Shared>,
    start: Instant,
    stop: CancellationToken,
) {
    let mut interval =
        tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let mut last = (start, 0u64);
    loop {
        let now = tokio::select! {
            () = stop.cancelled() => return,
            t = interval.tick() => t,
        };
        let ops = shared.ops.load(Ordering::Relaxed);
        let dt = now.saturating_duration_since(last.0).as_secs_f64();
        let p99 = shared
            .aggregate
            .lock()
            .ok()
            .and_then(|a| value_at_percentile_us(&a.total, 99.0))
            .map(us_to_ms);
        tx.send_replace(Progress {
            elapsed_secs: now.saturating_duration_since(start).as_secs_f64(),
            ops,
            ops_per_sec_last: if dt > 0.0 {
                (ops - last.1) as f64 / dt
            } else {
                0.0
            },
            p99_ms_so_far: p99,
        });
        last = (now, ops);
    }
}
