//! ECS tasks of a run: starting them (RunTask, at most 10 per call, idempotent through a client
//! token), reading their state in batches of 100, and stopping them idempotently.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerOverride, KeyValuePair, LaunchType,
    NetworkConfiguration, TaskOverride,
};

use super::error::{Error, Result};
use crate::plan::names::CONTAINER_NAME;

/// DescribeTasks takes at most this many tasks per call.
pub const DESCRIBE_BATCH: usize = 100;

/// What one RunTask call starts.
#[derive(Clone, Debug)]
pub struct RunRequest<'a> {
    /// Cluster.
    pub cluster: &'a str,
    /// Task definition ARN.
    pub task_definition: &'a str,
    /// Subnets.
    pub subnets: &'a [String],
    /// Security groups.
    pub security_groups: &'a [String],
    /// Public IP.
    pub assign_public_ip: bool,
    /// Environment of the container (holds the AUTH token: never log this).
    pub environment: Vec<(String, String)>,
    /// Tasks to start (≤ 10).
    pub count: u32,
    /// Idempotency token: a retried call with the same token starts nothing new.
    pub client_token: String,
    /// Tags of the tasks.
    pub tags: &'a std::collections::BTreeMap<String, String>,
    /// The container's command instead of the task definition's (a workload of a matrix).
    pub command: Option<&'a str>,
}

/// One task RunTask could not start, from its `failures`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartFailure {
    /// ECS's reason, e.g. `Capacity is unavailable at this time. Please try again later or in a
    /// different availability zone`.
    pub reason: String,
    /// ECS's detail, when given.
    pub detail: String,
}

impl StartFailure {
    /// Whether Fargate had no capacity for the task: AWS asks callers to try again later or in
    /// another Availability Zone (ECS API reference, "API failure reasons").
    pub fn is_capacity(&self) -> bool {
        let r = self.reason.to_ascii_lowercase();
        r.contains("capacity is unavailable") || r.starts_with("resource:")
    }
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.detail.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{} ({})", self.reason, self.detail)
        }
    }
}

/// What one RunTask call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Started {
    /// ARNs of the tasks that started.
    pub arns: Vec<String>,
    /// One entry per task that did not.
    pub failures: Vec<StartFailure>,
}

/// Start tasks: the ARNs of those that started and why the others did not (RunTask's `failures`,
/// which may name some or all of them).
pub async fn run_tasks(ecs: &aws_sdk_ecs::Client, r: &RunRequest<'_>) -> Result<Started> {
    let resource = || {
        format!(
            "{} task(s) of '{}' in ECS cluster '{}'",
            r.count, r.task_definition, r.cluster
        )
    };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(r.subnets.to_vec()))
        .set_security_groups(Some(r.security_groups.to_vec()))
        .assign_public_ip(if r.assign_public_ip {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| Error::Failed {
            action: "RunTask",
            resource: resource(),
            detail: e.to_string(),
        })?;
    let mut container = ContainerOverride::builder().name(CONTAINER_NAME);
    if let Some(script) = r.command {
        container = container.command(script);
    }
    for (k, v) in &r.environment {
        container = container.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    let mut req = ecs
        .run_task()
        .cluster(r.cluster)
        .task_definition(r.task_definition)
        .launch_type(LaunchType::Fargate)
        .count(i32::try_from(r.count).unwrap_or(10))
        .client_token(&r.client_token)
        .started_by("elasticache-perf")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build(),
        )
        .overrides(
            TaskOverride::builder()
                .container_overrides(container.build())
                .build(),
        );
    for (k, v) in r.tags {
        req = req.tags(aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    }
    let out = req
        .send()
        .await
        .map_err(|e| Error::from_sdk("RunTask", resource(), e))?;
    Ok(Started {
        arns: out
            .tasks()
            .iter()
            .filter_map(|t| t.task_arn().map(str::to_string))
            .collect(),
        failures: out
            .failures()
            .iter()
            .map(|f| StartFailure {
                reason: f.reason().unwrap_or("unknown").to_string(),
                detail: f.detail().unwrap_or_default().to_string(),
            })
            .collect(),
    })
}

/// The state of one task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    /// Task ARN.
    pub arn: String,
    /// `PROVISIONING` … `RUNNING` … `STOPPED`.
    pub last_status: String,
    /// The container's exit code, once it exited.
    pub exit_code: Option<i32>,
    /// Why it stopped.
    pub stopped_reason: Option<String>,
}

/// Describe tasks (any number; 100 per call). Tasks ECS does not know are left out.
pub async fn describe_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<TaskState>> {
    let mut out = Vec::with_capacity(arns.len());
    for chunk in arns.chunks(DESCRIBE_BATCH) {
        let page = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "DescribeTasks",
                    format!("{} task(s) in ECS cluster '{cluster}'", chunk.len()),
                    e,
                )
            })?;
        for t in page.tasks() {
            out.push(TaskState {
                arn: t.task_arn().unwrap_or_default().to_string(),
                last_status: t.last_status().unwrap_or("UNKNOWN").to_string(),
                exit_code: t.containers().first().and_then(|c| c.exit_code()),
                stopped_reason: t.stopped_reason().map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// The task id (last segment of its ARN), which names its log stream.
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The cluster of a task ARN (`arn:aws:ecs:<r>:<acct>:task/<cluster>/<id>`).
pub fn cluster_of(task_arn: &str) -> Option<&str> {
    let res = task_arn.split_once(":task/")?.1;
    let (cluster, _) = res.split_once('/')?;
    Some(cluster)
}

/// Stop a task (a stopped or unknown task is success).
pub async fn stop_task(ecs: &aws_sdk_ecs::Client, task_arn: &str) -> Result<()> {
    let mut req = ecs
        .stop_task()
        .task(task_arn)
        .reason("elasticache-perf: run finished or torn down");
    if let Some(c) = cluster_of(task_arn) {
        req = req.cluster(c);
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = Error::from_sdk("StopTask", format!("ECS task '{task_arn}'"), e);
            // ECS says InvalidParameterException for a task it no longer knows.
            if e.code() == Some("InvalidParameterException") {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Whether the task is still RUNNING or on its way (anything but STOPPED). A task ECS does not
/// know, or whose cluster is gone (after DeleteCluster, ECS answers `ClusterNotFoundException`
/// about its tasks), is not running.
pub async fn task_running(ecs: &aws_sdk_ecs::Client, task_arn: &str) -> Result<bool> {
    let mut req = ecs.describe_tasks().tasks(task_arn);
    if let Some(c) = cluster_of(task_arn) {
        req = req.cluster(c);
    }
    let out = match req.send().await {
        Ok(o) => o,
        Err(e) => {
            let e = Error::from_sdk("DescribeTasks", format!("ECS task '{task_arn}'"), e);
            if e.is_not_found() {
                tracing::info!("{e}: the cluster is gone, so the task is not running");
                return Ok(false);
            }
            return Err(e);
        }
    };
    Ok(out
        .tasks()
        .iter()
        .any(|t| t.last_status().is_some_and(|s| s != "STOPPED")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_comes_from_the_arn() {
        assert_eq!(
            cluster_of("arn:aws:ecs:us-east-1:123456789012:task/ecp-x/0123abcd"),
            Some("ecp-x")
        );
        assert_eq!(cluster_of("0123abcd"), None);
    }
}
