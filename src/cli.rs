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
    /// Show what an AWS run would create (names, tags, parameters, the memtier command line with
    /// the token redacted) and its cost estimate, without calling AWS. Fails when the estimate
    /// exceeds max_cost_usd.
    Plan(Box<PlanArgs>),
    /// Delete what an AWS run created, from the resource ledger in its output folder (for a run
    /// that was killed before its own teardown), then check that nothing of it is left.
    Cleanup(CleanupArgs),
    /// Re-render the reports (summary.md, chart.png, CSVs) from a results.json.
    Report(ReportArgs),
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

/// `run` flags: the run's inputs (also readable from action inputs `INPUT_<NAME>`).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: crate::config::RunInputs,
}

/// `plan` flags: the same inputs as `run` (the target is always aws).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The inputs.
    #[command(flatten)]
    pub inputs: crate::config::RunInputs,
}

/// `cleanup` flags.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The run's output folder (holding ledger.jsonl).
    #[arg(
        long = "out",
        env = "INPUT_OUTPUT_DIR",
        default_value = "elasticache-perf-results"
    )]
    pub output_dir: PathBuf,
    /// Seconds between two reads of a resource's state while waiting (tests use less than a second).
    #[arg(long, hide = true, default_value_t = 15.0)]
    pub poll_seconds: f64,
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
