//! Validated run configuration: [`RunInputs`] (strings as typed) become a typed [`Config`], and
//! every problem is reported with the input's name, its value and what is allowed — before any
//! server, process or cloud resource is started. Pure.

pub mod aws;
pub mod cache;
mod expiry;
mod inputs;
pub mod matrix;
mod parse;
mod secret;
mod shapes;
pub mod workspace;

use std::path::PathBuf;
use std::time::Duration;

pub use crate::error::ConfigError;
pub use crate::workload::{KeyPattern, Workload};
pub use aws::AwsConfig;
pub use inputs::{region_from_env, GithubInputs, RunInputs};
pub use parse::{parse_bool, parse_duration, parse_endpoint, parse_key_pattern, parse_ratio};
pub use secret::Secret;

use crate::stats::window::WindowSpec;

/// Default test time on the local target when none is given (the action's default is 60 minutes).
pub const DEFAULT_LOCAL_DURATION: Duration = Duration::from_secs(60);
/// Most load generators one run may start.
pub const MAX_TASKS: u32 = 256;

/// Where a run happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A server on this machine.
    Local,
    /// ElastiCache + Fargate.
    Aws,
}

/// Cache engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Redis OSS.
    Redis,
    /// Valkey.
    Valkey,
}

impl Engine {
    /// The engine's name as users write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Valkey => "valkey",
        }
    }

    /// The server binary the local target starts.
    pub fn server_binary(self) -> &'static str {
        match self {
            Self::Redis => "redis-server",
            Self::Valkey => "valkey-server",
        }
    }
}

/// Which load generator to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadgenChoice {
    /// memtier_benchmark when on PATH, else the built-in one.
    Auto,
    /// memtier_benchmark (must be on PATH).
    Memtier,
    /// The built-in generator.
    Builtin,
}

/// A server given by the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Host (only loopback is reachable from tests; any host works for users).
    pub host: String,
    /// Port.
    pub port: u16,
    /// ACL user.
    pub username: Option<String>,
    /// Password (never printed).
    pub password: Option<Secret>,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Target.
    pub target: Target,
    /// Engine.
    pub engine: Engine,
    /// Existing server, when given.
    pub endpoint: Option<Endpoint>,
    /// Timed run length.
    pub duration: Duration,
    /// Load generators.
    pub task_count: u32,
    /// Generator choice.
    pub loadgen: LoadgenChoice,
    /// Workload.
    pub workload: Workload,
    /// Prefill the key range first.
    pub prefill: bool,
    /// Output folder.
    pub output_dir: PathBuf,
    /// Run id, when given.
    pub run_id: Option<String>,
    /// Window trimming.
    pub window: WindowSpec,
    /// The AWS target's settings (`Some` exactly when the target is `aws`).
    pub aws: Option<AwsConfig>,
}

fn number<T: std::str::FromStr>(
    input: &'static str,
    v: &str,
    what: &str,
) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| ConfigError::new(input, v, format!("must be {what}")))
}

fn at_least<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    input: &'static str,
    v: &str,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    let n: T = number(input, v, &format!("a whole number from {min} to {max}"))?;
    if n < min || n > max {
        return Err(ConfigError::new(
            input,
            v,
            format!("must be a whole number from {min} to {max}"),
        ));
    }
    Ok(n)
}

/// The target: `local` or `aws`.
fn target_of(i: &RunInputs) -> Result<Target, ConfigError> {
    let target = match i.target.trim() {
        "local" => Target::Local,
        "aws" => Target::Aws,
        _ => {
            return Err(ConfigError::new(
                "target",
                &i.target,
                "must be 'local' or 'aws'",
            ))
        }
    };
    Ok(target)
}

/// The engine: `redis` or `valkey`.
fn engine_of(i: &RunInputs) -> Result<Engine, ConfigError> {
    let engine = match i.engine_type.trim() {
        "redis" => Engine::Redis,
        "valkey" => Engine::Valkey,
        _ => {
            return Err(ConfigError::new(
                "engine_type",
                &i.engine_type,
                "must be 'redis' or 'valkey'",
            ))
        }
    };
    Ok(engine)
}

/// The timed part's length: in minutes or in seconds (not both), else the target's default.
fn duration_of(i: &RunInputs, target: Target) -> Result<Duration, ConfigError> {
    let duration = match (&i.test_duration_minutes, &i.test_duration_seconds) {
        (Some(m), Some(s)) if !m.trim().is_empty() && !s.trim().is_empty() => {
            return Err(ConfigError::new(
                "test_duration_seconds",
                s,
                "cannot be combined with test_duration_minutes; give one of them",
            ))
        }
        (Some(m), _) if !m.trim().is_empty() => parse_duration("test_duration_minutes", m, 60)?,
        (_, Some(s)) if !s.trim().is_empty() => parse_duration("test_duration_seconds", s, 1)?,
        _ => match target {
            Target::Local => DEFAULT_LOCAL_DURATION,
            Target::Aws => Duration::from_secs(3600),
        },
    };
    Ok(duration)
}

/// The load generator: `auto`, `memtier` or `builtin`.
fn loadgen_of(i: &RunInputs) -> Result<LoadgenChoice, ConfigError> {
    let loadgen = match i.loadgen.trim() {
        "auto" => LoadgenChoice::Auto,
        "memtier" => LoadgenChoice::Memtier,
        "builtin" => LoadgenChoice::Builtin,
        _ => {
            return Err(ConfigError::new(
                "loadgen",
                &i.loadgen,
                "must be 'auto', 'memtier' or 'builtin'",
            ))
        }
    };
    Ok(loadgen)
}

/// The workload: threads, clients, pipeline, the set:get ratio, the key patterns and range, the
/// key prefix and the value size.
fn workload_of(i: &RunInputs) -> Result<Workload, ConfigError> {
    let (ratio_set, ratio_get) = parse_ratio(&i.ratio)?;
    if ratio_set == 0 && ratio_get == 0 {
        return Err(ConfigError::new("ratio", &i.ratio, "must not be 0:0"));
    }
    let (key_pattern_set, key_pattern_get) = parse_key_pattern(&i.key_pattern)?;
    let key_minimum: u64 = number("key_minimum", &i.key_minimum, "a whole number ≥ 0")?;
    let key_maximum: u64 = number("key_maximum", &i.key_maximum, "a whole number ≥ 0")?;
    if key_maximum < key_minimum {
        return Err(ConfigError::new(
            "key_maximum",
            &i.key_maximum,
            format!("must be at least key_minimum ({key_minimum})"),
        ));
    }
    if i.key_prefix
        .contains(|c: char| c.is_whitespace() || c == '"')
    {
        return Err(ConfigError::new(
            "key_prefix",
            &i.key_prefix,
            "must not contain spaces or quotes",
        ));
    }
    let workload = Workload {
        threads: at_least("threads", &i.threads, 1u32, 1024)?,
        clients: at_least("clients", &i.clients, 1u32, 10_000)?,
        pipeline: at_least("pipeline", &i.pipeline, 1u32, 10_000)?,
        ratio_set,
        ratio_get,
        key_pattern_set,
        key_pattern_get,
        key_minimum,
        key_maximum,
        key_prefix: i.key_prefix.clone(),
        data_size: at_least("data_size", &i.data_size, 1u32, 512 * 1024 * 1024)?,
    };
    Ok(workload)
}

/// The run id, when given: short, and fit to name cloud resources.
fn run_id_of(i: &RunInputs) -> Result<Option<String>, ConfigError> {
    let run_id = i
        .run_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(id) = &run_id {
        if id.len() > 32
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || id.contains("--")
            || id.starts_with('-')
            || id.ends_with('-')
        {
            return Err(ConfigError::new(
                "run_id",
                id,
                "must be at most 32 letters, digits or single hyphens, not starting or ending with a hyphen (names of cloud resources derive from it)",
            ));
        }
    }
    Ok(run_id)
}

/// The AWS inputs on aws (where the tasks run memtier, never the built-in load generator).
fn aws_of(
    i: &RunInputs,
    target: Target,
    loadgen: LoadgenChoice,
    duration: Duration,
) -> Result<Option<AwsConfig>, ConfigError> {
    let aws = match target {
        Target::Local => None,
        Target::Aws => {
            if loadgen == LoadgenChoice::Builtin {
                return Err(ConfigError::new(
                    "loadgen",
                    &i.loadgen,
                    "must be 'auto' or 'memtier' on aws (the tasks run memtier_benchmark)",
                ));
            }
            Some(AwsConfig::from_inputs(i, duration)?)
        }
    };
    Ok(aws)
}

impl Config {
    /// Validate raw inputs. Returns the first problem found, naming the input.
    pub fn from_inputs(i: &RunInputs) -> Result<Self, ConfigError> {
        let target = target_of(i)?;
        let engine = engine_of(i)?;
        // On aws, `endpoint` names the user's own cache (validated with the AWS inputs).
        let endpoint = i
            .endpoint
            .as_deref()
            .filter(|e| !e.trim().is_empty() && target == Target::Local)
            .map(parse_endpoint)
            .transpose()?;
        let duration = duration_of(i, target)?;
        let task_count = at_least("loadgen_task_count", &i.loadgen_task_count, 1u32, MAX_TASKS)?;
        let loadgen = loadgen_of(i)?;
        let workload = workload_of(i)?;
        let prefill = parse_bool("prefill", &i.prefill, Some(false))?;
        if i.output_dir.trim().is_empty() {
            return Err(ConfigError::new(
                "output_dir",
                &i.output_dir,
                "must name a folder",
            ));
        }
        let run_id = run_id_of(i)?;
        let warmup_secs = i
            .warmup_seconds
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| at_least("warmup_seconds", s, 0u32, 86_400))
            .transpose()?;
        let rampdown_secs = at_least("rampdown_seconds", &i.rampdown_seconds, 0u32, 86_400)?;
        let aws = aws_of(i, target, loadgen, duration)?;
        Ok(Self {
            target,
            engine,
            endpoint,
            duration,
            task_count,
            loadgen,
            workload,
            prefill,
            output_dir: PathBuf::from(i.output_dir.trim()),
            run_id,
            window: WindowSpec {
                warmup_secs,
                rampdown_secs,
            },
            aws,
        })
    }
}

#[cfg(test)]
mod aws_tests;
#[cfg(test)]
mod tests;
