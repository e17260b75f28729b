//! What of a run exists in moto, listed by type (each name the run's plan gives, asked of its own
//! service) and by tag (everything carrying the run-id tag, confirmed with its service because
//! the tagging API lags behind deletions) — the tests' proof that nothing was left.

use elasticache_perf::aws::ledger::ResourceKind;
use elasticache_perf::aws::{discover, leaks, Clients};
use elasticache_perf::plan::names::ResourceNames;

/// Everything of `run_id` that still exists, as `by type: …` / `by tag: …` lines.
pub async fn inventory(c: &Clients, run_id: &str, vpc_id: &str) -> Vec<String> {
    let n = ResourceNames::for_run(run_id).unwrap();
    let mut out = Vec::new();
    let sgs = c
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for g in sgs.security_groups() {
        let name = g.group_name().unwrap_or_default();
        if name == n.cache_security_group || name == n.loadgen_security_group {
            out.push(format!(
                "by type: security group {name} ({})",
                g.group_id().unwrap_or_default()
            ));
        }
    }
    let by_name = [
        (ResourceKind::ReplicationGroup, n.replication_group.clone()),
        (ResourceKind::CacheSubnetGroup, n.cache_subnet_group.clone()),
        (ResourceKind::LogGroup, n.log_group.clone()),
        // Made by Container Insights, untagged: only its name finds it.
        (
            ResourceKind::LogGroup,
            elasticache_perf::aws::ecs::insights_log_group(&n.ecs_cluster),
        ),
        (ResourceKind::EcsCluster, n.ecs_cluster.clone()),
        (ResourceKind::IamRole, n.execution_role.clone()),
        (ResourceKind::IamRole, n.expiry_role.clone()),
        (ResourceKind::Schedule, n.expiry_schedule.clone()),
        (ResourceKind::CacheParameterGroup, n.parameter_group.clone()),
    ];
    for (kind, name) in by_name {
        if leaks::exists(c, kind, &name).await.unwrap() {
            out.push(format!("by type: {} {name}", kind.label()));
        }
    }
    let defs = c
        .ecs
        .list_task_definitions()
        .family_prefix(&n.task_family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    for arn in defs.task_definition_arns() {
        out.push(format!("by type: task definition {arn}"));
    }
    if let Ok(tasks) = c.ecs.list_tasks().cluster(&n.ecs_cluster).send().await {
        for arn in tasks.task_arns() {
            if elasticache_perf::aws::tasks::task_running(&c.ecs, arn)
                .await
                .unwrap()
            {
                out.push(format!("by type: running task {arn}"));
            }
        }
    }
    for f in discover::find(c, Some(run_id)).await.unwrap() {
        let r = &f.resource;
        let key = r.id.clone().unwrap_or_else(|| r.name.clone());
        if leaks::exists(c, r.kind, &key).await.unwrap() {
            out.push(format!("by tag: {} ({})", r.describe(), f.arn));
        }
    }
    out
}
