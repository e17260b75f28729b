//! ECS for the AWS target: the run's cluster (Container Insights on, for the tasks' CPU and
//! network), the Fargate task definition that runs the plan's script, and their idempotent
//! deletion.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition, CpuArchitecture,
    LogConfiguration, LogDriver, NetworkMode, OsFamily, RepositoryCredentials, RuntimePlatform,
    Tag, TaskDefinitionStatus,
};

use super::error::{Error, Result};
use crate::plan::names::{CONTAINER_NAME, STREAM_PREFIX};
use crate::plan::RunPlan;

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Where the names of Container Insights' log groups start.
pub const INSIGHTS_LOG_GROUP_PREFIX: &str = "/aws/ecs/containerinsights/";

/// The log group Container Insights creates for a cluster (the service makes it; the tool deletes it).
pub fn insights_log_group(cluster: &str) -> String {
    format!("{INSIGHTS_LOG_GROUP_PREFIX}{cluster}/performance")
}

/// Create the cluster.
pub async fn create_cluster(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
    t: &BTreeMap<String, String>,
) -> Result<()> {
    ecs.create_cluster()
        .cluster_name(name)
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value("enabled")
                .build(),
        )
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(|e| Error::from_sdk("CreateCluster", format!("ECS cluster '{name}'"), e))?;
    Ok(())
}

/// Delete the cluster (`ClusterContainsTasksException` while tasks still run).
pub async fn delete_cluster(ecs: &aws_sdk_ecs::Client, name: &str) -> Result<()> {
    ecs.delete_cluster()
        .cluster(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteCluster", format!("ECS cluster '{name}'"), e))?;
    Ok(())
}

/// Whether the cluster exists and is not INACTIVE (deleted clusters stay describable as INACTIVE).
pub async fn cluster_exists(ecs: &aws_sdk_ecs::Client, name: &str) -> Result<bool> {
    let out = ecs
        .describe_clusters()
        .clusters(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DescribeClusters", format!("ECS cluster '{name}'"), e))?;
    Ok(out
        .clusters()
        .iter()
        .any(|c| c.status().is_some_and(|s| s != "INACTIVE")))
}

/// Register the task definition of the plan; returns its ARN (with revision).
pub async fn register_task_definition(
    ecs: &aws_sdk_ecs::Client,
    p: &RunPlan,
    execution_role_arn: &str,
) -> Result<String> {
    let t = &p.tasks;
    let family = &p.names.task_family;
    let resource = || format!("task definition '{family}'");
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &p.names.log_group)
        .options("awslogs-region", &p.region)
        .options("awslogs-stream-prefix", STREAM_PREFIX)
        // Blocking: the results are printed into the log at the end; non-blocking mode (the
        // default since 2025-06) may drop lines when its buffer fills.
        .options("mode", "blocking")
        .build()
        .map_err(|e| Error::Failed {
            action: "RegisterTaskDefinition",
            resource: resource(),
            detail: e.to_string(),
        })?;
    let credentials = t
        .repository_credentials
        .as_ref()
        .map(|arn| {
            RepositoryCredentials::builder()
                .credentials_parameter(arn)
                .build()
                .map_err(|e| Error::Failed {
                    action: "RegisterTaskDefinition",
                    resource: resource(),
                    detail: e.to_string(),
                })
        })
        .transpose()?;
    let container = ContainerDefinition::builder()
        .name(CONTAINER_NAME)
        .image(&t.image)
        .set_repository_credentials(credentials)
        .essential(true)
        // The official image's entrypoint is memtier_benchmark itself; the script wraps it.
        .entry_point("sh")
        .entry_point("-c")
        .command(&t.script.script)
        // A container-level limit equal to the task's (moto also needs one to run the task).
        .memory(i32::try_from(t.memory_mib).unwrap_or(i32::MAX))
        .log_configuration(logs)
        .build();
    let out = ecs
        .register_task_definition()
        .family(family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(t.cpu.to_string())
        .memory(t.memory_mib.to_string())
        .execution_role_arn(execution_role_arn)
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::X8664)
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .container_definitions(container)
        .set_tags(Some(tags(&p.tags)))
        .send()
        .await
        .map_err(|e| Error::from_sdk("RegisterTaskDefinition", resource(), e))?;
    out.task_definition()
        .and_then(|d| d.task_definition_arn())
        .map(str::to_string)
        .ok_or_else(|| Error::Failed {
            action: "RegisterTaskDefinition",
            resource: resource(),
            detail: "the response has no ARN".into(),
        })
}

/// Deregister a task definition revision and ask for its deletion.
pub async fn delete_task_definition(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<()> {
    let resource = || format!("task definition '{arn}'");
    let r = ecs
        .deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeregisterTaskDefinition", resource(), e));
    match r {
        Ok(_) => {}
        // ECS answers ClientException for a revision that is already gone.
        Err(e) if e.code() == Some("ClientException") || e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    }
    ecs.delete_task_definitions()
        .task_definitions(arn)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteTaskDefinitions", resource(), e))?;
    Ok(())
}

/// Whether the task definition revision is still ACTIVE.
pub async fn task_definition_active(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<bool> {
    match ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .task_definition()
            .and_then(|d| d.status())
            .is_some_and(|s| *s == TaskDefinitionStatus::Active)),
        Err(e) => {
            let e = Error::from_sdk(
                "DescribeTaskDefinition",
                format!("task definition '{arn}'"),
                e,
            );
            if e.is_not_found() || e.code() == Some("ClientException") {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Deregister and delete every ACTIVE revision of a family (when the ledger has no ARN: the
/// process stopped between registering and recording it).
pub async fn delete_family(ecs: &aws_sdk_ecs::Client, family: &str) -> Result<()> {
    let out = ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "ListTaskDefinitions",
                format!("task definition family '{family}'"),
                e,
            )
        })?;
    for arn in out.task_definition_arns() {
        // family_prefix also matches longer families; keep exactly `<family>:<revision>`.
        let exact = arn
            .rsplit_once('/')
            .and_then(|(_, fr)| fr.rsplit_once(':'))
            .is_some_and(|(f, _)| f == family);
        if exact {
            delete_task_definition(ecs, arn).await?;
        }
    }
    Ok(())
}
