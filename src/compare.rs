//! The `compare` command: read the current results.json and the baseline, gate, print the verdict
//! and write it (and the chart and trend pictures) where asked. Exit codes are decided from the
//! returned [`Outcome`].

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::aws::s3_history::S3Buckets;
use crate::error::InputError;
use crate::gate::{self, Comparison, GateConfig};
use crate::history::{self, HistoryLocation};
use crate::outcome::Outcome;
use crate::report::{chart, trend_chart};

/// `compare` flags.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The run to judge (its results.json).
    #[arg(long, value_name = "RESULTS_JSON", env = "INPUT_CURRENT")]
    pub current: PathBuf,
    /// Baseline and thresholds.
    #[command(flatten)]
    pub gate: crate::gate::GateInputs,
    /// Where the history lives.
    #[command(flatten)]
    pub history: HistoryArgs,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormat,
    /// Also write the comparison as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Also write the markdown section to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown_out: Option<PathBuf>,
    /// Also draw the current run's chart, with the baseline over it, into this PNG file.
    #[arg(long, value_name = "FILE")]
    pub chart_out: Option<PathBuf>,
    /// Also draw the history's trend (a baseline of 2 runs or more) into this PNG file.
    #[arg(long, value_name = "FILE")]
    pub trend_out: Option<PathBuf>,
}

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// Plain text.
    Text,
    /// The markdown section of the job summary.
    Markdown,
    /// The comparison as JSON.
    Json,
}

/// Where the run history lives (`baseline: history`).
#[derive(Debug, Args, Clone, Default)]
pub struct HistoryArgs {
    /// The export bucket; the history is under `history/{profile}/{branch}/` in it.
    #[arg(long, env = "INPUT_METRICS_EXPORT_S3_BUCKET")]
    pub metrics_export_s3_bucket: Option<String>,
    /// A local folder with the same layout, used when no bucket is given.
    #[arg(long, value_name = "DIR", env = "INPUT_HISTORY_DIR")]
    pub history_dir: Option<PathBuf>,
}

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
    let cfg = GateConfig::from_inputs(&args.gate).map_err(InputError::from)?;
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

/// The `compare` command: compare, print the verdict in the chosen format, say the outcome.
pub fn command(a: &CompareArgs) -> anyhow::Result<Outcome> {
    let (_, shown, outcome) = run_compare(a)?;
    #[allow(clippy::print_stdout)]
    {
        print!("{shown}");
    }
    Ok(outcome)
}
