//! The `run` command: validate inputs, run the target, merge, write every output locally (results
//! first, so nothing is lost), and say how it went.

mod aws;
pub mod cancel;
pub mod cleanup;
pub mod command;
pub mod gate;
pub mod hint;
pub mod matrix;
pub mod post;
pub mod settings;
/// The run's timeline lives beside the results' phases.
pub use crate::results::timeline;

use tokio_util::sync::CancellationToken;

use crate::config::{Config, RunInputs, Target};
use crate::error::InputError;
use crate::local::info::commands_per_sec_between;
use crate::outcome::Outcome;
use crate::results::{self, BuildOptions, RunResult, RunStatus};
use timeline::Timeline;

pub use crate::clock::new_run_id;

/// How close the clients' and the server's counts of operations must be before a note says so.
const AGREEMENT_WARN_PCT: f64 = 3.0;

/// Run the benchmark: one result, or one per workload of a matrix.
pub async fn run(inputs: &RunInputs) -> anyhow::Result<(Vec<RunResult>, Outcome)> {
    let mut tl = Timeline::default();
    tl.phase("validate");
    let mut inputs = inputs.clone();
    inputs.fill_region(|k| std::env::var(k).ok());
    let s = settings::Settings::from_inputs(&inputs)?;
    let cfg = &s.config;
    let run_id = cfg.run_id.clone().unwrap_or_else(new_run_id);
    tracing::info!(
        "run {run_id}: {} for {} s",
        cfg.engine.as_str(),
        cfg.duration.as_secs()
    );
    let signals = cancel::install()?;
    tokio::select! {
        biased;
        () = signals.abandon.cancelled() => {
            if cfg.target == Target::Aws {
                tracing::warn!(
                    "run {run_id} abandoned: what it created and has not deleted yet is in its \
                     ledger; the action's post step or `elasticache-perf cleanup --run-id {run_id}` \
                     deletes it"
                );
            }
            Ok((Vec::new(), Outcome::Interrupted))
        }
        r = run_target(&s, &run_id, signals.stop.clone(), tl) => r,
    }
}

/// The run after its inputs were read: the target's own pipeline, stopped by `cancel`.
async fn run_target(
    s: &settings::Settings,
    run_id: &str,
    cancel: CancellationToken,
    mut tl: Timeline,
) -> anyhow::Result<(Vec<RunResult>, Outcome)> {
    let cfg = &s.config;
    let out_dir = cfg.output_dir.clone();
    std::fs::create_dir_all(&out_dir).map_err(|e| {
        InputError::new(format!(
            "input 'output_dir': cannot create folder '{}': {e}",
            out_dir.display()
        ))
    })?;

    if cfg.target == Target::Aws {
        return aws::run(s, run_id, &out_dir, &cancel, tl).await;
    }
    if let Some(ws) = &s.workloads {
        return matrix::run_local(s, ws, run_id, &out_dir, cancel, tl).await;
    }
    let local = crate::local::run(cfg, run_id, &out_dir, cancel.clone(), &mut tl).await?;
    tl.phase("merge");
    let mut result = local_result(cfg, run_id, &local);
    tl.phase("export");
    crate::files::write_all(&mut result, &out_dir, run_id, &local.log, tl.finish())?;
    let outcome = local_outcome(&local, &result);
    let (comparison, outcome) = gate::gate_and_record(&result, &out_dir, &s.gate, outcome).await?;
    let report = crate::github::Report {
        result: &result,
        out_dir: &out_dir,
        outcome,
        gate: comparison.as_ref(),
        exported: None,
    };
    crate::github::publish(&report, &s.github, None).await?;
    Ok((vec![result], outcome))
}

/// How a local run's result ends, before the gate.
fn local_outcome(local: &crate::local::LocalOutcome, result: &RunResult) -> Outcome {
    if local.interrupted {
        Outcome::Interrupted
    } else if local.failure.is_some() || result.status == RunStatus::Failed {
        Outcome::RunFailed
    } else {
        Outcome::Ok
    }
}

/// The merged result of a local run's outcome, with the run's details and notes.
fn local_result(cfg: &Config, run_id: &str, local: &crate::local::LocalOutcome) -> RunResult {
    let mut result = results::build(
        &local.judged,
        &BuildOptions {
            target: "local".into(),
            run_id: Some(run_id.to_string()),
            window: cfg.window,
        },
    );
    let d = &mut result.run.details;
    d.engine = Some(cfg.engine.as_str().to_string());
    d.engine_version.clone_from(&local.engine_version);
    d.load_generator = Some(local.loadgen.clone());
    d.command = Some(local.command.clone());
    d.test_duration_secs = Some(cfg.duration.as_secs_f64());
    d.prefill = Some(cfg.prefill);
    if let (Some(w0), Some(w1)) = (
        result.steady_state.window.start_unix_ms,
        result.steady_state.window.end_unix_ms,
    ) {
        if let (Some(server_ops), Some(client_ops)) = (
            commands_per_sec_between(&local.server_counters, w0, w1),
            result.steady_state.total.ops_per_sec,
        ) {
            let diff_pct = if server_ops > 0.0 {
                (client_ops - server_ops) / server_ops * 100.0
            } else {
                0.0
            };
            d.server_ops_per_sec_in_window = Some((server_ops * 100.0).round() / 100.0);
            d.client_vs_server_ops_pct = Some((diff_pct * 100.0).round() / 100.0);
            if diff_pct.abs() > AGREEMENT_WARN_PCT {
                result.notes.push(format!(
                    "the load generators counted {client_ops:.0} ops/s in the window, the server {server_ops:.0} ({diff_pct:+.1} %)"
                ));
            }
        }
    }
    result.server = Some(local.server.clone());
    if let Some(f) = &local.failure {
        result.status = RunStatus::Failed;
        result.notes.insert(
            0,
            format!("run failed: {f}; what was measured before is kept"),
        );
    }
    if local.interrupted {
        result.notes.insert(
            0,
            "interrupted by a signal: results cover the part that ran".into(),
        );
    }
    result
}
