//! Teardown of a run from its ledger, in reverse dependency order and idempotently (not-found is
//! success): tasks are stopped; the replication group's deletion starts at once (waiting first if
//! it is still being created) while the task definition, cluster, log groups and role go; once the
//! group is gone, the dead-man's switch (schedule, then its role) is disarmed; Container Insights'
//! log group goes once the cluster is gone (and is looked at once more at the end: the service
//! recreates it from late events), and the parameter group, the subnet group and the security
//! groups follow (retried while AWS still reports them in use). Every deletion is written to the
//! ledger. Errors are collected, never stop the rest.

use std::future::Future;

use super::error::{ok_if_not_found, Result};
use super::ledger::{record, Event, Resource, ResourceKind, SharedLedger};
use super::timeouts::Timeouts;
use super::{ecs, elasticache, iam, logs, network, parameters, scheduler, tasks, Clients};

/// What teardown did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeardownReport {
    /// Resources deleted or found gone.
    pub deleted: Vec<String>,
    /// Resources that could not be deleted, with the reason.
    pub errors: Vec<String>,
}

impl TeardownReport {
    fn merge(&mut self, other: Self) {
        self.deleted.extend(other.deleted);
        self.errors.extend(other.errors);
    }
}

/// Retry `op` while it fails with one of `codes` (a resource still in use) or a transient error,
/// for up to `t.in_use`.
async fn retry_in_use<F, Fut>(t: &Timeouts, what: &str, codes: &[&str], op: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let retryable =
        |e: &super::Error| e.is_transient() || e.code().is_some_and(|c| codes.contains(&c));
    crate::retry::retry(what, &t.in_use_policy(), retryable, op).await
}

/// Delete one resource (not-found is success). With zero `t.in_use`, one attempt.
pub(super) async fn delete_one(
    c: &Clients,
    r: &Resource,
    vpc_id: Option<&str>,
    t: &Timeouts,
) -> Result<()> {
    let res = match r.kind {
        ResourceKind::EcsTask => tasks::stop_task(&c.ecs, r.id.as_deref().unwrap_or(&r.name)).await,
        ResourceKind::TaskDefinition => match &r.id {
            Some(arn) => ecs::delete_task_definition(&c.ecs, arn).await,
            None => ecs::delete_family(&c.ecs, &r.name).await,
        },
        ResourceKind::EcsCluster => {
            retry_in_use(
                t,
                &format!("deleting {}", r.describe()),
                &["ClusterContainsTasksException", "UpdateInProgressException"],
                || ecs::delete_cluster(&c.ecs, &r.name),
            )
            .await
        }
        ResourceKind::LogGroup => logs::delete_log_group(&c.logs, &r.name).await,
        ResourceKind::IamRole => {
            retry_in_use(
                t,
                &format!("deleting {}", r.describe()),
                &["DeleteConflict"],
                || iam::delete_role(&c.iam, &r.name),
            )
            .await
        }
        ResourceKind::ReplicationGroup => {
            elasticache::delete_and_wait(&c.elasticache, &r.name, t.delete, t.poll).await
        }
        ResourceKind::CacheSubnetGroup => {
            retry_in_use(
                t,
                &format!("deleting {}", r.describe()),
                &["CacheSubnetGroupInUse"],
                || elasticache::delete_subnet_group(&c.elasticache, &r.name),
            )
            .await
        }
        ResourceKind::Schedule => scheduler::delete_schedule(&c.scheduler, &r.name).await,
        ResourceKind::CacheParameterGroup => {
            retry_in_use(
                t,
                &format!("deleting {}", r.describe()),
                &["InvalidCacheParameterGroupState"],
                || parameters::delete_parameter_group(&c.elasticache, &r.name),
            )
            .await
        }
        ResourceKind::SecurityGroup => {
            let id = match &r.id {
                Some(id) => Some(id.clone()),
                None => network::find_security_group(&c.ec2, &r.name, vpc_id).await?,
            };
            match id {
                None => Ok(()),
                Some(id) => {
                    // The cache's and the tasks' network interfaces take a while to disappear.
                    retry_in_use(
                        t,
                        &format!("deleting {}", r.describe()),
                        &["DependencyViolation", "InvalidGroup.InUse"],
                        || network::delete_security_group(&c.ec2, &id),
                    )
                    .await
                }
            }
        }
    };
    ok_if_not_found(res)
}

/// Delete a group of resources one after the other, recording each outcome.
async fn delete_in_order(
    c: &Clients,
    ledger: &SharedLedger,
    rs: Vec<&Resource>,
    vpc_id: Option<&str>,
    t: &Timeouts,
) -> TeardownReport {
    let mut rep = TeardownReport::default();
    for r in rs {
        match delete_one(c, r, vpc_id, t).await {
            Ok(()) => {
                if let Err(e) = record(ledger, r.kind, &r.name, r.id.as_deref(), Event::Deleted) {
                    tracing::warn!("{e:#}");
                }
                tracing::info!("deleted {}", r.describe());
                rep.deleted.push(r.describe());
            }
            Err(e) => {
                tracing::error!("teardown: {e}");
                rep.errors.push(format!("{}: {e}", r.describe()));
            }
        }
    }
    rep
}

/// Tear down every resource of `resources` (the ledger replayed) that is not yet deleted.
pub async fn teardown(
    c: &Clients,
    ledger: &SharedLedger,
    resources: &[Resource],
    vpc_id: Option<&str>,
    t: &Timeouts,
) -> TeardownReport {
    let live: Vec<&Resource> = resources.iter().filter(|r| !r.deleted).collect();
    let of = |kinds: &[ResourceKind]| -> Vec<&Resource> {
        // Reverse recording order within the group: later resources may depend on earlier ones.
        live.iter()
            .rev()
            .filter(|r| kinds.contains(&r.kind))
            .copied()
            .collect()
    };
    // The dead-man's switch's role has its schedule's name (plan::names); it goes after the schedule.
    let switch = of(&[ResourceKind::Schedule]);
    let is_switch_role =
        |r: &&Resource| r.kind == ResourceKind::IamRole && switch.iter().any(|s| s.name == r.name);
    let mut rep = delete_in_order(c, ledger, of(&[ResourceKind::EcsTask]), vpc_id, t).await;
    let cache = async {
        let mut rep =
            delete_in_order(c, ledger, of(&[ResourceKind::ReplicationGroup]), vpc_id, t).await;
        // Disarm only once the group is gone: a failed teardown leaves the switch armed. The role
        // goes only after its schedule (an armed schedule without its role could never fire).
        if rep.errors.is_empty() {
            let disarmed = delete_in_order(c, ledger, switch.clone(), vpc_id, t).await;
            let roles: Vec<&Resource> = live.iter().rev().copied().filter(is_switch_role).collect();
            if disarmed.errors.is_empty() {
                rep.merge(delete_in_order(c, ledger, roles, vpc_id, t).await);
            }
            rep.merge(disarmed);
        }
        rep
    };
    let mut rest = of(&[
        ResourceKind::TaskDefinition,
        ResourceKind::EcsCluster,
        ResourceKind::LogGroup,
        ResourceKind::IamRole,
    ]);
    rest.retain(|r| !is_switch_role(r) && !is_insights_group(r));
    let rest = delete_in_order(c, ledger, rest, vpc_id, t);
    let (a, b) = tokio::join!(cache, rest);
    rep.merge(a);
    rep.merge(b);
    // Container Insights writes its log group until the cluster is gone, and recreates it when
    // late performance events arrive after it was deleted: it goes once the cluster is gone.
    let insights: Vec<&Resource> = live.iter().copied().filter(is_insights_group).collect();
    rep.merge(delete_in_order(c, ledger, insights.clone(), vpc_id, t).await);
    // The parameter group, like the subnet group, goes once no cache uses it.
    let net = of(&[
        ResourceKind::CacheParameterGroup,
        ResourceKind::CacheSubnetGroup,
        ResourceKind::SecurityGroup,
    ]);
    rep.merge(delete_in_order(c, ledger, net, vpc_id, t).await);
    rep.merge(recheck_insights(c, ledger, &insights, vpc_id, t).await);
    rep
}

/// Whether a ledger resource is the log group Container Insights makes for the run's cluster.
fn is_insights_group(r: &&Resource) -> bool {
    r.kind == ResourceKind::LogGroup && r.name.starts_with(ecs::INSIGHTS_LOG_GROUP_PREFIX)
}

/// Look once more at Container Insights' log group (its late events can bring it back after it
/// was deleted) and delete it again if it is there.
async fn recheck_insights(
    c: &Clients,
    ledger: &SharedLedger,
    insights: &[&Resource],
    vpc_id: Option<&str>,
    t: &Timeouts,
) -> TeardownReport {
    let mut again = Vec::new();
    for r in insights {
        match logs::log_group_exists(&c.logs, &r.name).await {
            Ok(true) => {
                tracing::info!(
                    "{} is back (Container Insights recreates it from late events): deleting it again",
                    r.describe()
                );
                again.push(*r);
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("checking {} once more: {e}", r.describe()),
        }
    }
    delete_in_order(c, ledger, again, vpc_id, t).await
}
