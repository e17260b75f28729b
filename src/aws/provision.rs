//! Provisioning of a run: the read-only pre-flight (bucket exists and is writable, subnets are in
//! the VPC, the user's security groups exist), then every resource of the plan, in parallel around
//! the critical path (the replication group), the dead-man's switch included. Each resource goes
//! into the ledger before the call that creates it, so teardown finds it whatever happens next.

use anyhow::Context as _;

use super::ledger::{record, Event, ResourceKind, SharedLedger};
use super::{ecs, elasticache, iam, logs, network, parameters, s3, scheduler, Clients};
use crate::config::Secret;
use crate::error::InputError;
use crate::plan::{names::ROLE_PATH, RunPlan, LOG_RETENTION_DAYS};
use crate::retry::retry;

pub use super::timeouts::Timeouts;

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

/// Checks that need AWS but change nothing of the run: the export bucket exists and takes a write
/// (the plan, as `plan.json` under the run's export prefix), the subnets belong to the VPC, and the
/// security groups the user brought exist. Failures are bad input (exit 2), named after the input.
pub async fn preflight(c: &mut Clients, p: &RunPlan) -> anyhow::Result<()> {
    let bucket = &p.export.bucket;
    match s3::lookup_bucket(&c.s3, bucket)
        .await
        .context("checking the export bucket")?
    {
        s3::BucketLookup::Found(region) => {
            if let Some(r) = region.filter(|r| *r != c.region) {
                tracing::info!("S3 bucket '{bucket}' is in {r}: exporting through a client for {r}");
                c.s3 = s3::client_in(&c.s3, &r);
            }
        }
        s3::BucketLookup::Missing => {
            return Err(InputError::new(format!(
                "input 'metrics_export_s3_bucket' names bucket '{bucket}', which does not exist"
            ))
            .into())
        }
        s3::BucketLookup::Denied => {
            return Err(InputError::new(format!(
                "input 'metrics_export_s3_bucket' names bucket '{bucket}', which these credentials may not use (403): grant s3:ListBucket and s3:PutObject on it (docs/iam-policy.json)"
            ))
            .into())
        }
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
    t: &Timeouts,
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
    // The groups were created a moment ago: EC2 may not show them to this call yet.
    retry(
        &format!("allowing tcp {} into '{cache}' from '{lg}'", p.cache.port),
        &t.retry.ec2_consistency,
        super::Error::is_ec2_not_yet_visible,
        || network::allow_from_group(&c.ec2, &cache, &lg, p.cache.port),
    )
    .await?;
    Ok((vec![cache], vec![lg]))
}

/// Log group, ECS cluster, execution role, then the task definition that needs them.
async fn task_side(
    c: &Clients,
    p: &RunPlan,
    ledger: &SharedLedger,
    t: &Timeouts,
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
        if let Some(secret) = &p.tasks.repository_credentials {
            iam::put_role_policy(
                &c.iam,
                &n.execution_role,
                iam::REGISTRY_CREDENTIALS_POLICY,
                &iam::registry_credentials_policy(secret),
            )
            .await?;
        }
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
    // A role created a moment ago: ECS may call it not valid until IAM has propagated it.
    let td = retry(
        &format!("registering task definition '{}'", n.task_family),
        &t.retry.iam_propagation,
        super::Error::is_iam_propagation,
        || ecs::register_task_definition(&c.ecs, p, &role_arn),
    )
    .await?;
    record(
        ledger,
        ResourceKind::TaskDefinition,
        &n.task_family,
        Some(&td),
        Event::Created,
    )?;
    Ok((role_arn, td))
}

/// The parameter group the run creates for its `parameters` (in the ledger before it is created),
/// with the parameters set; nothing when the cache uses a default or the user's group.
async fn parameter_group(c: &Clients, p: &RunPlan, ledger: &SharedLedger) -> anyhow::Result<()> {
    let Some(g) = p.cache.parameter_group.as_ref().filter(|g| g.creates) else {
        return Ok(());
    };
    let family = elasticache::parameter_group_family(
        &c.elasticache,
        &p.cache.engine,
        p.cache.engine_version.as_deref(),
    )
    .await?;
    record(
        ledger,
        ResourceKind::CacheParameterGroup,
        &g.name,
        None,
        Event::Creating,
    )?;
    parameters::create_parameter_group(&c.elasticache, &g.name, &family, &p.tags).await?;
    record(
        ledger,
        ResourceKind::CacheParameterGroup,
        &g.name,
        None,
        Event::Created,
    )?;
    parameters::set_parameters(&c.elasticache, &g.name, &g.parameters).await?;
    tracing::info!(
        "parameter group '{}' ({family}) created with {} parameter(s)",
        g.name,
        g.parameters.len()
    );
    Ok(())
}

/// A run on the user's own cache: only the load generators' side is created (the user's security
/// groups, no cache, no subnet group, no switch); the cache's endpoint and members come from the
/// plan, which read them from AWS.
async fn provision_for_existing(
    c: &Clients,
    p: &RunPlan,
    e: &crate::plan::ExistingSpec,
    ledger: &SharedLedger,
    t: &Timeouts,
) -> anyhow::Result<Provisioned> {
    let (execution_role_arn, task_definition_arn) = task_side(c, p, ledger, t)
        .await
        .context("provisioning the load generators' cluster, role and task definition")?;
    Ok(Provisioned {
        cache_security_groups: Vec::new(),
        task_security_groups: p.network.security_group_ids.clone(),
        execution_role_arn,
        task_definition_arn,
        endpoint: e.host.clone(),
        member_clusters: e.member_clusters.clone(),
    })
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
    if let Some(e) = &p.cache.existing {
        return provision_for_existing(c, p, e, ledger, t).await;
    }
    let n = &p.names;
    let sgs = async {
        security_groups(c, p, ledger, t)
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
    let params = async {
        parameter_group(c, p, ledger)
            .await
            .context("provisioning the cache parameter group")
    };
    let cache = async {
        let (groups, (), ()) = tokio::try_join!(sgs, subnet_group, params)?;
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
        scheduler::arm(c, p, ledger, t).await.context(
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
        task_side(c, p, ledger, t)
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
