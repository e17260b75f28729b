//! Provisioning of a run: the read-only pre-flight (bucket exists and is writable, subnets are in
//! the VPC, the user's security groups exist), then every resource of the plan, in parallel around
//! the critical path (the replication group), the dead-man's switch included. Each resource goes
//! into the ledger before the call that creates it, so teardown finds it whatever happens next.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;

use super::{ecs, elasticache, iam, logs, network, s3, scheduler, Clients};
use crate::config::Secret;
use crate::plan::{names::ROLE_PATH, RunPlan, LOG_RETENTION_DAYS};
use crate::run::ledger::{Event, Ledger, ResourceKind};
use crate::InputError;

/// The ledger shared by the branches that provision in parallel (each write is short and sync).
pub type SharedLedger = Mutex<Ledger>;

/// Deadlines and poll intervals of the AWS target.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// Longest wait for the replication group to become available.
    pub create: Duration,
    /// Longest wait for the replication group to be deleted.
    pub delete: Duration,
    /// Longest retrying of a security group or subnet group that is still in use.
    pub in_use: Duration,
    /// Pause between two reads of a state.
    pub poll: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            create: Duration::from_secs(45 * 60),
            delete: Duration::from_secs(40 * 60),
            in_use: Duration::from_secs(15 * 60),
            poll: elasticache::POLL_EVERY,
        }
    }
}

/// What provisioning made, for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provisioned {
    /// Security groups of the cache.
    pub cache_security_groups: Vec<String>,
    /// Security groups of the tasks.
    pub task_security_groups: Vec<String>,
    /// Execution role ARN.
    pub execution_role_arn: String,
    /// Task definition ARN (with revision).
    pub task_definition_arn: String,
    /// The host the tasks connect to.
    pub endpoint: String,
    /// Member cluster ids (CloudWatch dimensions).
    pub member_clusters: Vec<String>,
}

/// Append one event to the shared ledger.
pub fn record(
    ledger: &SharedLedger,
    kind: ResourceKind,
    name: &str,
    id: Option<&str>,
    event: Event,
) -> anyhow::Result<()> {
    ledger
        .lock()
        .map_err(|_| anyhow::anyhow!("the resource ledger lock is poisoned"))?
        .record(kind, name, id, event)
}

/// Checks that need AWS but change nothing of the run: the export bucket exists and takes a write
/// (the plan, as `plan.json` under the run's export prefix), the subnets belong to the VPC, and the
/// security groups the user brought exist. Failures are bad input (exit 2), named after the input.
pub async fn preflight(c: &Clients, p: &RunPlan) -> anyhow::Result<()> {
    let bucket = &p.export.bucket;
    if !s3::bucket_exists(&c.s3, bucket)
        .await
        .context("checking the export bucket")?
    {
        return Err(InputError::new(format!(
            "input 'metrics_export_s3_bucket' names bucket '{bucket}', which does not exist or is not visible to these credentials"
        ))
        .into());
    }
    let key = format!("{}plan.json", p.export.prefix);
    let body = serde_json::to_vec_pretty(p)?;
    if let Err(e) = s3::put_object(&c.s3, bucket, &key, body, "application/json").await {
        return Err(InputError::new(format!(
            "input 'metrics_export_s3_bucket': bucket '{bucket}' is not writable ({e})"
        ))
        .into());
    }
    if let Err(msg) = network::check_subnets(&c.ec2, &p.network.vpc_id, &p.network.subnet_ids)
        .await
        .context("checking the subnets")?
    {
        return Err(InputError::new(msg).into());
    }
    for sg in &p.network.security_group_ids {
        if !network::security_group_exists(&c.ec2, sg)
            .await
            .context("checking the security groups")?
        {
            return Err(InputError::new(format!(
                "input 'security_group_ids' names '{sg}', which does not exist in this account and region"
            ))
            .into());
        }
    }
    Ok(())
}

/// The two security groups (or the user's): `(cache groups, task groups)`.
async fn security_groups(
    c: &Clients,
    p: &RunPlan,
    ledger: &SharedLedger,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    if !p.network.creates_security_groups {
        let g = p.network.security_group_ids.clone();
        return Ok((g.clone(), g));
    }
    let n = &p.names;
    let vpc = &p.network.vpc_id;
    record(
        ledger,
        ResourceKind::SecurityGroup,
        &n.loadgen_security_group,
        None,
        Event::Creating,
    )?;
    let lg = network::create_security_group(
        &c.ec2,
        &n.loadgen_security_group,
        "elasticache-perf load generators (no ingress)",
        vpc,
        &p.tags,
    )
    .await?;
    record(
        ledger,
        ResourceKind::SecurityGroup,
        &n.loadgen_security_group,
        Some(&lg),
        Event::Created,
    )?;
    record(
        ledger,
        ResourceKind::SecurityGroup,
        &n.cache_security_group,
        None,
        Event::Creating,
    )?;
    let cache = network::create_security_group(
        &c.ec2,
        &n.cache_security_group,
        "elasticache-perf cache (ingress only from the load generators)",
        vpc,
        &p.tags,
    )
    .await?;
    record(
        ledger,
        ResourceKind::SecurityGroup,
        &n.cache_security_group,
        Some(&cache),
        Event::Created,
    )?;
    network::allow_from_group(&c.ec2, &cache, &lg, p.cache.port).await?;
    Ok((vec![cache], vec![lg]))
}

/// Log group, ECS cluster, execution role, then the task definition that needs them.
async fn task_side(
    c: &Clients,
    p: &RunPlan,
    ledger: &SharedLedger,
) -> anyhow::Result<(String, String)> {
    let n = &p.names;
    let log_group = async {
        record(
            ledger,
            ResourceKind::LogGroup,
            &n.log_group,
            None,
            Event::Creating,
        )?;
        logs::create_log_group(&c.logs, &n.log_group, &p.tags, LOG_RETENTION_DAYS).await?;
        record(
            ledger,
            ResourceKind::LogGroup,
            &n.log_group,
            None,
            Event::Created,
        )
    };
    let cluster = async {
        record(
            ledger,
            ResourceKind::EcsCluster,
            &n.ecs_cluster,
            None,
            Event::Creating,
        )?;
        // Container Insights makes this log group itself and does not delete it with the cluster.
        let insights = ecs::insights_log_group(&n.ecs_cluster);
        record(
            ledger,
            ResourceKind::LogGroup,
            &insights,
            None,
            Event::Creating,
        )?;
        ecs::create_cluster(&c.ecs, &n.ecs_cluster, &p.tags).await?;
        record(
            ledger,
            ResourceKind::EcsCluster,
            &n.ecs_cluster,
            None,
            Event::Created,
        )
    };
    let role = async {
        if let Some(arn) = &p.tasks.execution_role_arn {
            return anyhow::Ok(arn.clone());
        }
        record(
            ledger,
            ResourceKind::IamRole,
            &n.execution_role,
            None,
            Event::Creating,
        )?;
        let arn = iam::create_execution_role(&c.iam, &n.execution_role, ROLE_PATH, &p.tags).await?;
        record(
            ledger,
            ResourceKind::IamRole,
            &n.execution_role,
            Some(&arn),
            Event::Created,
        )?;
        iam::attach_execution_policy(&c.iam, &n.execution_role, &c.region).await?;
        Ok(arn)
    };
    let ((), (), role_arn) = tokio::try_join!(log_group, cluster, role)?;
    record(
        ledger,
        ResourceKind::TaskDefinition,
        &n.task_family,
        None,
        Event::Creating,
    )?;
    let td = ecs::register_task_definition(&c.ecs, p, &role_arn).await?;
    record(
        ledger,
        ResourceKind::TaskDefinition,
        &n.task_family,
        Some(&td),
        Event::Created,
    )?;
    Ok((role_arn, td))
}

/// Create everything of the plan. On error, what was created is in the ledger; the caller tears
/// it down.
pub async fn provision(
    c: &Clients,
    p: &RunPlan,
    ledger: &SharedLedger,
    token: Option<&Secret>,
    t: &Timeouts,
) -> anyhow::Result<Provisioned> {
    let n = &p.names;
    let sgs = async {
        security_groups(c, p, ledger)
            .await
            .context("provisioning the security groups")
    };
    let subnet_group = async {
        record(
            ledger,
            ResourceKind::CacheSubnetGroup,
            &n.cache_subnet_group,
            None,
            Event::Creating,
        )?;
        elasticache::create_subnet_group(
            &c.elasticache,
            &n.cache_subnet_group,
            &p.network.subnet_ids,
            &p.tags,
        )
        .await
        .context("provisioning the cache subnet group")?;
        record(
            ledger,
            ResourceKind::CacheSubnetGroup,
            &n.cache_subnet_group,
            None,
            Event::Created,
        )
    };
    let rg = &n.replication_group;
    let cache = async {
        let (groups, ()) = tokio::try_join!(sgs, subnet_group)?;
        record(
            ledger,
            ResourceKind::ReplicationGroup,
            rg,
            None,
            Event::Creating,
        )?;
        elasticache::create_replication_group(&c.elasticache, p, &groups.0, token)
            .await
            .context("provisioning the replication group")?;
        record(
            ledger,
            ResourceKind::ReplicationGroup,
            rg,
            None,
            Event::Created,
        )?;
        anyhow::Ok(groups)
    };
    // The switch is armed alongside, and before anything waits on the group: a run that dies
    // while the group is being created still has it deleted at the expiry.
    let switch = async {
        scheduler::arm(c, p, ledger).await.context(
            "arming the dead-man's switch (input 'dead_mans_switch': grant the permissions \
             docs/aws.md lists, or set it to false)",
        )
    };
    let ((cache_sgs, task_sgs), ()) = tokio::try_join!(cache, switch)?;
    tracing::info!(
        "replication group '{rg}' is being created; preparing the load generators meanwhile"
    );
    let wait = async {
        elasticache::wait_available(&c.elasticache, rg, t.create, t.poll)
            .await
            .context("provisioning the replication group")
    };
    let side = async {
        task_side(c, p, ledger)
            .await
            .context("provisioning the load generators' cluster, role and task definition")
    };
    let (info, (execution_role_arn, task_definition_arn)) = tokio::try_join!(wait, side)?;
    let endpoint = info.endpoint.clone().ok_or_else(|| {
        anyhow::anyhow!("replication group '{rg}' is available but has no endpoint")
    })?;
    tracing::info!("replication group '{rg}' is available at {endpoint}");
    Ok(Provisioned {
        cache_security_groups: cache_sgs,
        task_security_groups: task_sgs,
        execution_role_arn,
        task_definition_arn,
        endpoint,
        member_clusters: info.member_clusters,
    })
}
