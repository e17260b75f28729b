//! Command-line interface: subcommands and flags. Every flag can also come from the action input
//! of the same snake_case name (`INPUT_<NAME>`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Trustworthy performance numbers for managed Redis/Valkey caches.
#[derive(Debug, Parser)]
#[command(name = "elasticache-perf", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
// `run`'s inputs make its variant large; the enum is built once per process, so boxing would
// only add noise at every use.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build results.json from memtier outputs you already have (one folder or file per load
    /// generator, or a parent folder of several).
    Analyze(AnalyzeArgs),
    /// Run the built-in load generator against one server (a developer tool, for benchmarking the
    /// generator itself and for quick local measurements).
    #[command(hide = true)]
    Loadgen(crate::loadgen::command::LoadgenArgs),
    /// Run a benchmark: start (or use) a server, run the load generators, merge and report.
    Run(Box<RunArgs>),
    /// Re-render the reports (summary.md, chart.png, CSVs) from a results.json.
    Report(ReportArgs),
    /// Gate a results.json against a baseline: exit 0 pass (no change, improved or inconclusive),
    /// 1 regression (with --fail-on-regression), 2 bad input or a profile mismatch.
    Compare(CompareArgs),
}

/// `report` flags.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results.json to render.
    #[arg(long, value_name = "FILE")]
    pub results: PathBuf,
    /// Output folder (default: the folder of results.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

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

/// `run` flags: the run's inputs (also readable from action inputs `INPUT_<NAME>`).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: crate::config::RunInputs,
}

/// Steady-state window trimming.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
    /// Seconds of warm-up dropped from the steady-state window (default: 10 % of the run, 1–60 s).
    #[arg(long, env = "INPUT_WARMUP_SECONDS")]
    pub warmup_seconds: Option<u32>,
    /// Seconds of ramp-down dropped from the end of the steady-state window.
    #[arg(long, env = "INPUT_RAMPDOWN_SECONDS", default_value_t = 1)]
    pub rampdown_seconds: u32,
}

/// `analyze` flags.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Load generators' output folders, parents of several, or single files (JSON, stdout, log).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output folder for results.json.
    #[arg(
        long,
        value_name = "DIR",
        env = "INPUT_OUTPUT_DIR",
        default_value = "elasticache-perf-results"
    )]
    pub out: PathBuf,
    /// Steady-state window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write only results.json (no summary.md, chart.png or CSVs).
    #[arg(long)]
    pub no_reports: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
