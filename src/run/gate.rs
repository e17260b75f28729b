//! The end of every run: the regression gate against the baseline the inputs name (written as
//! `gate.json` and `gate.md` beside the results, so they are exported and published with it; the
//! baseline drawn over `chart.png`, the history's trend as `trend.png`) and the run stored in the
//! history. Decides the final outcome.

use std::path::Path;

use anyhow::Context as _;

use crate::aws::s3_history::S3Buckets;
use crate::config::RunInputs;
use crate::error::InputError;
use crate::gate::{self, Comparison, GateConfig};
use crate::history::{self, HistoryLocation};
use crate::outcome::Outcome;
use crate::results::{RunResult, RunStatus};

/// The gate's configuration from the run's inputs; bad input before anything starts.
pub fn config(inputs: &RunInputs) -> anyhow::Result<GateConfig> {
    let cfg = GateConfig::from_inputs(&inputs.gate).map_err(InputError::from)?;
    if let Some(b) = cfg.baseline.as_deref() {
        if let history::BaselineSource::Path(p) = history::BaselineSource::parse(b)? {
            if !p.exists() {
                return Err(InputError::new(format!(
                    "input 'baseline' names '{}', which does not exist (give a results.json, a folder of them, an s3:// URI or 'history')",
                    p.display()
                ))
                .into());
            }
            if p.is_file() {
                // Read it now: a broken baseline should fail before the run, not after it.
                history::read_results(&p, "baseline")?;
            }
        }
    }
    Ok(cfg)
}

/// Where history lives for this run: the export bucket on AWS, else the local `history_dir`.
pub fn location(inputs: &RunInputs) -> HistoryLocation {
    let bucket = (inputs.target.trim() == "aws")
        .then(|| inputs.metrics_export_s3_bucket.clone())
        .flatten()
        .filter(|b| !b.trim().is_empty());
    HistoryLocation {
        bucket,
        dir: inputs
            .history_dir
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from),
    }
}

/// The gate's settings and the history's place, parsed once from the inputs.
#[derive(Clone, Debug)]
pub struct GateSettings {
    /// The gate's configuration.
    pub cfg: GateConfig,
    /// Where the history is.
    pub loc: HistoryLocation,
}

/// The gate's settings from the run's inputs (the baseline file read and checked); bad input
/// before anything starts.
pub fn settings(inputs: &RunInputs) -> anyhow::Result<GateSettings> {
    Ok(GateSettings {
        cfg: config(inputs)?,
        loc: location(inputs),
    })
}

/// Gate a finished run against its baseline (when one is named) and store it in the history;
/// returns the comparison and the outcome the process exits with. Failed or interrupted runs are
/// neither gated nor stored.
pub async fn gate_and_record(
    result: &RunResult,
    out_dir: &Path,
    s: &GateSettings,
    outcome: Outcome,
) -> anyhow::Result<(Option<Comparison>, Outcome)> {
    let gated = gate(result, out_dir, s, outcome).await?;
    if outcome == Outcome::Ok && result.status != RunStatus::Failed {
        record(result, &s.loc).await;
    }
    Ok(gated)
}

/// Gate a run against its baseline, when one is named, writing `gate.json`, `gate.md` and the
/// pictures beside the results; returns the comparison and the outcome the process exits with.
/// Failed or interrupted runs are not gated.
pub async fn gate(
    result: &RunResult,
    out_dir: &Path,
    s: &GateSettings,
    outcome: Outcome,
) -> anyhow::Result<(Option<Comparison>, Outcome)> {
    let (cfg, loc) = (&s.cfg, &s.loc);
    if outcome != Outcome::Ok || result.status == RunStatus::Failed {
        return Ok((None, outcome));
    }
    let Some(c) = history::gate_run(result, cfg, loc, &S3Buckets)
        .await
        .context("gating against the baseline")?
    else {
        return Ok((None, outcome));
    };
    write(out_dir, &c)?;
    redraw(result, out_dir, &c);
    tracing::info!("{}", gate::verdict_line(&c));
    let gated = crate::compare::outcome(&c, cfg);
    Ok((Some(c), gated))
}

/// Store a finished run in the history. A history write that fails is a warning: the run itself
/// is fine and written locally.
pub async fn record(result: &RunResult, loc: &HistoryLocation) {
    match history::record_run(result, &history::stored_branch(), loc, &S3Buckets).await {
        Ok(Some(at)) => tracing::info!("stored in the history: {at}"),
        Ok(None) => {}
        Err(e) => tracing::warn!("could not store the run in the history: {e:#}"),
    }
}

/// Draw the comparison's pictures (again, after the reports were rewritten): the baseline over
/// `chart.png`, and `trend.png`. The pictures are for people; the verdict stands without them.
pub fn redraw(result: &RunResult, out_dir: &Path, c: &Comparison) {
    if let Err(e) = draw(result, out_dir, c) {
        tracing::warn!("{e:#}");
    }
}

fn write(out_dir: &Path, c: &Comparison) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(c).context("serialising the comparison")?;
    for (name, bytes) in [
        ("gate.json", json),
        ("gate.md", gate::markdown_section(c).into_bytes()),
    ] {
        let p = out_dir.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("writing '{}'", p.display()))?;
    }
    Ok(())
}

/// Redraw `chart.png` with the baseline over it, and draw `trend.png` when there is a trend.
fn draw(result: &RunResult, out_dir: &Path, c: &Comparison) -> anyhow::Result<()> {
    use crate::report::{chart, trend_chart};
    let mut files = Vec::new();
    if let Some(overlay) = chart::BaselineOverlay::of(c) {
        let png = chart::render_png_with_baseline(result, chart::DEFAULT_SIZE, Some(&overlay))
            .context("drawing the baseline over chart.png")?;
        files.push(("chart.png", png));
    }
    if let Some(png) = trend_chart::of_comparison(c) {
        files.push(("trend.png", png.context("drawing trend.png")?));
    }
    for (name, bytes) in files {
        let p = out_dir.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("writing '{}'", p.display()))?;
    }
    Ok(())
}
