//! The leak scan after teardown: everything tagged with the run id ([`super::discover`]: the
//! tagging API, and IAM roles by their own tags) plus everything in the ledger (schedules are in
//! neither), each confirmed with its own service — the tagging API lags behind deletions — and
//! reported if it still exists.

use super::arn::parse_arn;
use super::error::Result;
use super::ledger::{Resource, ResourceKind};
use super::{ecs, elasticache, iam, logs, network, parameters, scheduler, tasks, Clients};

/// Whether a resource still exists. `key` is the id (security group, task definition and task
/// ARNs) or the name (everything else).
pub async fn exists(c: &Clients, kind: ResourceKind, key: &str) -> Result<bool> {
    match kind {
        ResourceKind::SecurityGroup => network::security_group_exists(&c.ec2, key).await,
        ResourceKind::CacheSubnetGroup => {
            elasticache::subnet_group_exists(&c.elasticache, key).await
        }
        ResourceKind::ReplicationGroup => match elasticache::describe(&c.elasticache, key).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        },
        ResourceKind::LogGroup => logs::log_group_exists(&c.logs, key).await,
        ResourceKind::IamRole => iam::role_exists(&c.iam, key).await,
        ResourceKind::EcsCluster => ecs::cluster_exists(&c.ecs, key).await,
        ResourceKind::TaskDefinition => ecs::task_definition_active(&c.ecs, key).await,
        ResourceKind::EcsTask => tasks::task_running(&c.ecs, key).await,
        // Schedules are not in the tagging API: only the ledger knows them.
        ResourceKind::Schedule => scheduler::schedule_exists(&c.scheduler, key).await,
        ResourceKind::CacheParameterGroup => {
            parameters::parameter_group_exists(&c.elasticache, key).await
        }
    }
}

/// The key [`exists`] takes for a ledger resource: its id where the service names it by id (a
/// security group found by name when the id was never recorded), else its name; `None` when it
/// cannot be looked up (a task definition whose ARN was never recorded, a security group that is
/// not there).
async fn lookup_key(c: &Clients, r: &Resource, vpc_id: Option<&str>) -> Result<Option<String>> {
    Ok(match (r.kind, &r.id) {
        (
            ResourceKind::SecurityGroup | ResourceKind::TaskDefinition | ResourceKind::EcsTask,
            Some(id),
        ) => Some(id.clone()),
        (ResourceKind::SecurityGroup, None) => {
            network::find_security_group(&c.ec2, &r.name, vpc_id).await?
        }
        (ResourceKind::TaskDefinition, None) => None,
        _ => Some(r.name.clone()),
    })
}

/// Whether a ledger resource still exists (`false` when it cannot be looked up).
pub async fn still_exists(c: &Clients, r: &Resource, vpc_id: Option<&str>) -> Result<bool> {
    match lookup_key(c, r, vpc_id).await? {
        Some(key) => exists(c, r.kind, &key).await,
        None => Ok(false),
    }
}

/// What of the run still exists: descriptions of leaked resources (empty when clean).
pub async fn leak_scan(
    c: &Clients,
    run_id: &str,
    ledger: &[Resource],
    vpc_id: Option<&str>,
) -> Result<Vec<String>> {
    let mut left = Vec::new();
    let mut seen: Vec<(ResourceKind, String)> = Vec::new();
    for r in ledger {
        let Some(key) = lookup_key(c, r, vpc_id).await? else {
            continue;
        };
        if exists(c, r.kind, &key).await? {
            left.push(r.describe());
        }
        seen.push((r.kind, key));
    }
    for found in super::discover::find(c, Some(run_id)).await? {
        let arn = found.arn;
        match parse_arn(&arn) {
            Some((kind, key)) if seen.contains(&(kind, key.clone())) => {}
            Some((kind, key)) => {
                if exists(c, kind, &key).await? {
                    left.push(format!(
                        "{} '{key}' (tagged, not in the ledger)",
                        kind.label()
                    ));
                }
            }
            // Member clusters of a deleted replication group are checked through the group.
            None if arn.contains(":elasticache:") && arn.contains(":cluster:") => {}
            None => left.push(format!("'{arn}' (tagged with the run id)")),
        }
    }
    Ok(left)
}
