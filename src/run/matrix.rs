//! A run with a workload matrix (input `workloads`): the workloads run one after another on one
//! server; each gets its own folder `{output_dir}/{name}/` with the usual files, its own profile,
//! history and verdict; the matrix gets a top-level `summary.md`, `chart.png` and `matrix.json`,
//! one PR comment, and the worst verdict. When the matrix ends early, the workloads it never
//! started are still listed, each `not_run` with the reason.

use std::path::Path;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::settings::Settings;
use super::{gate, timeline::Timeline};
use crate::config::matrix::NamedWorkload;
use crate::gate::Comparison;
use crate::outcome::Outcome;
use crate::report::matrix::{Entry, Matrix};
use crate::results::RunResult;

/// One workload's finished result.
pub(super) struct Done {
    /// Its name.
    pub name: String,
    /// Its merged result.
    pub result: RunResult,
    /// Its comparison with its baseline.
    pub comparison: Option<Comparison>,
    /// How it ended.
    pub outcome: Outcome,
}

/// Gate a workload's written result, and store it in its history when it went well.
pub(super) async fn gate_workload(
    s: &Settings,
    w: &NamedWorkload,
    result: &RunResult,
    dir: &Path,
    outcome: Outcome,
) -> anyhow::Result<Done> {
    let (comparison, gated) = gate::gate(result, dir, &s.gate, outcome)
        .await
        .with_context(|| format!("gating workload '{}'", w.name))?;
    if outcome == Outcome::Ok {
        gate::record(result, &s.gate.loc).await;
    }
    Ok(Done {
        name: w.name.clone(),
        result: result.clone(),
        comparison,
        outcome: gated,
    })
}

/// The matrix's outcome: interrupted, else failed when any workload failed, else a regression
/// when any regressed, else the gate's worst.
pub(super) fn outcome_of(done: &[Done], expected: usize, interrupted: bool) -> Outcome {
    let all = done.iter().map(|d| d.outcome);
    if interrupted || all.clone().any(|o| o == Outcome::Interrupted) {
        Outcome::Interrupted
    } else if done.len() < expected || all.clone().any(|o| o == Outcome::RunFailed) {
        Outcome::RunFailed
    } else if all.clone().any(|o| o == Outcome::Regression) {
        Outcome::Regression
    } else if all.clone().any(|o| o == Outcome::BadInput) {
        Outcome::BadInput
    } else {
        Outcome::Ok
    }
}

/// The matrix's entries: every workload of `all`, in its order — the result of each one `done`,
/// and each other one as not run, `why_not` saying why.
pub(super) fn entries(all: &[NamedWorkload], done: &[Done], why_not: &str) -> Vec<Entry> {
    all.iter()
        .map(|w| match done.iter().find(|d| d.name == w.name) {
            Some(d) => {
                let verdict = d
                    .comparison
                    .as_ref()
                    .map_or(crate::github::outputs::NO_VERDICT, |c| c.verdict.as_str());
                Entry::of(&d.name, &d.result, verdict)
            }
            None => Entry::not_run(&w.name, why_not),
        })
        .collect()
}

/// Write the matrix's own files (`matrix.json`, `summary.md`, `chart.png`) into `out_dir`, and
/// return the matrix with each workload's summary for publishing. `all` is every workload the
/// inputs named; those not `done` are listed as not run, `why_not` saying why.
pub(super) fn write_matrix(
    run_id: &str,
    all: &[NamedWorkload],
    done: &[Done],
    why_not: &str,
    out_dir: &Path,
) -> anyhow::Result<(Matrix, Vec<(String, String)>)> {
    let entries = entries(all, done, why_not);
    let not_run = all.len().saturating_sub(done.len());
    if not_run > 0 {
        tracing::error!("{not_run} workload(s) of the matrix did not run: {why_not}");
    }
    let m = Matrix::new(run_id, entries);
    let json = serde_json::to_vec_pretty(&m).context("serialising matrix.json")?;
    let chart = m.chart_png().context("drawing the matrix's chart.png")?;
    for (name, bytes) in [
        ("matrix.json", json),
        ("summary.md", m.markdown().into_bytes()),
        ("chart.png", chart),
    ] {
        let p = out_dir.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("writing '{}'", p.display()))?;
    }
    let summaries = done
        .iter()
        .map(|d| {
            let mut md = crate::report::markdown::render(&d.result);
            if let Some(c) = &d.comparison {
                md.push_str("\n\n");
                md.push_str(&crate::gate::markdown_section(c));
            }
            (d.name.clone(), md)
        })
        .collect();
    tracing::info!(
        "matrix of {} workloads: verdict {}; {}",
        m.workloads.len(),
        m.verdict,
        out_dir.join("summary.md").display()
    );
    Ok((m, summaries))
}

/// Run a matrix on the local target: one server, the workloads one after another.
pub(super) async fn run_local(
    s: &Settings,
    ws: &[NamedWorkload],
    run_id: &str,
    out_dir: &Path,
    cancel: CancellationToken,
    mut tl: Timeline,
) -> anyhow::Result<(Vec<RunResult>, Outcome)> {
    let list: Vec<crate::local::LocalWorkload<'_>> = ws
        .iter()
        .map(|w| (Some(w.name.as_str()), &w.config))
        .collect();
    let (locals, failed) = crate::local::run_matrix(
        &list,
        s.flush_between,
        run_id,
        out_dir,
        cancel.clone(),
        &mut tl,
    )
    .await?;
    tl.phase("export");
    let phases = tl.finish();
    let mut done = Vec::with_capacity(locals.len());
    for (w, local) in ws.iter().zip(&locals) {
        let dir = out_dir.join(&w.name);
        let mut result = super::local_result(&w.config, run_id, local);
        result.run.details.workload_name = Some(w.name.clone());
        crate::files::write_all(&mut result, &dir, run_id, &local.log, phases.clone())?;
        let outcome = super::local_outcome(local, &result);
        done.push(gate_workload(s, w, &result, &dir, outcome).await?);
    }
    let interrupted = cancel.is_cancelled();
    let outcome = outcome_of(&done, ws.len(), interrupted);
    let why_not = match &failed {
        Some(e) => format!("{e:#}"),
        None if interrupted => "interrupted".to_string(),
        None => "the matrix ended before it".to_string(),
    };
    let (m, summaries) = write_matrix(run_id, ws, &done, &why_not, out_dir)?;
    crate::github::publish_matrix(
        &crate::github::MatrixReport {
            matrix: &m,
            summaries,
            out_dir,
            outcome,
            exported: None,
        },
        &s.github,
        None,
    )
    .await?;
    if let Some(e) = failed {
        // The matrix is written and published; the run fails as it did before.
        return Err(e);
    }
    Ok((done.into_iter().map(|d| d.result).collect(), outcome))
}
