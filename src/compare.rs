//! The `compare` command: read the current results.json and the baseline, gate, print the verdict
//! and write it (and the chart and trend pictures) where asked. Exit codes are decided from the
//! returned [`Outcome`].

use std::path::Path;

use anyhow::Context as _;

use crate::aws::s3_history::S3Buckets;
use crate::cli::{CompareArgs, CompareFormat};
use crate::error::InputError;
use crate::gate::{self, Comparison, GateConfig};
use crate::history::{self, HistoryLocation};
use crate::outcome::Outcome;
use crate::report::{chart, trend_chart};

/// The outcome of a comparison under `cfg`: a profile mismatch that was not compared is bad input
/// (2), a regression fails (1) when `fail_on_regression`, anything else passes — inconclusive
/// included, because noise is not a failure.
pub fn outcome(c: &Comparison, cfg: &GateConfig) -> Outcome {
    if c.is_profile_mismatch() {
        Outcome::BadInput
    } else if c.is_regression() && cfg.fail_on_regression {
        Outcome::Regression
    } else {
        Outcome::Ok
    }
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating '{}'", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing '{}'", path.display()))
}

/// Run `compare`: returns the comparison, what to print, and the outcome.
pub fn run_compare(args: &CompareArgs) -> anyhow::Result<(Comparison, String, Outcome)> {
    let cfg = GateConfig::from_inputs(&args.gate).map_err(|e| InputError::new(e.to_string()))?;
    let current = history::read_results(&args.current, "current")?;
    let location = HistoryLocation {
        bucket: args
            .history
            .metrics_export_s3_bucket
            .clone()
            .filter(|b| !b.trim().is_empty()),
        dir: args.history.history_dir.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let baseline = rt.block_on(history::load_baseline(
        &current, &cfg, &location, &S3Buckets,
    ))?;
    let c = gate::compare(&current, &baseline, &cfg);
    if let Some(p) = &args.json_out {
        let json = serde_json::to_vec_pretty(&c).context("serialising the comparison")?;
        write(p, &json)?;
    }
    if let Some(p) = &args.markdown_out {
        write(p, gate::markdown_section(&c).as_bytes())?;
    }
    if let Some(p) = &args.chart_out {
        let overlay = chart::BaselineOverlay::of(&c);
        let png = chart::render_png_with_baseline(&current, chart::DEFAULT_SIZE, overlay.as_ref())
            .context("drawing the chart")?;
        write(p, &png)?;
    }
    if let Some(p) = &args.trend_out {
        match trend_chart::of_comparison(&c) {
            Some(png) => write(p, &png.context("drawing the trend")?)?,
            None => tracing::warn!(
                "no trend to draw into '{}': the baseline is a single run",
                p.display()
            ),
        }
    }
    let shown = match args.format {
        CompareFormat::Text => gate::text(&c),
        CompareFormat::Markdown => gate::markdown_section(&c),
        CompareFormat::Json => {
            serde_json::to_string_pretty(&c).context("serialising the comparison")? + "\n"
        }
    };
    let o = outcome(&c, &cfg);
    Ok((c, shown, o))
}
