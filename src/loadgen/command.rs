//! The hidden `loadgen` subcommand: flags → [`LoadgenConfig`], a runtime with one worker per
//! thread, Ctrl-C → cancel, one summary line on stdout and optionally `results.json`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::config::{LoadgenConfig, Stop};
use super::{verdict, LoadgenError, Progress};
use crate::client::TaskStatus;
use crate::config::{parse_key_pattern, parse_ratio};
use crate::error::InputError;
use crate::outcome::Outcome;
use crate::results::{self, BuildOptions};
use crate::stats::percentile::{us_to_ms, value_at_percentile_us};
use crate::stats::window::WindowSpec;

/// `loadgen` flags (memtier's names and defaults, except a 10 s run by default). No `env`: this
/// developer tool must not pick up a workflow's `INPUT_*` values by accident.
#[derive(Debug, Args)]
pub struct LoadgenArgs {
    /// Server host.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 6379)]
    pub port: u16,
    /// Threads (one runtime worker each).
    #[arg(long, default_value_t = 4)]
    pub threads: u32,
    /// Connections per thread.
    #[arg(long, default_value_t = 50)]
    pub clients: u32,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1)]
    pub pipeline: u32,
    /// SET:GET ratio.
    #[arg(long, default_value = "1:10")]
    pub ratio: String,
    /// Key pattern SET:GET (R, S, P, G).
    #[arg(long, default_value = "R:R")]
    pub key_pattern: String,
    /// Lowest key index.
    #[arg(long, default_value_t = 0)]
    pub key_minimum: u64,
    /// Highest key index.
    #[arg(long, default_value_t = 10_000_000)]
    pub key_maximum: u64,
    /// Key prefix.
    #[arg(long, default_value = "memtier-")]
    pub key_prefix: String,
    /// Value size in bytes.
    #[arg(long, default_value_t = 32)]
    pub data_size: usize,
    /// Seconds to run (default 10 unless --requests is given).
    #[arg(long, value_name = "SECS", conflicts_with = "requests")]
    pub test_time: Option<u64>,
    /// Requests per connection instead of a duration.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// ACL user name (needs --password-env).
    #[arg(long)]
    pub user: Option<String>,
    /// Name of the environment variable holding the password (never pass it on the command line).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Seconds allowed for connecting and for the AUTH reply.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub connect_timeout: u64,
    /// Seed of the key choice.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    /// Write results.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Turn the flags into a validated config.
pub fn config_from_args(a: &LoadgenArgs) -> Result<LoadgenConfig, InputError> {
    let bad = InputError::from;
    let (ratio_set, ratio_get) = parse_ratio(&a.ratio).map_err(bad)?;
    let (key_pattern_set, key_pattern_get) = parse_key_pattern(&a.key_pattern).map_err(bad)?;
    let password = match &a.password_env {
        None => None,
        Some(var) => Some(std::env::var(var).map_err(|_| {
            InputError::new(format!(
                "input 'password_env' names '{var}', which is not set (or not UTF-8); export it first"
            ))
        })?),
    };
    let stop = match (a.test_time, a.requests) {
        (_, Some(n)) => Stop::Requests(n),
        (Some(t), None) => Stop::Duration(Duration::from_secs(t)),
        (None, None) => Stop::Duration(Duration::from_secs(10)),
    };
    let cfg = LoadgenConfig {
        id: "builtin-1".into(),
        host: a.host.clone(),
        port: a.port,
        username: a.user.clone(),
        password,
        workload: crate::workload::Workload {
            threads: a.threads,
            clients: a.clients,
            pipeline: a.pipeline,
            ratio_set,
            ratio_get,
            key_pattern_set,
            key_pattern_get,
            key_minimum: a.key_minimum,
            key_maximum: a.key_maximum,
            key_prefix: a.key_prefix.clone(),
            data_size: u32::try_from(a.data_size).unwrap_or(u32::MAX),
        },
        stop,
        connect_timeout: Duration::from_secs(a.connect_timeout),
        seed: a.seed,
    };
    cfg.validate().map_err(bad)?;
    Ok(cfg)
}

/// Run the subcommand.
pub fn run_command(a: &LoadgenArgs) -> anyhow::Result<Outcome> {
    let cfg = config_from_args(a)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.workload.threads as usize)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.cancel();
            }
        });
        let (tx, mut rx) = tokio::sync::watch::channel(Progress::default());
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let p = rx.borrow_and_update().clone();
                tracing::debug!(
                    "{:.0} s: {} ops, {:.0} ops/s, p99 so far {:?} ms",
                    p.elapsed_secs,
                    p.ops,
                    p.ops_per_sec_last,
                    p.p99_ms_so_far
                );
            }
        });
        super::run(&cfg, cancel, Some(tx)).await
    });
    let result = result.map_err(|e| match e.downcast::<LoadgenError>() {
        Ok(LoadgenError::Config(c)) => InputError::new(c.to_string()).into(),
        Ok(other) => anyhow::Error::new(other),
        Err(e) => e,
    })?;

    let t = &result.totals;
    let pct = |p| {
        t.histogram
            .as_ref()
            .and_then(|h| value_at_percentile_us(h, p))
            .map_or_else(|| "n/a".to_string(), |us| format!("{:.3}", us_to_ms(us)))
    };
    let errors: u64 = result.errors.iter().map(|e| e.count).sum();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "ops_per_sec={:.2} p50_ms={} p99_ms={} count={} errors={errors}{}",
            t.ops_per_sec,
            pct(50.0),
            pct(99.0),
            t.count,
            if result.interrupted {
                " interrupted"
            } else {
                ""
            }
        );
    }
    for e in &result.errors {
        tracing::warn!("{} × {}: {}", e.count, e.kind, e.example);
    }
    let judged = verdict::judge(result);
    let outcome = if judged.status == TaskStatus::Failed {
        Outcome::RunFailed
    } else {
        Outcome::Ok
    };
    if let Some(dir) = &a.out {
        let doc = results::build(
            &[judged],
            &BuildOptions {
                target: "loadgen".into(),
                run_id: None,
                window: WindowSpec::default(),
            },
        );
        let path = crate::files::write_results(&doc, dir)?;
        tracing::info!("results: {}", path.display());
    }
    Ok(outcome)
}
