//! Validation of the AWS target's inputs (region, cache shape, network, Fargate size, image, extra
//! memtier arguments, S3 export, expiry, dead-man's switch and cost cap) into an [`AwsConfig`].
//! Pure: nothing here calls AWS; the checks that need AWS (the bucket exists and is writable)
//! happen first thing in the backend, still before anything is created.

use std::time::Duration;

use super::cache::{cache_choice, CacheChoice};
use super::expiry::{max_cost, ttl_of};
pub use super::expiry::{
    min_ttl_minutes, CACHE_CREATE_TIMEOUT_MINUTES, DEFAULT_TTL_MARGIN_MINUTES,
    PREFILL_BOUND_MINUTES, TTL_SAFETY_MINUTES,
};
use super::parse::{opt, parse_bool};
use super::shapes::{
    bucket_problem, is_ec2_id, is_engine_version, is_image, is_node_type, is_region, is_role_arn,
    is_secret_arn,
};
use super::{ConfigError, RunInputs};

pub use super::shapes::fargate_memory_options;

/// The memtier image used when none is given: the official image, pinned to memtier 2.3.0.
pub const DEFAULT_LOADGEN_IMAGE: &str = "redislabs/memtier_benchmark:2.3.0";
/// Most shards one run may create (ElastiCache's default quota of nodes per cluster).
pub const MAX_SHARDS: u32 = 90;
/// Most replicas per shard ElastiCache allows.
pub const MAX_REPLICAS: u32 = 5;
/// Most nodes one run may create: ElastiCache's default quota of nodes per cluster (cluster mode
/// enabled). A larger cache needs a quota increase, and CreateReplicationGroup would refuse it
/// only after the run had created its network and roles.
pub const MAX_NODES: u32 = 90;
/// The first Valkey version ElastiCache offers.
pub const MIN_VALKEY_VERSION: (u32, u32) = (7, 2);

/// `major.minor` of an engine version such as `7.2` or `7.1.0`.
fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// memtier flags the tool sets itself; `extra_memtier_args` may not repeat them.
const RESERVED_MEMTIER_FLAGS: &[&str] = &[
    "-s",
    "--server",
    "-p",
    "--port",
    "-S",
    "--unix-socket",
    "-a",
    "--authenticate",
    "--tls",
    "--test-time",
    "-n",
    "--requests",
    "--json-out-file",
    "--hdr-file-prefix",
    "--print-percentiles",
    "--cluster-mode",
    "-o",
    "--out-file",
    "-c",
    "--clients",
    "-t",
    "--threads",
    "--pipeline",
    "--ratio",
    "--key-pattern",
    "--key-minimum",
    "--key-maximum",
    "--key-prefix",
    "-d",
    "--data-size",
    "-P",
    "--protocol",
];

/// The validated AWS inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsConfig {
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Engine version; `None` means the service default.
    pub engine_version: Option<String>,
    /// Node type, e.g. `cache.t4g.micro`.
    pub node_type: String,
    /// Replicas per shard.
    pub num_replicas: u32,
    /// Shards (cluster mode enabled when more than one).
    pub num_shards: u32,
    /// TLS in transit + AUTH token.
    pub transit_encryption: bool,
    /// VPC id.
    pub vpc_id: String,
    /// Subnet ids (at least one, no duplicates).
    pub subnet_ids: Vec<String>,
    /// Security groups the user brings (empty: the tool creates two).
    pub security_group_ids: Vec<String>,
    /// Task execution role the user brings (`None`: the tool creates one).
    pub execution_role_arn: Option<String>,
    /// Public IP for the tasks.
    pub assign_public_ip: bool,
    /// Fargate CPU units.
    pub loadgen_cpu: u32,
    /// Fargate memory, MiB.
    pub loadgen_memory_mib: u32,
    /// Container image.
    pub loadgen_image: String,
    /// Secrets Manager secret with the image registry's credentials (ECS repositoryCredentials).
    pub loadgen_repository_credentials: Option<String>,
    /// Extra memtier arguments, one element per argument.
    pub extra_memtier_args: Vec<String>,
    /// Export bucket.
    pub s3_bucket: String,
    /// Key prefix in the bucket, without leading or trailing `/` (may be empty).
    pub s3_prefix: String,
    /// Lifetime of the run's resources from the start (the expiry tag).
    pub ttl: Duration,
    /// Cost cap in USD; `None` when the user said `none`.
    pub max_cost_usd: Option<f64>,
    /// Arm the dead-man's switch (a schedule that deletes the cache at the expiry time).
    pub dead_mans_switch: bool,
    /// The switch's role when the user brings one (`None`: the run creates it).
    pub dead_mans_switch_role_arn: Option<String>,
    /// Pause between two reads of a state while waiting.
    pub poll: Duration,
    /// Wait after the load before reading CloudWatch (metrics are published once a minute, late).
    pub metrics_wait: Duration,
    /// Which cache: the user's own, or a created one with its parameters.
    pub cache: CacheChoice,
}

impl AwsConfig {
    /// Whether the replication group runs in cluster mode.
    pub fn cluster_mode(&self) -> bool {
        self.num_shards > 1
    }

    /// Number of cache nodes.
    pub fn node_count(&self) -> u32 {
        self.num_shards * (1 + self.num_replicas)
    }
}

fn required<'a>(
    input: &'static str,
    v: Option<&'a String>,
    hint: &str,
) -> Result<&'a str, ConfigError> {
    opt(v).ok_or_else(|| ConfigError::new(input, "", format!("is required on aws: {hint}")))
}

fn whole(input: &'static str, v: &str, min: u32, max: u32) -> Result<u32, ConfigError> {
    let problem = || format!("must be a whole number from {min} to {max}");
    let n: u32 = v
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(input, v, problem()))?;
    if n < min || n > max {
        return Err(ConfigError::new(input, v, problem()));
    }
    Ok(n)
}

/// A list input: comma, whitespace or newline separated; empty items dropped.
fn list(v: Option<&String>) -> Vec<String> {
    v.map(|s| {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn ids(
    input: &'static str,
    raw: &str,
    items: &[String],
    prefix: &str,
    max: usize,
) -> Result<(), ConfigError> {
    if items.len() > max {
        return Err(ConfigError::new(
            input,
            raw,
            format!("must list at most {max} ids"),
        ));
    }
    for (n, id) in items.iter().enumerate() {
        if !is_ec2_id(prefix, id) {
            return Err(ConfigError::new(
                input,
                raw,
                format!("must list ids like {prefix}-0123456789abcdef0 ('{id}' is not one)"),
            ));
        }
        if items[..n].contains(id) {
            return Err(ConfigError::new(
                input,
                raw,
                format!("must not list '{id}' twice"),
            ));
        }
    }
    Ok(())
}

fn s3_prefix(v: Option<&String>) -> Result<String, ConfigError> {
    let Some(raw) = opt(v) else {
        return Ok(String::new());
    };
    let p = raw.trim_matches('/');
    let bad = p.len() > 512
        || p.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || p.chars().any(|c| c.is_control() || c == '\\');
    if bad {
        return Err(ConfigError::new(
            "s3_prefix",
            raw,
            "must be a key prefix like 'benchmarks/redis' (no empty, '.' or '..' segments, no control characters, at most 512 characters)",
        ));
    }
    Ok(p.to_string())
}

/// Extra memtier arguments: a JSON array of strings, or one argument per line.
fn extra_args(v: Option<&String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = opt(v) else {
        return Ok(Vec::new());
    };
    let args: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str(raw).map_err(|_| {
            ConfigError::new(
                "extra_memtier_args",
                raw,
                "must be a JSON array of strings, or one argument per line",
            )
        })?
    } else {
        raw.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    for a in &args {
        if a.is_empty() || a.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "extra_memtier_args",
                raw,
                "must not contain empty arguments or control characters",
            ));
        }
        let flag = a.split('=').next().unwrap_or(a);
        if RESERVED_MEMTIER_FLAGS.contains(&flag) {
            return Err(ConfigError::new(
                "extra_memtier_args",
                raw,
                format!("must not set '{flag}': the tool sets it from its own inputs"),
            ));
        }
    }
    Ok(args)
}

/// The region: given (or filled in from the environment), and a region's name.
fn region_of(i: &RunInputs) -> Result<&str, ConfigError> {
    let region = required(
        "aws_region",
        i.aws_region.as_ref(),
        "set it (or AWS_REGION), e.g. us-east-1",
    )?;
    if !is_region(region) {
        return Err(ConfigError::new(
            "aws_region",
            region,
            "must be an AWS region name like us-east-1",
        ));
    }
    Ok(region)
}

/// The engine version, when given: a version number, and one ElastiCache offers for the engine.
fn engine_version_of(i: &RunInputs) -> Result<Option<String>, ConfigError> {
    let engine_version = opt(i.engine_version.as_ref()).map(str::to_string);
    if let Some(v) = &engine_version {
        if !is_engine_version(v) {
            return Err(ConfigError::new(
                "engine_version",
                v,
                "must be a version like 7.1 or 8.0 (or empty for the service default)",
            ));
        }
        let valkey = i.engine_type.trim().eq_ignore_ascii_case("valkey");
        if valkey && major_minor(v).is_some_and(|mm| mm < MIN_VALKEY_VERSION) {
            return Err(ConfigError::new(
                "engine_version",
                v,
                "must be 7.2 or later with engine_type valkey (ElastiCache offers Valkey from 7.2)",
            ));
        }
    }
    Ok(engine_version)
}

/// The nodes: their type, and the replicas and shards within ElastiCache's quota of nodes per
/// cluster.
fn nodes_of(i: &RunInputs) -> Result<(String, u32, u32), ConfigError> {
    let node_type = i.node_type.trim().to_string();
    if !is_node_type(&node_type) {
        return Err(ConfigError::new(
            "node_type",
            &i.node_type,
            "must be an ElastiCache node type like cache.t4g.micro or cache.r7g.large",
        ));
    }
    let num_replicas = whole("num_replicas", &i.num_replicas, 0, MAX_REPLICAS)?;
    let num_shards = whole("num_shards", &i.num_shards, 1, MAX_SHARDS)?;
    if num_shards * (1 + num_replicas) > MAX_NODES {
        return Err(ConfigError::new(
            "num_shards",
            &i.num_shards,
            format!(
                "times (1 + num_replicas = {}) must be at most {MAX_NODES} nodes (ElastiCache's default quota of nodes per cluster)",
                1 + num_replicas
            ),
        ));
    }
    Ok((node_type, num_replicas, num_shards))
}

/// The network: the VPC, its subnets, and the security groups given.
fn network_of(i: &RunInputs) -> Result<(&str, Vec<String>, Vec<String>), ConfigError> {
    let vpc_id = required(
        "vpc_id",
        i.vpc_id.as_ref(),
        "the VPC of the cache and the tasks",
    )?;
    if !is_ec2_id("vpc", vpc_id) {
        return Err(ConfigError::new(
            "vpc_id",
            vpc_id,
            "must be a VPC id like vpc-0123456789abcdef0",
        ));
    }
    let subnets_raw = required(
        "subnet_ids",
        i.subnet_ids.as_ref(),
        "one or more subnets of vpc_id, comma separated",
    )?;
    let subnet_ids = list(i.subnet_ids.as_ref());
    ids("subnet_ids", subnets_raw, &subnet_ids, "subnet", 16)?;
    let security_group_ids = list(i.security_group_ids.as_ref());
    if let Some(raw) = opt(i.security_group_ids.as_ref()) {
        ids("security_group_ids", raw, &security_group_ids, "sg", 5)?;
    }
    Ok((vpc_id, subnet_ids, security_group_ids))
}

/// The tasks' execution role, when given.
fn execution_role_of(i: &RunInputs) -> Result<Option<String>, ConfigError> {
    let execution_role_arn = opt(i.execution_role_arn.as_ref()).map(str::to_string);
    if let Some(a) = &execution_role_arn {
        if !is_role_arn(a) {
            return Err(ConfigError::new(
                "execution_role_arn",
                a,
                "must be an IAM role ARN like arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            ));
        }
    }
    Ok(execution_role_arn)
}

/// The load generators' Fargate size: a CPU size, and a memory size that CPU size allows.
fn fargate_size_of(i: &RunInputs) -> Result<(u32, u32), ConfigError> {
    let loadgen_cpu: u32 = i.loadgen_cpu.trim().parse().unwrap_or(0);
    let Some(memory_options) = fargate_memory_options(loadgen_cpu) else {
        return Err(ConfigError::new(
            "loadgen_cpu",
            &i.loadgen_cpu,
            "must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384",
        ));
    };
    let loadgen_memory_mib: u32 = i.loadgen_memory.trim().parse().unwrap_or(0);
    if !memory_options.contains(&loadgen_memory_mib) {
        let (lo, hi) = (memory_options[0], memory_options[memory_options.len() - 1]);
        let step = memory_options.get(1).map_or(0, |s| s - lo);
        return Err(ConfigError::new(
            "loadgen_memory",
            &i.loadgen_memory,
            format!(
                "must be a Fargate memory size in MiB for loadgen_cpu {loadgen_cpu}: {lo} to {hi} in steps of {step}"
            ),
        ));
    }
    Ok((loadgen_cpu, loadgen_memory_mib))
}

/// The load generators' image, and the credentials of its registry when given.
fn loadgen_image_of(i: &RunInputs) -> Result<(String, Option<String>), ConfigError> {
    let loadgen_image = i.loadgen_image.trim().to_string();
    if !is_image(&loadgen_image) {
        return Err(ConfigError::new(
            "loadgen_image",
            &i.loadgen_image,
            "must be a container image reference like redislabs/memtier_benchmark:2.3.0",
        ));
    }
    let loadgen_repository_credentials =
        opt(i.loadgen_repository_credentials.as_ref()).map(str::to_string);
    if let Some(a) = &loadgen_repository_credentials {
        if !is_secret_arn(a) {
            return Err(ConfigError::new(
                "loadgen_repository_credentials",
                a,
                "must be a Secrets Manager secret ARN like arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf",
            ));
        }
    }
    Ok((loadgen_image, loadgen_repository_credentials))
}

/// The bucket the exports are written to.
fn export_bucket_of(i: &RunInputs) -> Result<&str, ConfigError> {
    let s3_bucket = required(
        "metrics_export_s3_bucket",
        i.metrics_export_s3_bucket.as_ref(),
        "an existing bucket the exports are written to",
    )?;
    if let Some(problem) = bucket_problem(s3_bucket) {
        return Err(ConfigError::new(
            "metrics_export_s3_bucket",
            s3_bucket,
            problem,
        ));
    }
    Ok(s3_bucket)
}

/// The dead-man's switch's role, when given.
fn switch_role_of(i: &RunInputs) -> Result<Option<String>, ConfigError> {
    let dead_mans_switch_role_arn = opt(i.dead_mans_switch_role_arn.as_ref()).map(str::to_string);
    if let Some(a) = &dead_mans_switch_role_arn {
        if !is_role_arn(a) {
            return Err(ConfigError::new(
                "dead_mans_switch_role_arn",
                a,
                "must be an IAM role ARN like arn:aws:iam::123456789012:role/elasticache-perf-expiry",
            ));
        }
    }
    Ok(dead_mans_switch_role_arn)
}

/// The interval of the AWS polls, in seconds.
fn poll_secs_of(i: &RunInputs) -> Result<f64, ConfigError> {
    let poll_secs: f64 = i.aws_poll_seconds.trim().parse().unwrap_or(f64::NAN);
    if !(0.05..=300.0).contains(&poll_secs) {
        return Err(ConfigError::new(
            "aws_poll_seconds",
            &i.aws_poll_seconds,
            "must be a number of seconds from 0.05 to 300",
        ));
    }
    Ok(poll_secs)
}

impl AwsConfig {
    /// Validate the AWS inputs of a run whose timed part lasts `duration`. The region must have
    /// been filled in from the environment by the caller if the user gave none.
    pub fn from_inputs(i: &RunInputs, duration: Duration) -> Result<Self, ConfigError> {
        let region = region_of(i)?;
        let engine_version = engine_version_of(i)?;
        let (node_type, num_replicas, num_shards) = nodes_of(i)?;
        let transit_encryption = parse_bool("transit_encryption", &i.transit_encryption, None)?;
        let cache = cache_choice(i, &node_type, engine_version.as_deref())?;
        let (vpc_id, subnet_ids, security_group_ids) = network_of(i)?;
        let execution_role_arn = execution_role_of(i)?;
        let assign_public_ip = parse_bool("assign_public_ip", &i.assign_public_ip, None)?;
        let (loadgen_cpu, loadgen_memory_mib) = fargate_size_of(i)?;
        let (loadgen_image, loadgen_repository_credentials) = loadgen_image_of(i)?;
        let extra_memtier_args = extra_args(i.extra_memtier_args.as_ref())?;
        let s3_bucket = export_bucket_of(i)?;
        let s3_prefix = s3_prefix(i.s3_prefix.as_ref())?;
        let ttl = ttl_of(i, duration)?;
        let max_cost_usd = max_cost(&i.max_cost_usd)?;
        let dead_mans_switch = parse_bool("dead_mans_switch", &i.dead_mans_switch, None)?;
        let dead_mans_switch_role_arn = switch_role_of(i)?;
        let poll_secs = poll_secs_of(i)?;
        let metrics_wait = whole(
            "aws_metrics_wait_seconds",
            &i.aws_metrics_wait_seconds,
            0,
            900,
        )?;
        Ok(Self {
            region: region.to_string(),
            engine_version,
            node_type,
            num_replicas,
            num_shards,
            transit_encryption,
            vpc_id: vpc_id.to_string(),
            subnet_ids,
            security_group_ids,
            execution_role_arn,
            assign_public_ip,
            loadgen_cpu,
            loadgen_memory_mib,
            loadgen_image,
            loadgen_repository_credentials,
            extra_memtier_args,
            s3_bucket: s3_bucket.to_string(),
            s3_prefix,
            ttl,
            max_cost_usd,
            dead_mans_switch,
            dead_mans_switch_role_arn,
            poll: Duration::from_secs_f64(poll_secs),
            metrics_wait: Duration::from_secs(u64::from(metrics_wait)),
            cache,
        })
    }
}
