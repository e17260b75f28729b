//! ElastiCache for the AWS target: the cache subnet group and the replication group — create, wait
//! until available (or failed), delete, wait until gone — with the endpoint and member clusters that
//! the load generators and the metrics need.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticache::types::Tag;

use super::error::{Error, Result};
use crate::config::Secret;
use crate::plan::RunPlan;
use crate::retry::{poll_until, Policy, PollError, Probe};

pub use super::timeouts::POLL_EVERY;

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The parts of a replication group the run needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    /// `creating`, `available`, `deleting`, `create-failed`, …
    pub status: String,
    /// Host the load generators connect to: the configuration endpoint in cluster mode, else the
    /// primary endpoint.
    pub endpoint: Option<String>,
    /// Member cluster ids (the CloudWatch `CacheClusterId` dimension).
    pub member_clusters: Vec<String>,
}

/// Create the cache subnet group.
pub async fn create_subnet_group(
    ec: &aws_sdk_elasticache::Client,
    name: &str,
    subnet_ids: &[String],
    t: &BTreeMap<String, String>,
) -> Result<()> {
    ec.create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description("elasticache-perf benchmark run")
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "CreateCacheSubnetGroup",
                format!("cache subnet group '{name}'"),
                e,
            )
        })?;
    Ok(())
}

/// Delete the cache subnet group.
pub async fn delete_subnet_group(ec: &aws_sdk_elasticache::Client, name: &str) -> Result<()> {
    ec.delete_cache_subnet_group()
        .cache_subnet_group_name(name)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "DeleteCacheSubnetGroup",
                format!("cache subnet group '{name}'"),
                e,
            )
        })?;
    Ok(())
}

/// Whether the cache subnet group exists.
pub async fn subnet_group_exists(ec: &aws_sdk_elasticache::Client, name: &str) -> Result<bool> {
    match ec
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = Error::from_sdk(
                "DescribeCacheSubnetGroups",
                format!("cache subnet group '{name}'"),
                e,
            );
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// The parameter group family (`redis7`, `valkey8`, …) of an engine version, or of the engine's
/// default version when none is given (DescribeCacheEngineVersions).
pub async fn parameter_group_family(
    ec: &aws_sdk_elasticache::Client,
    engine: &str,
    version: Option<&str>,
) -> Result<String> {
    let what = || format!("{engine} {}", version.unwrap_or("(default version)"));
    let out = ec
        .describe_cache_engine_versions()
        .engine(engine)
        .set_engine_version(version.map(str::to_string))
        .set_default_only(version.is_none().then_some(true))
        .send()
        .await
        .map_err(|e| Error::from_sdk("DescribeCacheEngineVersions", what(), e))?;
    out.cache_engine_versions()
        .iter()
        .find_map(|v| v.cache_parameter_group_family())
        .map(str::to_string)
        .ok_or_else(|| Error::Failed {
            action: "DescribeCacheEngineVersions",
            resource: what(),
            detail:
                "ElastiCache offers no such engine version in this region (input 'engine_version')"
                    .into(),
        })
}

/// The parameter group a cluster-mode group needs: the engine family's cluster-enabled default
/// (`default.<family>.cluster.on`). Without one, CreateReplicationGroup uses the family's default
/// group, whose `cluster-enabled` is `no`.
pub fn cluster_parameter_group(family: &str) -> String {
    format!("default.{family}.cluster.on")
}

/// Start creating the replication group of the plan (returns at once; see [`wait_available`]).
pub async fn create_replication_group(
    ec: &aws_sdk_elasticache::Client,
    p: &RunPlan,
    security_group_ids: &[String],
    token: Option<&Secret>,
) -> Result<()> {
    let c = &p.cache;
    let id = &p.names.replication_group;
    let mut req = ec
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description(format!("elasticache-perf run {}", p.run_id))
        .engine(&c.engine)
        .set_engine_version(c.engine_version.clone())
        .cache_node_type(&c.node_type)
        .cache_subnet_group_name(&p.names.cache_subnet_group)
        .set_security_group_ids(Some(security_group_ids.to_vec()))
        .port(i32::from(c.port))
        // NumNodeGroups + ReplicasPerNodeGroup describe both modes (AWS accepts NumNodeGroups=1 for
        // cluster mode disabled); NumCacheClusters would be the older way for one shard.
        .num_node_groups(i32::try_from(c.num_shards).unwrap_or(i32::MAX))
        .replicas_per_node_group(i32::try_from(c.replicas_per_shard).unwrap_or(i32::MAX))
        .automatic_failover_enabled(c.automatic_failover)
        .at_rest_encryption_enabled(c.at_rest_encryption)
        .transit_encryption_enabled(c.transit_encryption)
        .snapshot_retention_limit(0)
        .set_tags(Some(tags(&p.tags)));
    if let Some(g) = &c.parameter_group {
        tracing::info!("replication group '{id}' uses parameter group '{}'", g.name);
        req = req.cache_parameter_group_name(&g.name);
    } else if c.cluster_mode {
        let family = parameter_group_family(ec, &c.engine, c.engine_version.as_deref()).await?;
        let group = cluster_parameter_group(&family);
        tracing::info!("cluster mode: replication group '{id}' uses parameter group '{group}'");
        req = req.cache_parameter_group_name(group);
    }
    if c.data_tiering {
        // ElastiCache creates data-tiering node types (r6gd) only with this flag.
        req = req.data_tiering_enabled(true);
    }
    if let Some(t) = token.filter(|_| c.transit_encryption) {
        req = req.auth_token(t.expose());
    }
    req.send().await.map_err(|e| {
        Error::from_sdk(
            "CreateReplicationGroup",
            format!("replication group '{id}'"),
            e,
        )
    })?;
    Ok(())
}

/// One replication group as DescribeReplicationGroups returns it (`NotFound` when it does not
/// exist). Serves both the run's own cache ([`describe`]) and the user's (`existing`).
pub async fn describe_group(
    ec: &aws_sdk_elasticache::Client,
    id: &str,
) -> Result<aws_sdk_elasticache::types::ReplicationGroup> {
    let out = ec
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "DescribeReplicationGroups",
                format!("replication group '{id}'"),
                e,
            )
        })?;
    out.replication_groups()
        .first()
        .cloned()
        .ok_or_else(|| Error::NotFound {
            action: "DescribeReplicationGroups",
            resource: format!("replication group '{id}'"),
            code: "empty response".into(),
        })
}

/// Describe the replication group (`NotFound` when it does not exist).
pub async fn describe(ec: &aws_sdk_elasticache::Client, id: &str) -> Result<GroupInfo> {
    let g = describe_group(ec, id).await?;
    let endpoint = g
        .configuration_endpoint()
        .and_then(|e| e.address())
        .or_else(|| {
            g.node_groups()
                .first()
                .and_then(|n| n.primary_endpoint())
                .and_then(|e| e.address())
        })
        .map(str::to_string);
    Ok(GroupInfo {
        status: g.status().unwrap_or("unknown").to_string(),
        endpoint,
        member_clusters: g.member_clusters().to_vec(),
    })
}

/// A poll's end as the target's error: the probe's own error, or a [`Error::Timeout`].
fn poll_error(action: &'static str, id: &str, e: PollError<Error>) -> Error {
    match e {
        PollError::Failed(e) => e,
        PollError::TimedOut { last, waited, .. } => Error::Timeout {
            action,
            resource: format!("replication group '{id}'"),
            state: last,
            secs: waited.as_secs(),
        },
    }
}

/// Wait until the group is `available`; fail on `create-failed`, `deleting` or when `timeout` passes.
pub async fn wait_available(
    ec: &aws_sdk_elasticache::Client,
    id: &str,
    timeout: Duration,
    poll: Duration,
) -> Result<GroupInfo> {
    const ACTION: &str = "waiting for replication group to be available";
    let policy = Policy::new("replication group creation", poll, poll, timeout);
    poll_until(
        &format!("replication group '{id}' to be available"),
        &policy,
        || async {
            let info = describe(ec, id).await?;
            match info.status.as_str() {
                "available" => Ok(Probe::Ready(info)),
                "create-failed" | "deleting" | "deleted" => Err(Error::Failed {
                    action: ACTION,
                    resource: format!("replication group '{id}'"),
                    detail: format!("it is '{}'", info.status),
                }),
                _ => Ok(Probe::Pending(info.status)),
            }
        },
    )
    .await
    .map_err(|e| poll_error(ACTION, id, e))
}

/// Ask once for the group's deletion, without waiting (the signal path: `cleanup` finishes).
/// Not-found is success; a group still being created answers `InvalidReplicationGroupState`.
pub async fn request_delete(ec: &aws_sdk_elasticache::Client, id: &str) -> Result<()> {
    let r = ec
        .delete_replication_group()
        .replication_group_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::from_sdk(
                "DeleteReplicationGroup",
                format!("replication group '{id}'"),
                e,
            )
        });
    super::error::ok_if_not_found(r)
}

/// Delete the group idempotently: not-found is success; a group still being created (or modified)
/// is waited for first, because ElastiCache refuses to delete it in that state. Then wait until it
/// is gone, so that its subnet group and security groups can be deleted after it.
pub async fn delete_and_wait(
    ec: &aws_sdk_elasticache::Client,
    id: &str,
    timeout: Duration,
    poll: Duration,
) -> Result<()> {
    let asked = std::sync::atomic::AtomicBool::new(false);
    let policy = Policy::new("replication group deletion", poll, poll, timeout);
    poll_until(
        &format!("replication group '{id}' to be deleted"),
        &policy,
        || async {
            let info = match describe(ec, id).await {
                Ok(i) => i,
                Err(e) if e.is_not_found() => return Ok(Probe::Ready(())),
                Err(e) => return Err(e),
            };
            let deletable = matches!(
                info.status.as_str(),
                "available" | "create-failed" | "incompatible-network" | "restore-failed"
            );
            if deletable && !asked.load(std::sync::atomic::Ordering::SeqCst) {
                match ec
                    .delete_replication_group()
                    .replication_group_id(id)
                    .send()
                    .await
                {
                    Ok(_) => asked.store(true, std::sync::atomic::Ordering::SeqCst),
                    Err(e) => {
                        let e = Error::from_sdk(
                            "DeleteReplicationGroup",
                            format!("replication group '{id}'"),
                            e,
                        );
                        if e.is_not_found() {
                            return Ok(Probe::Ready(()));
                        }
                        // Someone else changed its state in between: look again after a pause.
                        if e.code() != Some("InvalidReplicationGroupState") {
                            return Err(e);
                        }
                    }
                }
            }
            Ok(Probe::Pending(info.status))
        },
    )
    .await
    .map_err(|e| poll_error("waiting for replication group to be deleted", id, e))
}
