//! The user's own cache, read from ElastiCache before the run is planned: its replication group
//! (DescribeReplicationGroups; given by id, or found by its endpoint's address) with endpoint,
//! port, TLS, topology, AUTH and member clusters, and one member (DescribeCacheClusters) for the
//! engine version. Read-only: nothing here creates, changes or deletes anything.

use aws_sdk_elasticache::types::ReplicationGroup;

use super::elasticache::describe_group;
use super::error::{Error, Result};
use crate::config::cache::ExistingCache;
use crate::error::InputError;
use crate::plan::ExistingSpec;

/// The host and port the load generators use: the configuration endpoint in cluster mode, else
/// the primary endpoint.
fn endpoint_of(g: &ReplicationGroup) -> Option<(String, u16)> {
    let e = g
        .configuration_endpoint()
        .or_else(|| g.node_groups().first().and_then(|n| n.primary_endpoint()))?;
    let port = e
        .port()
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(crate::plan::CACHE_PORT);
    Some((e.address()?.to_ascii_lowercase(), port))
}

/// Every replication group of the region (DescribeReplicationGroups, all pages).
async fn all_groups(ec: &aws_sdk_elasticache::Client) -> Result<Vec<ReplicationGroup>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ec
            .describe_replication_groups()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| Error::from_sdk("DescribeReplicationGroups", "replication groups", e))?;
        out.extend(page.replication_groups().iter().cloned());
        marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

/// The engine version of a member cluster (only DescribeCacheClusters reports it).
async fn engine_version(ec: &aws_sdk_elasticache::Client, member: &str) -> Result<Option<String>> {
    let out = ec
        .describe_cache_clusters()
        .cache_cluster_id(member)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "DescribeCacheClusters",
                format!("cache cluster '{member}'"),
                e,
            )
        })?;
    Ok(out
        .cache_clusters()
        .first()
        .and_then(|c| c.engine_version())
        .map(str::to_string))
}

/// What the run needs of a group. Pure.
pub fn spec_of(
    given: &ExistingCache,
    g: &ReplicationGroup,
    version: Option<String>,
) -> ExistingSpec {
    let (host, port) = endpoint_of(g).unwrap_or_default();
    let shards = u32::try_from(g.node_groups().len()).unwrap_or(1).max(1);
    let members = u32::try_from(g.member_clusters().len()).unwrap_or(0);
    let cluster_mode = g.cluster_enabled().unwrap_or(false) || g.configuration_endpoint().is_some();
    ExistingSpec {
        given: given.describe(),
        resolved: true,
        replication_group_id: g.replication_group_id().map(str::to_string),
        host,
        port,
        tls: g.transit_encryption_enabled().unwrap_or(false),
        cluster_mode,
        auth_token_enabled: g.auth_token_enabled(),
        engine: g.engine().map(str::to_string),
        engine_version: version,
        node_type: g.cache_node_type().map(str::to_string),
        num_shards: Some(shards),
        replicas_per_shard: Some((members / shards).saturating_sub(1)),
        member_clusters: g.member_clusters().to_vec(),
    }
}

/// Read the user's cache. Bad input (exit 2): a group that does not exist or is not available,
/// an endpoint whose scheme contradicts the group's TLS, a token missing for a group that
/// requires one (or given for one that has none). An endpoint that is no group's of the region
/// is used as given, without CloudWatch server metrics.
pub async fn resolve(
    ec: &aws_sdk_elasticache::Client,
    given: &ExistingCache,
    has_token: bool,
    region: &str,
) -> anyhow::Result<ExistingSpec> {
    let (input, g) = match given {
        ExistingCache::ReplicationGroup(id) => match describe_group(ec, id).await {
            Ok(g) => ("replication_group_id", g),
            Err(e) if e.is_not_found() => {
                return Err(InputError::new(format!(
                    "input 'replication_group_id' names replication group '{id}', which does not exist in {region}: give the id of a group in this region (aws_region)"
                ))
                .into())
            }
            Err(e) => return Err(e.into()),
        },
        ExistingCache::Endpoint { host, .. } => {
            let found = all_groups(ec)
                .await?
                .into_iter()
                .find(|g| endpoint_of(g).is_some_and(|(h, _)| h == *host));
            let Some(g) = found else {
                tracing::warn!(
                    "endpoint {} is no replication group's in {region}: loading it as given, without CloudWatch server metrics (give replication_group_id for them)",
                    given.describe()
                );
                let mut spec = ExistingSpec::unresolved(given);
                spec.resolved = true;
                return Ok(spec);
            };
            ("endpoint", g)
        }
    };
    let id = g.replication_group_id().unwrap_or_default().to_string();
    let status = g.status().unwrap_or("unknown");
    if status != "available" {
        return Err(InputError::new(format!(
            "input '{input}': replication group '{id}' is '{status}'; load it once it is 'available'"
        ))
        .into());
    }
    let version = match g.member_clusters().first() {
        Some(m) => engine_version(ec, m).await?,
        None => None,
    };
    let mut spec = spec_of(given, &g, version);
    if let ExistingCache::Endpoint { port, tls, .. } = given {
        if *tls != spec.tls {
            return Err(InputError::new(format!(
                "input 'endpoint' is {} but replication group '{id}' has TLS in transit {}: use {}://",
                given.describe(),
                if spec.tls { "on" } else { "off" },
                if spec.tls { "rediss" } else { "redis" }
            ))
            .into());
        }
        spec.port = *port;
    }
    match (spec.auth_token_enabled, has_token) {
        (Some(true), false) => {
            return Err(InputError::new(format!(
                "input 'auth_token' is empty but replication group '{id}' requires an AUTH token: pass it from a secret (auth_token: ${{{{ secrets.… }}}})"
            ))
            .into())
        }
        (Some(false), true) => {
            return Err(InputError::new(format!(
                "input 'auth_token' is set but replication group '{id}' has no AUTH token: leave auth_token empty"
            ))
            .into())
        }
        _ => {}
    }
    tracing::info!(
        "loading your replication group '{id}' at {}:{} ({} {}, {}, TLS {}, {} member cluster(s)); the run creates no cache and never changes or deletes it",
        spec.host,
        spec.port,
        spec.engine.as_deref().unwrap_or("?"),
        spec.engine_version.as_deref().unwrap_or("?"),
        spec.node_type.as_deref().unwrap_or("?"),
        if spec.tls { "on" } else { "off" },
        spec.member_clusters.len()
    );
    Ok(spec)
}
