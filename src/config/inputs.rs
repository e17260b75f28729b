//! The run's inputs exactly as the user typed them (CLI flags or action inputs `INPUT_<NAME>`),
//! as strings: validation happens in [`super::Config::from_inputs`], before anything is started.

use clap::Args;

/// Raw inputs of `run`. Names are the old Terraform variables' where one existed.
#[derive(Debug, Args, Clone, Default)]
pub struct RunInputs {
    /// Where to run: `local` (a redis-server/valkey-server on this machine) or `aws`.
    #[arg(long, env = "INPUT_TARGET", default_value = "local")]
    pub target: String,
    /// Engine: `redis` or `valkey`.
    #[arg(long, env = "INPUT_ENGINE_TYPE", default_value = "redis")]
    pub engine_type: String,
    /// Use a server that is already running instead of starting one: `redis://[user:pass@]host:port`.
    #[arg(long, env = "INPUT_ENDPOINT", hide_env_values = true)]
    pub endpoint: Option<String>,
    /// Test duration in minutes (fractions allowed), or with a unit: `30s`, `5m`, `1h`.
    #[arg(long, env = "INPUT_TEST_DURATION_MINUTES", allow_hyphen_values = true)]
    pub test_duration_minutes: Option<String>,
    /// Test duration in seconds (for runs shorter than a minute).
    #[arg(long, env = "INPUT_TEST_DURATION_SECONDS", allow_hyphen_values = true)]
    pub test_duration_seconds: Option<String>,
    /// Number of load generators running in parallel.
    #[arg(
        long,
        env = "INPUT_LOADGEN_TASK_COUNT",
        allow_hyphen_values = true,
        default_value = "1"
    )]
    pub loadgen_task_count: String,
    /// Load generator: `auto` (memtier_benchmark when on PATH, else built-in), `memtier`, `builtin`.
    #[arg(long, env = "INPUT_LOADGEN", default_value = "auto")]
    pub loadgen: String,
    /// Threads per load generator.
    #[arg(
        long,
        env = "INPUT_THREADS",
        allow_hyphen_values = true,
        default_value = "2"
    )]
    pub threads: String,
    /// Connections per thread.
    #[arg(
        long,
        env = "INPUT_CLIENTS",
        allow_hyphen_values = true,
        default_value = "25"
    )]
    pub clients: String,
    /// Requests in flight per connection.
    #[arg(
        long,
        env = "INPUT_PIPELINE",
        allow_hyphen_values = true,
        default_value = "1"
    )]
    pub pipeline: String,
    /// SET:GET ratio.
    #[arg(long, env = "INPUT_RATIO", default_value = "1:10")]
    pub ratio: String,
    /// Key pattern SET:GET, each R (random), S (sequential), P (parallel slices) or G (gaussian).
    #[arg(long, env = "INPUT_KEY_PATTERN", default_value = "R:R")]
    pub key_pattern: String,
    /// Lowest key index.
    #[arg(
        long,
        env = "INPUT_KEY_MINIMUM",
        allow_hyphen_values = true,
        default_value = "0"
    )]
    pub key_minimum: String,
    /// Highest key index.
    #[arg(
        long,
        env = "INPUT_KEY_MAXIMUM",
        allow_hyphen_values = true,
        default_value = "100000"
    )]
    pub key_maximum: String,
    /// Key prefix.
    #[arg(long, env = "INPUT_KEY_PREFIX", default_value = "memtier-")]
    pub key_prefix: String,
    /// Value size in bytes.
    #[arg(
        long,
        env = "INPUT_DATA_SIZE",
        allow_hyphen_values = true,
        default_value = "32"
    )]
    pub data_size: String,
    /// Write every key of the key range once before the timed run.
    #[arg(long, env = "INPUT_PREFILL", default_value = "false")]
    pub prefill: String,
    /// Output folder for results, reports, metrics and logs.
    #[arg(
        long = "out",
        env = "INPUT_OUTPUT_DIR",
        default_value = "elasticache-perf-results"
    )]
    pub output_dir: String,
    /// Run id (names and tags derive from it); generated when empty.
    #[arg(long, env = "INPUT_RUN_ID")]
    pub run_id: Option<String>,
    /// Seconds of warm-up dropped from the steady-state window (default: 10 % of the run, 1–60 s).
    #[arg(long, env = "INPUT_WARMUP_SECONDS", allow_hyphen_values = true)]
    pub warmup_seconds: Option<String>,
    /// Seconds dropped at the end of the steady-state window.
    #[arg(
        long,
        env = "INPUT_RAMPDOWN_SECONDS",
        allow_hyphen_values = true,
        default_value = "1"
    )]
    pub rampdown_seconds: String,
    /// GitHub: the PR comment (see [`GithubInputs`]).
    #[command(flatten)]
    pub github: GithubInputs,
}

// ---- GitHub inputs (owned by the action work, `src/github/`) ----

/// Inputs of publishing to GitHub: the PR comment. Flattened into [`RunInputs`] (and the
/// `publish` command), so that `RunInputs` stays the one list of the run's input names.
#[derive(Debug, Args, Clone, Default)]
pub struct GithubInputs {
    /// Token for the PR comment (the action passes `${{ github.token }}`); never printed.
    #[arg(long, env = "INPUT_GITHUB_TOKEN", hide_env_values = true, value_parser = secret_input)]
    pub github_token: Option<super::Secret>,
    /// When to comment on the pull request: `always`, `on-regression` or `never`.
    #[arg(long, env = "INPUT_COMMENT", default_value = "always")]
    pub comment: String,
    /// The pull request to comment on, instead of the triggering event's (for `workflow_run`).
    #[arg(long, env = "INPUT_PR_NUMBER")]
    pub pr_number: Option<String>,
    /// Key of the PR comment: runs of one profile share a comment, other profiles get their own
    /// (default: derived from engine, version, workload, task count and load generator).
    #[arg(long, env = "INPUT_PROFILE")]
    pub profile: Option<String>,
}

fn secret_input(s: &str) -> Result<super::Secret, std::convert::Infallible> {
    Ok(super::Secret::new(s))
}
