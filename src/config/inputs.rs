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
    /// Use a server that is already running instead of starting one: `redis://[user:pass@]host:port`
    /// on the local target; on aws your own cache, `redis://host:port` or `rediss://host:port`
    /// (TLS), its AUTH token in `auth_token`.
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
    /// A workload matrix: a JSON or YAML list of named workloads (or the path of a file holding
    /// one) that run one after another on the same server, each with its own results and verdict;
    /// each item has a `name` and any of threads, clients, pipeline, ratio, key_pattern,
    /// key_minimum, key_maximum, key_prefix, data_size, prefill, test_duration, warmup_seconds,
    /// extra_memtier_args (unset ones inherit these inputs).
    #[arg(long, env = "INPUT_WORKLOADS")]
    pub workloads: Option<String>,
    /// Empty the cache (FLUSHALL) between the workloads of a matrix (local target).
    #[arg(long, env = "INPUT_FLUSH_BETWEEN", default_value = "false")]
    pub flush_between: String,

    // ---- AWS target (validated in `super::aws`; ignored by the local target) ----
    /// AWS region (default: `AWS_REGION` / `AWS_DEFAULT_REGION` from the environment).
    #[arg(long, env = "INPUT_AWS_REGION", help_heading = "AWS target")]
    pub aws_region: Option<String>,
    /// Engine version, e.g. `7.1` or `8.0` (default: the service's default for the engine).
    #[arg(long, env = "INPUT_ENGINE_VERSION", help_heading = "AWS target")]
    pub engine_version: Option<String>,
    /// ElastiCache node type.
    #[arg(
        long,
        env = "INPUT_NODE_TYPE",
        default_value = "cache.t4g.micro",
        help_heading = "AWS target"
    )]
    pub node_type: String,
    /// Replicas per shard (0–5).
    #[arg(
        long,
        env = "INPUT_NUM_REPLICAS",
        default_value = "0",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub num_replicas: String,
    /// Shards; more than 1 creates a cluster-mode-enabled group.
    #[arg(
        long,
        env = "INPUT_NUM_SHARDS",
        default_value = "1",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub num_shards: String,
    /// TLS in transit with a random AUTH token (generated per run, never printed).
    #[arg(
        long,
        env = "INPUT_TRANSIT_ENCRYPTION",
        default_value = "true",
        help_heading = "AWS target"
    )]
    pub transit_encryption: String,
    /// Load your own replication group (aws): its endpoint, port, TLS and member clusters are read
    /// from AWS. The tool creates no cache and never deletes or changes it.
    #[arg(long, env = "INPUT_REPLICATION_GROUP_ID", help_heading = "AWS target")]
    pub replication_group_id: Option<String>,
    /// AUTH token of your own cache (`endpoint` or `replication_group_id`). A secret: pass it from
    /// `secrets`, never as plain text; it is masked and never printed.
    #[arg(
        long,
        env = "INPUT_AUTH_TOKEN",
        hide_env_values = true,
        value_parser = secret_input,
        help_heading = "AWS target"
    )]
    pub auth_token: Option<super::Secret>,
    /// An existing cache parameter group for the cache the tool creates.
    #[arg(long, env = "INPUT_PARAMETER_GROUP", help_heading = "AWS target")]
    pub parameter_group: Option<String>,
    /// Parameters for the cache the tool creates, `name=value` pairs (comma or newline separated),
    /// e.g. `maxmemory-policy=allkeys-lru`: the run creates its own parameter group with them and
    /// deletes it at teardown.
    #[arg(long, env = "INPUT_PARAMETERS", help_heading = "AWS target")]
    pub parameters: Option<String>,
    /// VPC of the cache and the load generators (`vpc-…`).
    #[arg(long, env = "INPUT_VPC_ID", help_heading = "AWS target")]
    pub vpc_id: Option<String>,
    /// Subnets (`subnet-…`, comma, space or newline separated) of that VPC.
    #[arg(long, env = "INPUT_SUBNET_IDS", help_heading = "AWS target")]
    pub subnet_ids: Option<String>,
    /// Bring your own security groups (`sg-…`, up to 5) for the cache and the tasks instead of
    /// the two the tool creates. They must let the tasks reach the cache port.
    #[arg(long, env = "INPUT_SECURITY_GROUP_IDS", help_heading = "AWS target")]
    pub security_group_ids: Option<String>,
    /// Bring your own ECS task execution role (ARN) instead of the one the tool creates.
    #[arg(long, env = "INPUT_EXECUTION_ROLE_ARN", help_heading = "AWS target")]
    pub execution_role_arn: Option<String>,
    /// Give the load generators a public IP (needed to pull the image in a public subnet without NAT).
    #[arg(
        long,
        env = "INPUT_ASSIGN_PUBLIC_IP",
        default_value = "true",
        help_heading = "AWS target"
    )]
    pub assign_public_ip: String,
    /// Fargate CPU units per load generator (256, 512, 1024, 2048, 4096, 8192, 16384).
    #[arg(
        long,
        env = "INPUT_LOADGEN_CPU",
        default_value = "1024",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub loadgen_cpu: String,
    /// Fargate memory (MiB) per load generator; must pair with loadgen_cpu.
    #[arg(
        long,
        env = "INPUT_LOADGEN_MEMORY",
        default_value = "2048",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub loadgen_memory: String,
    /// Container image of the load generator (must contain memtier_benchmark and a POSIX shell).
    #[arg(
        long,
        env = "INPUT_LOADGEN_IMAGE",
        default_value = crate::config::aws::DEFAULT_LOADGEN_IMAGE,
        help_heading = "AWS target"
    )]
    pub loadgen_image: String,
    /// Secrets Manager secret (ARN) with the registry credentials of a private loadgen_image, e.g.
    /// Docker Hub credentials against its anonymous pull limit (ECS repositoryCredentials).
    #[arg(
        long,
        env = "INPUT_LOADGEN_REPOSITORY_CREDENTIALS",
        help_heading = "AWS target"
    )]
    pub loadgen_repository_credentials: Option<String>,
    /// More memtier arguments: a JSON array of strings, or one argument per line. Never a shell string.
    #[arg(
        long,
        env = "INPUT_EXTRA_MEMTIER_ARGS",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub extra_memtier_args: Option<String>,
    /// Existing S3 bucket for the exports (required on aws; checked before anything is created).
    #[arg(
        long,
        env = "INPUT_METRICS_EXPORT_S3_BUCKET",
        help_heading = "AWS target"
    )]
    pub metrics_export_s3_bucket: Option<String>,
    /// Key prefix inside the bucket (exports go to `{s3_prefix}/exports/{timestamp}/…`).
    #[arg(long, env = "INPUT_S3_PREFIX", help_heading = "AWS target")]
    pub s3_prefix: Option<String>,
    /// Minutes after the start when everything of the run counts as expired (the expiry tag);
    /// default: the test duration plus 120 minutes.
    #[arg(
        long,
        env = "INPUT_TTL_MINUTES",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub ttl_minutes: Option<String>,
    /// Refuse to run when the cost estimate exceeds this many US dollars (`none` for no limit).
    #[arg(
        long,
        env = "INPUT_MAX_COST_USD",
        default_value = "25",
        allow_hyphen_values = true,
        help_heading = "AWS target"
    )]
    pub max_cost_usd: String,
    /// Dead-man's switch: an EventBridge Scheduler one-time schedule at the expiry time that deletes
    /// the replication group if the run has not (removed on a normal teardown).
    #[arg(
        long,
        env = "INPUT_DEAD_MANS_SWITCH",
        default_value = "true",
        help_heading = "AWS target"
    )]
    pub dead_mans_switch: String,
    /// Bring your own role for the dead-man's switch (ARN): trusted by `scheduler.amazonaws.com`,
    /// allowed `elasticache:DeleteReplicationGroup` on the tool's groups. Then the tool creates no
    /// role for it and needs no `iam:PutRolePolicy` (docs/aws.md has the role's policies).
    #[arg(
        long,
        env = "INPUT_DEAD_MANS_SWITCH_ROLE_ARN",
        help_heading = "AWS target"
    )]
    pub dead_mans_switch_role_arn: Option<String>,
    /// Seconds between two reads of a resource's or task's state (tests use a fraction of a second).
    #[arg(
        long,
        env = "ELASTICACHE_PERF_AWS_POLL_SECONDS",
        default_value = "15",
        hide = true,
        help_heading = "AWS target"
    )]
    pub aws_poll_seconds: String,
    /// Seconds to wait after the load before reading CloudWatch, so the last minute is published.
    #[arg(
        long,
        env = "ELASTICACHE_PERF_AWS_METRICS_WAIT_SECONDS",
        default_value = "180",
        hide = true,
        help_heading = "AWS target"
    )]
    pub aws_metrics_wait_seconds: String,

    /// GitHub: the PR comment (see [`GithubInputs`]).
    #[command(flatten)]
    pub github: GithubInputs,
    /// The regression gate against a baseline (see [`crate::gate::GateInputs`]).
    #[command(flatten)]
    pub gate: crate::gate::GateInputs,
    /// A local folder of run history (`history/{profile}/{branch}/…`), used when there is no
    /// export bucket: each finished run is stored there and `baseline: history` reads it.
    #[arg(long, value_name = "DIR", env = "INPUT_HISTORY_DIR")]
    pub history_dir: Option<String>,
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
    /// On a confirmed regression, open an issue (or comment on the open one of the same profile,
    /// found by its title): `true` or `false`. Needs `issues: write`.
    #[arg(long, env = "INPUT_REGRESSION_ISSUE", default_value = "false")]
    pub regression_issue: String,
}

fn secret_input(s: &str) -> Result<super::Secret, std::convert::Infallible> {
    Ok(super::Secret::new(s))
}

/// The region AWS's own tools take from the environment: `AWS_REGION`, else `AWS_DEFAULT_REGION`
/// (a blank value counts as unset). `env` reads one variable; the edges pass
/// `|k| std::env::var(k).ok()`, tests a map.
pub fn region_from_env(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|k| env(k).filter(|r| !r.trim().is_empty()))
}

impl RunInputs {
    /// Fill `aws_region` from the environment ([`region_from_env`]) when the user gave none (the
    /// one environment default the validation does not read itself).
    pub fn fill_region(&mut self, env: impl Fn(&str) -> Option<String>) {
        if self
            .aws_region
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
        {
            self.aws_region = region_from_env(env);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn the_region_comes_from_aws_region_then_aws_default_region() {
        assert_eq!(region_from_env(env(&[])), None);
        let both = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ];
        assert_eq!(region_from_env(env(&both)).as_deref(), Some("eu-west-1"));
        let blank = [("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "us-east-1")];
        assert_eq!(region_from_env(env(&blank)).as_deref(), Some("us-east-1"));
    }

    #[test]
    fn a_given_region_wins_over_the_environment() {
        let vars = [("AWS_REGION", "eu-west-1")];
        let mut given = RunInputs {
            aws_region: Some("ap-south-1".into()),
            ..RunInputs::default()
        };
        given.fill_region(env(&vars));
        assert_eq!(given.aws_region.as_deref(), Some("ap-south-1"));
        let mut blank = RunInputs {
            aws_region: Some(String::new()),
            ..RunInputs::default()
        };
        blank.fill_region(env(&vars));
        assert_eq!(blank.aws_region.as_deref(), Some("eu-west-1"));
    }
}
