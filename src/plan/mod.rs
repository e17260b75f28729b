//! The plan of an AWS run: from a validated [`Config`] to every resource with its name, tags and
//! parameters, the task's script and memtier command line (token redacted), the timeouts, the
//! dead-man's switch, the export location and the cost estimate. Pure: the clock and the repository
//! come in as arguments, so the same inputs always give the same plan.

pub mod cache;
pub mod cost;
pub mod frames;
pub mod names;
mod render;
pub mod script;
pub mod switch;

use std::collections::BTreeMap;

use serde::Serialize;

pub use cache::{ExistingSpec, ParameterGroupSpec};
pub use cost::CostEstimate;
pub use names::ResourceNames;
pub use render::render_text;
pub use script::TaskScript;
pub use switch::SwitchSpec;

use crate::config::{AwsConfig, Config, Target};
use crate::results::rfc3339_ms;

/// Tag on every resource: the run id.
pub const TAG_RUN_ID: &str = "elasticache-perf:run-id";
/// Tag on every resource: when it counts as abandoned (RFC 3339, UTC).
pub const TAG_EXPIRES_AT: &str = "elasticache-perf:expires-at";
/// Tag on every resource: when its run started (RFC 3339, UTC), for `sweep --older-than`.
pub const TAG_CREATED_AT: &str = "elasticache-perf:created-at";
/// Tag on every resource when known: `owner/repo` of the workflow that made it.
pub const TAG_REPOSITORY: &str = "elasticache-perf:repository";
/// The cache port.
pub const CACHE_PORT: u16 = 6379;
/// RunTask starts at most this many tasks per call.
pub const RUN_TASK_BATCH: u32 = 10;
/// Seconds after a task's hard timeout before the tool stops it (its results need time to print).
pub const STOP_GRACE_SECS: u64 = 120;
/// Seconds running load generators may all go without progress before the load is cut short
/// (memtier hangs forever on a wrong password).
pub const STALL_LIMIT_SECS: u64 = 120;
/// Retention of the run's log group, days (the results are exported; the logs are a safety net).
pub const LOG_RETENTION_DAYS: i32 = 7;

/// Why there is no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The target is not aws.
    #[error("input 'target' is '{0}': a plan describes the AWS resources of `--target aws`")]
    NotAws(String),
    /// The run id cannot name resources.
    #[error(transparent)]
    RunId(#[from] names::BadRunId),
}

/// The replication group to create.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheSpec {
    /// `redis` or `valkey`.
    pub engine: String,
    /// `None`: the service default.
    pub engine_version: Option<String>,
    /// Node type.
    pub node_type: String,
    /// Shards (node groups).
    pub num_shards: u32,
    /// Replicas per shard.
    pub replicas_per_shard: u32,
    /// Nodes in total.
    pub nodes: u32,
    /// Cluster mode enabled (more than one shard).
    pub cluster_mode: bool,
    /// Automatic failover (required by cluster mode, possible with replicas).
    pub automatic_failover: bool,
    /// TLS in transit with a per-run random AUTH token.
    pub transit_encryption: bool,
    /// Encryption at rest (always on).
    pub at_rest_encryption: bool,
    /// Port.
    pub port: u16,
    /// The user's own cache instead of a created one (then the fields above are what AWS reports
    /// of it, as far as known).
    pub existing: Option<ExistingSpec>,
    /// The parameter group of a created cache (`None`: the engine's default).
    pub parameter_group: Option<ParameterGroupSpec>,
    /// The cache settings as the profile key carries them (`None`: the defaults).
    pub parameters_profile: Option<String>,
    /// Data tiering (required by `cache.r6gd.*` node types).
    pub data_tiering: bool,
}

/// Network placement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkSpec {
    /// VPC.
    pub vpc_id: String,
    /// Subnets (cache subnet group and tasks).
    pub subnet_ids: Vec<String>,
    /// Whether the tool creates the two security groups (cache ingress only from the loadgen group).
    pub creates_security_groups: bool,
    /// Security groups the user brought.
    pub security_group_ids: Vec<String>,
    /// Public IP for the tasks.
    pub assign_public_ip: bool,
}

/// The load generator tasks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TasksSpec {
    /// Container image.
    pub image: String,
    /// Secrets Manager secret with the image registry's credentials (ECS repositoryCredentials).
    pub repository_credentials: Option<String>,
    /// Fargate CPU units.
    pub cpu: u32,
    /// Fargate memory, MiB.
    pub memory_mib: u32,
    /// Timed tasks.
    pub count: u32,
    /// RunTask calls and the tasks each starts (≤ 10).
    pub batches: Vec<u32>,
    /// A prefill task runs once before the timed tasks.
    pub prefill: bool,
    /// The execution role to create (`None`: the user's `execution_role_arn` is used).
    pub creates_execution_role: bool,
    /// The user's execution role.
    pub execution_role_arn: Option<String>,
    /// The script and command lines.
    pub script: TaskScript,
    /// Seconds after a timed task starts when the tool stops it if it is still running.
    pub stop_after_secs: u64,
}

/// Where the exports go.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportSpec {
    /// Bucket.
    pub bucket: String,
    /// Key prefix of this run's exports: `{s3_prefix}/exports/{timestamp}/`.
    pub prefix: String,
}

/// Everything an AWS run will create and do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPlan {
    /// Run id.
    pub run_id: String,
    /// Region.
    pub region: String,
    /// Resource names.
    pub names: ResourceNames,
    /// Tags on every resource.
    pub tags: BTreeMap<String, String>,
    /// Expiry (RFC 3339), also in the tags.
    pub expires_at: String,
    /// The dead-man's switch that deletes the cache at the expiry (`None`: `dead_mans_switch` off).
    pub dead_mans_switch: Option<SwitchSpec>,
    /// Cache.
    pub cache: CacheSpec,
    /// Network.
    pub network: NetworkSpec,
    /// Tasks.
    pub tasks: TasksSpec,
    /// Exports.
    pub export: ExportSpec,
    /// Cost estimate.
    pub cost: CostEstimate,
    /// The user's cost cap.
    pub max_cost_usd: Option<f64>,
}

/// The run's ids and time, which the plan does not make up itself.
#[derive(Clone, Debug)]
pub struct PlanContext<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// Start of the run, Unix milliseconds.
    pub now_unix_ms: u64,
    /// `owner/repo`, when known.
    pub repository: Option<&'a str>,
    /// The user's own cache as read from AWS (`None`: not read, as in `plan`).
    pub existing: Option<&'a ExistingSpec>,
}

/// RunTask batches of at most [`RUN_TASK_BATCH`].
pub fn batches(count: u32) -> Vec<u32> {
    let mut left = count;
    let mut out = Vec::new();
    while left > 0 {
        let n = left.min(RUN_TASK_BATCH);
        out.push(n);
        left -= n;
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time, for export keys.
pub fn export_timestamp(unix_ms: u64) -> String {
    let s = rfc3339_ms(unix_ms);
    // 2026-11-26T20:49:47.123Z → 20261126T204947Z
    let digits: String = s
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{digits}Z")
}

/// The run's tags: its id, its expiry and its creation time, and the repository when known.
fn tags_of(ctx: &PlanContext<'_>, expires_at: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([
        (TAG_RUN_ID.to_string(), ctx.run_id.to_string()),
        (TAG_EXPIRES_AT.to_string(), expires_at.to_string()),
        (TAG_CREATED_AT.to_string(), rfc3339_seconds(ctx.now_unix_ms)),
    ]);
    if let Some(r) = ctx.repository.filter(|r| !r.is_empty()) {
        tags.insert(TAG_REPOSITORY.to_string(), r.to_string());
    }
    tags
}

/// The cache the run creates, as the AWS inputs shape it.
fn created_cache(cfg: &Config, aws: &AwsConfig, names: &ResourceNames) -> CacheSpec {
    let cluster_mode = aws.cluster_mode();
    CacheSpec {
        engine: cfg.engine.as_str().into(),
        engine_version: aws.engine_version.clone(),
        node_type: aws.node_type.clone(),
        num_shards: aws.num_shards,
        replicas_per_shard: aws.num_replicas,
        nodes: aws.node_count(),
        cluster_mode,
        automatic_failover: cluster_mode || aws.num_replicas > 0,
        transit_encryption: aws.transit_encryption,
        at_rest_encryption: true,
        port: CACHE_PORT,
        existing: None,
        parameter_group: cache::parameter_group(
            &aws.cache.parameters,
            &names.parameter_group,
            cluster_mode,
        ),
        parameters_profile: cache::profile_value(&aws.cache.parameters),
        data_tiering: aws.cache.data_tiering,
    }
}

/// The user's own cache, as read from ElastiCache (or as given, when it could not be read).
fn own_cache(cfg: &Config, e: &ExistingSpec) -> CacheSpec {
    let shards = e.num_shards.unwrap_or(1);
    let replicas = e.replicas_per_shard.unwrap_or(0);
    CacheSpec {
        engine: e
            .engine
            .clone()
            .unwrap_or_else(|| cfg.engine.as_str().into()),
        engine_version: e.engine_version.clone(),
        node_type: e.node_type.clone().unwrap_or_else(|| "unknown".into()),
        num_shards: shards,
        replicas_per_shard: replicas,
        nodes: shards * (1 + replicas),
        cluster_mode: e.cluster_mode,
        automatic_failover: e.cluster_mode || replicas > 0,
        transit_encryption: e.tls,
        at_rest_encryption: false,
        port: e.port,
        existing: Some(e.clone()),
        parameter_group: None,
        parameters_profile: None,
        data_tiering: false,
    }
}

/// The load generators' tasks: their script (for the cache's port, TLS, AUTH and topology), their
/// Fargate size and image, their count and batches, and when they are stopped.
fn tasks_of(cfg: &Config, aws: &AwsConfig, cache: &CacheSpec, own: bool) -> TasksSpec {
    let cluster_mode = cache.cluster_mode;
    let test_secs = cfg.duration.as_secs().max(1);
    let script = script::task_script(&script::ScriptSpec {
        workload: &cfg.workload,
        port: cache.port,
        tls: cache.transit_encryption,
        // A created cache with TLS gets the run's token; the user's cache, the token they gave.
        auth: if own {
            aws.cache.auth_token.is_some()
        } else {
            cache.transit_encryption
        },
        cluster_mode,
        test_secs,
        prefill: cfg.prefill,
        extra_args: &aws.extra_memtier_args,
    });
    let stop_after_secs = script.timed_timeout_secs + script::KILL_AFTER_SECS + STOP_GRACE_SECS;
    TasksSpec {
        image: aws.loadgen_image.clone(),
        repository_credentials: aws.loadgen_repository_credentials.clone(),
        cpu: aws.loadgen_cpu,
        memory_mib: aws.loadgen_memory_mib,
        count: cfg.task_count,
        batches: batches(cfg.task_count),
        prefill: cfg.prefill,
        creates_execution_role: aws.execution_role_arn.is_none(),
        execution_role_arn: aws.execution_role_arn.clone(),
        script,
        stop_after_secs,
    }
}

/// The run's cost estimate (without the cache when it is the user's own).
fn cost_of(cfg: &Config, aws: &AwsConfig, own: bool) -> CostEstimate {
    let test_secs = cfg.duration.as_secs().max(1);
    let mut cost = cost::estimate(&cost::CostInputs {
        engine: cfg.engine,
        node_type: &aws.node_type,
        nodes: aws.node_count(),
        test_secs,
        prefill: cfg.prefill,
        tasks: cfg.task_count,
        cpu_units: aws.loadgen_cpu,
        memory_mib: aws.loadgen_memory_mib,
        public_ip: aws.assign_public_ip,
    });
    if own {
        // The user's cache costs what it costs whether or not it is loaded.
        cost = cost::without_cache(cost);
    }
    cost
}

/// Plan an AWS run.
pub fn plan(cfg: &Config, ctx: &PlanContext<'_>) -> Result<RunPlan, PlanError> {
    let Some(aws) = cfg.aws.as_ref().filter(|_| cfg.target == Target::Aws) else {
        return Err(PlanError::NotAws("local".into()));
    };
    let names = ResourceNames::for_run(ctx.run_id)?;
    let expires_ms = ctx.now_unix_ms + u64::try_from(aws.ttl.as_millis()).unwrap_or(u64::MAX / 2);
    let expires_at = rfc3339_seconds(expires_ms);
    let tags = tags_of(ctx, &expires_at);
    let existing = aws.cache.existing.as_ref().map(|given| {
        ctx.existing
            .cloned()
            .unwrap_or_else(|| ExistingSpec::unresolved(given))
    });
    let cache = match &existing {
        None => created_cache(cfg, aws, &names),
        Some(e) => own_cache(cfg, e),
    };
    let tasks = tasks_of(cfg, aws, &cache, existing.is_some());
    let cost = cost_of(cfg, aws, existing.is_some());
    let ts = export_timestamp(ctx.now_unix_ms);
    let prefix = if aws.s3_prefix.is_empty() {
        format!("exports/{ts}/")
    } else {
        format!("{}/exports/{ts}/", aws.s3_prefix)
    };
    // The switch deletes the run's replication group: never armed for a cache the run did not make.
    let dead_mans_switch = (aws.dead_mans_switch && existing.is_none()).then(|| {
        switch::switch(
            &names,
            ctx.run_id,
            &aws.region,
            &expires_at,
            aws.dead_mans_switch_role_arn.as_deref(),
        )
    });
    Ok(RunPlan {
        run_id: ctx.run_id.to_string(),
        region: aws.region.clone(),
        names,
        tags,
        expires_at,
        dead_mans_switch,
        cache,
        network: NetworkSpec {
            vpc_id: aws.vpc_id.clone(),
            subnet_ids: aws.subnet_ids.clone(),
            creates_security_groups: aws.security_group_ids.is_empty(),
            security_group_ids: aws.security_group_ids.clone(),
            assign_public_ip: aws.assign_public_ip,
        },
        tasks,
        export: ExportSpec {
            bucket: aws.s3_bucket.clone(),
            prefix,
        },
        cost,
        max_cost_usd: aws.max_cost_usd,
    })
}

/// RFC 3339 in whole seconds (`2026-11-26T20:49:47Z`), the form of the expiry tag.
fn rfc3339_seconds(unix_ms: u64) -> String {
    let s = rfc3339_ms(unix_ms - unix_ms % 1000);
    s.replace(".000Z", "Z")
}

/// Refuse a plan whose estimate exceeds the cap, or whose cost cannot be estimated under a cap.
pub fn check_budget(p: &RunPlan) -> Result<(), String> {
    let Some(max) = p.max_cost_usd else {
        return Ok(());
    };
    if !p.cost.is_complete {
        let missing: Vec<&str> = p
            .cost
            .lines
            .iter()
            .filter(|l| l.usd.is_none())
            .map(|l| l.item.as_str())
            .collect();
        return Err(format!(
            "input 'max_cost_usd' is {max} but the built-in price table ({} {}) has no price for {}; \
             set max_cost_usd to 'none' to run without a cost check",
            p.cost.price_table_region,
            p.cost.price_table_date,
            missing.join(", ")
        ));
    }
    if p.cost.total_usd > max {
        return Err(format!(
            "input 'max_cost_usd' is {max} but this run is estimated at ${:.2}; \
             shorten test_duration_minutes, use fewer or smaller nodes or tasks, or raise max_cost_usd",
            p.cost.total_usd
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
