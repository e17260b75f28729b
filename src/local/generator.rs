//! Which load generator a local run's tasks are, and how each is set up: memtier_benchmark's
//! command line or the built-in generator's settings (with its description in memtier's terms for
//! the reports), and a distinct key seed per task.

use std::time::Duration;

use super::memtier_proc;
use crate::config::{Config, Endpoint, LoadgenChoice, Workload};
use crate::error::InputError;
use crate::loadgen::{LoadgenConfig, Stop};
use crate::memtier::command::{MemtierCommand, Mode};

/// How long a connection to the server may take (the run's control connection and each built-in
/// load generator's).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The memtier invocation for an endpoint (plain TCP on the local target).
pub(super) fn memtier_command<'a>(
    ep: &'a Endpoint,
    w: &'a Workload,
    mode: Mode,
    out_prefix: &'a str,
) -> MemtierCommand<'a> {
    MemtierCommand {
        host: &ep.host,
        port: ep.port,
        username: ep.username.as_deref(),
        password: ep.password.as_ref(),
        tls: false,
        workload: w,
        mode,
        out_prefix,
    }
}

/// The built-in generator's settings in memtier's terms, for reports.
pub(super) fn builtin_description(cfg: &Config, ep: &Endpoint, secs: u64) -> String {
    let w = &cfg.workload;
    format!(
        "builtin --server={} --port={}{} --threads={} --clients={} --pipeline={} --ratio={}:{} --key-pattern={}:{} \
         --key-minimum={} --key-maximum={} --key-prefix={} --data-size={} --test-time={secs}",
        ep.host,
        ep.port,
        if ep.password.is_some() { " --authenticate=***" } else { "" },
        w.threads,
        w.clients,
        w.pipeline,
        w.ratio_set,
        w.ratio_get,
        w.key_pattern_set.letter(),
        w.key_pattern_get.letter(),
        w.key_minimum,
        w.key_maximum,
        w.key_prefix,
        w.data_size
    )
}

/// The built-in generator's settings for one task.
pub(super) fn builtin_config(
    cfg: &Config,
    ep: &Endpoint,
    id: String,
    seed: u64,
    stop: Stop,
) -> LoadgenConfig {
    let w = &cfg.workload;
    LoadgenConfig {
        id,
        host: ep.host.clone(),
        port: ep.port,
        username: ep.username.clone(),
        password: ep.password.as_ref().map(|p| p.expose().to_string()),
        workload: w.clone(),
        stop,
        connect_timeout: CONNECT_TIMEOUT,
        seed,
    }
}

/// A seed per run and task, so tasks do not send identical key sequences (memtier's
/// `--distinct-client-seed`).
pub(super) fn seed(run_id: &str, task: u32) -> u64 {
    run_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        .wrapping_add(u64::from(task).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Whether the tasks run memtier_benchmark (asked for and on PATH, or on PATH with `auto`) rather
/// than the built-in load generator.
pub(super) fn use_memtier(cfg: &Config) -> anyhow::Result<bool> {
    let use_memtier = match cfg.loadgen {
        LoadgenChoice::Memtier => {
            if !memtier_proc::available() {
                return Err(InputError::new(
                    "input 'loadgen' is 'memtier' but memtier_benchmark is not on PATH; install it or use 'builtin'",
                )
                .into());
            }
            true
        }
        LoadgenChoice::Builtin => false,
        LoadgenChoice::Auto => memtier_proc::available(),
    };
    Ok(use_memtier)
}
