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
    /// Show what an AWS run would create (names, tags, parameters, the memtier command line with
    /// the token redacted) and its cost estimate, without calling AWS. Fails when the estimate
    /// exceeds max_cost_usd.
    Plan(Box<PlanArgs>),
    /// Finish deleting what an AWS run created (a run that was interrupted or killed): everything
    /// in its ledger and everything tagged with its run id, waiting where AWS requires; then check
    /// that nothing of it is left. Safe to run twice.
    Cleanup(CleanupArgs),
    /// Delete everything elasticache-perf created whose expiry has passed (all runs, all resource
    /// types, in dependency order) — meant for a scheduled workflow.
    Sweep(SweepArgs),
    /// Re-render the reports (summary.md, chart.png, CSVs) from a results.json.
    Report(ReportArgs),
    /// Gate a results.json against a baseline: exit 0 pass (no change, improved or inconclusive),
    /// 1 regression (with --fail-on-regression), 2 bad input or a profile mismatch.
    Compare(CompareArgs),
    /// Publish a results.json inside GitHub Actions: step outputs, job summary and the PR comment
    /// (the fork-safe `workflow_run` pattern).
    Publish(PublishArgs),
    /// The GitHub Action's post step: clean up from the state the main step saved.
    #[command(hide = true)]
    Post,
}

// ---- GitHub Action entry points (owned by the action work, `src/github/`) ----

/// `publish` flags.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The results.json to publish (its folder's chart.png is linked when present).
    #[arg(long, value_name = "FILE", env = "INPUT_RESULTS_PATH")]
    pub results_path: PathBuf,
    /// GitHub inputs.
    #[command(flatten)]
    pub github: crate::config::GithubInputs,
}

/// The executable name of the action's main entrypoint: runs the command in input `command`.
pub const ACTION_ENTRYPOINT: &str = "elasticache-perf-action";
/// The executable name of the action's post entrypoint: runs `post`.
pub const POST_ENTRYPOINT: &str = "elasticache-perf-post";
/// The commands the action's `command` input may name, the default first.
pub const ACTION_COMMANDS: [&str; 4] = ["run", "publish", "cleanup", "sweep"];

/// The arguments to parse. A container action's entrypoint takes no arguments, so the image has
/// one path per entrypoint (links to this binary) and the name it was started under says what to
/// do: [`ACTION_ENTRYPOINT`] runs input `command` (`INPUT_COMMAND`, default `run`),
/// [`POST_ENTRYPOINT`] runs `post`. Any other name, or any argument, is an ordinary command line.
pub fn invocation_args(
    args: Vec<std::ffi::OsString>,
    input_command: Option<&str>,
) -> Result<Vec<std::ffi::OsString>, String> {
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if args.len() != 1 {
        return Ok(args);
    }
    let command = match name {
        ACTION_ENTRYPOINT => {
            let c = input_command.map(str::trim).filter(|c| !c.is_empty());
            let c = c.unwrap_or(ACTION_COMMANDS[0]);
            if !ACTION_COMMANDS.contains(&c) {
                return Err(format!(
                    "input 'command' must be one of {}; got '{c}'",
                    ACTION_COMMANDS.join(", ")
                ));
            }
            c.to_string()
        }
        POST_ENTRYPOINT => "post".to_string(),
        _ => return Ok(args),
    };
    Ok(vec![args[0].clone(), command.into()])
}

impl Cli {
    /// Parse this process's command line (see [`invocation_args`]); exits with clap's usage error
    /// (code 2) when it is wrong.
    pub fn parse_invocation() -> Self {
        use clap::{CommandFactory as _, Parser as _};
        let input = std::env::var("INPUT_COMMAND").ok();
        match invocation_args(std::env::args_os().collect(), input.as_deref()) {
            Ok(args) => Self::parse_from(args),
            Err(msg) => Self::command()
                .error(clap::error::ErrorKind::InvalidValue, msg)
                .exit(),
        }
    }
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
    /// The run to clean up (default: the run of the ledger in --out).
    #[arg(long, env = "INPUT_RUN_ID")]
    pub run_id: Option<String>,
    /// AWS region (default: the ledger's, else `AWS_REGION` / `AWS_DEFAULT_REGION`).
    #[arg(long, env = "INPUT_AWS_REGION")]
    pub aws_region: Option<String>,
    /// The run's output folder: its ledger.jsonl is read when present, and deletions are
    /// appended to it.
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

/// `sweep` flags.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// AWS region (default: `AWS_REGION` / `AWS_DEFAULT_REGION`).
    #[arg(long, env = "INPUT_AWS_REGION")]
    pub aws_region: Option<String>,
    /// List what would be deleted, delete nothing (`--dry-run`, or `true`/`false`).
    #[arg(
        long,
        env = "INPUT_DRY_RUN",
        default_value = "false",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub dry_run: String,
    /// Take resources whose run started longer ago than this (`90m`, `6h`, `2d`) instead of
    /// those past their expiry tag.
    #[arg(long, value_name = "DURATION", env = "INPUT_OLDER_THAN")]
    pub older_than: Option<String>,
    /// Folder for the sweep's ledgers (`sweep/{run id}/ledger.jsonl`).
    #[arg(long = "out", default_value = "elasticache-perf-sweep")]
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

    fn os(v: &[&str]) -> Vec<std::ffi::OsString> {
        v.iter().map(Into::into).collect()
    }

    #[test]
    fn the_action_entrypoints_pick_their_command() {
        let run = invocation_args(os(&["/usr/local/bin/elasticache-perf-action"]), None);
        assert_eq!(
            run.unwrap(),
            os(&["/usr/local/bin/elasticache-perf-action", "run"])
        );
        let publish = invocation_args(os(&["elasticache-perf-action"]), Some(" publish "));
        assert_eq!(
            publish.unwrap(),
            os(&["elasticache-perf-action", "publish"])
        );
        let post = invocation_args(os(&["/x/elasticache-perf-post"]), Some("run"));
        assert_eq!(post.unwrap(), os(&["/x/elasticache-perf-post", "post"]));
        let sweep = invocation_args(os(&["elasticache-perf-action"]), Some("sweep"));
        assert_eq!(sweep.unwrap(), os(&["elasticache-perf-action", "sweep"]));
        let bad = invocation_args(os(&["elasticache-perf-action"]), Some("destroy"));
        assert!(bad.unwrap_err().contains("input 'command'"));
    }

    #[test]
    fn other_invocations_are_left_alone() {
        let plain = os(&["elasticache-perf"]);
        assert_eq!(
            invocation_args(plain.clone(), Some("publish")).unwrap(),
            plain
        );
        let with_args = os(&["elasticache-perf-action", "run", "--help"]);
        assert_eq!(invocation_args(with_args.clone(), None).unwrap(), with_args);
    }
}
