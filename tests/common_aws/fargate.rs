//! Fargate emulated for the end-to-end AWS tests: each task the tool starts in a cluster is run
//! here for real — its container command (`sh -c <script>` from the task definition) with its
//! environment from RunTask, and a stand-in `memtier_benchmark` that replays committed fixture
//! outputs — its stdout is shipped into the task's awslogs stream, and the task is stopped.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use elasticache_perf::aws::Clients;
use tokio_util::sync::CancellationToken;

use super::moto_api;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/memtier")
}

/// A memtier_benchmark that writes a fixture's outputs where the real one would, and records its
/// arguments (one per line) into `$STANDIN_ARGS`. Returns the folder to put first on `PATH`.
pub fn stand_in(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
for a in "$@"; do printf '%s\n' "$a" >> "$STANDIN_ARGS"; done
case " $* " in *--requests=allkeys*) f={fx}/prefill ;; *) f={fx}/single ;; esac
cp "$f/memtier.json" memtier.json
for h in "$f"/memtier_hdr_*; do cp "$h" .; done
cat "$f/stdout.txt"
cat "$f/stderr.txt" >&2
exit 0
"#,
        fx = fixtures().display()
    );
    let path = bin.join("memtier_benchmark");
    std::fs::write(&path, script).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    bin
}

/// Run one task of `cluster` as Fargate would: its command, its environment; ship stdout to its
/// log stream (the log group is `/elasticache-perf/<cluster>`); stop it. Returns its environment.
pub async fn emulate_task(
    c: &Clients,
    cluster: &str,
    arn: &str,
    work: &Path,
    bin: &Path,
) -> BTreeMap<String, String> {
    let d = c
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(arn)
        .send()
        .await
        .unwrap();
    let task = &d.tasks()[0];
    let env: BTreeMap<String, String> = task.overrides().unwrap().container_overrides()[0]
        .environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap().to_string(),
                kv.value().unwrap().to_string(),
            )
        })
        .collect();
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(task.task_definition_arn().unwrap())
        .send()
        .await
        .unwrap();
    let cd = &td.task_definition().unwrap().container_definitions()[0];
    assert_eq!(cd.entry_point(), ["sh", "-c"]);
    let script = cd.command()[0].clone();
    let id = arn.rsplit('/').next().unwrap().to_string();
    let tmp = work.join(&id);
    std::fs::create_dir_all(&tmp).unwrap();
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .envs(&env)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", &tmp)
        .env("STANDIN_ARGS", work.join(format!("{id}.args")))
        .output()
        .await
        .unwrap();
    let group = format!("/elasticache-perf/{cluster}");
    let stream = format!("ecp/memtier/{id}");
    c.logs
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .unwrap();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    for chunk in lines.chunks(500) {
        let events: Vec<InputLogEvent> = chunk
            .iter()
            .map(|l| {
                InputLogEvent::builder()
                    .timestamp(now)
                    .message(l)
                    .build()
                    .unwrap()
            })
            .collect();
        c.logs
            .put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
    c.ecs
        .stop_task()
        .cluster(cluster)
        .task(arn)
        .reason("Essential container in task exited")
        .send()
        .await
        .unwrap();
    env
}

/// How the emulated Fargate treats the tasks it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run every task.
    Run,
    /// Run the first `n` tasks; leave the others RUNNING (hung) until something stops them.
    RunFirst(usize),
    /// No task can pull its image (Docker Hub's anonymous pull limit): each stops at once with
    /// ECS's `CannotPullContainerError`, before its container (and its log stream) exists.
    PullFails,
}

/// ECS's stop reason for a task behind Docker Hub's anonymous pull limit (as AWS re:Post and
/// Docker's announcement show it).
pub const PULL_LIMIT_REASON: &str = "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref docker.io/redislabs/memtier_benchmark:2.3.0: unexpected status from HEAD request to https://registry-1.docker.io/v2/redislabs/memtier_benchmark/manifests/2.3.0: 429 Too Many Requests - Server message: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit";

/// Emulate every task that appears in `cluster` until `stop` is cancelled; returns each task's
/// environment in the order the tasks were seen.
pub async fn fargate(
    c: Clients,
    cluster: String,
    work: PathBuf,
    stop: CancellationToken,
) -> Vec<BTreeMap<String, String>> {
    fargate_with(c, cluster, work, stop, Mode::Run).await
}

/// [`fargate`] in another [`Mode`]; returns the environments of the tasks it ran.
pub async fn fargate_with(
    c: Clients,
    cluster: String,
    work: PathBuf,
    stop: CancellationToken,
    mode: Mode,
) -> Vec<BTreeMap<String, String>> {
    let bin = stand_in(&work);
    let mut seen = HashSet::new();
    let mut envs = Vec::new();
    while !stop.is_cancelled() {
        if let Ok(list) = c.ecs.list_tasks().cluster(&cluster).send().await {
            for arn in list.task_arns() {
                if !seen.insert(arn.clone()) {
                    continue;
                }
                match mode {
                    Mode::PullFails => {
                        let _ = c
                            .ecs
                            .stop_task()
                            .cluster(&cluster)
                            .task(arn)
                            .reason(PULL_LIMIT_REASON)
                            .send()
                            .await;
                    }
                    Mode::RunFirst(n) if seen.len() > n => {}
                    _ => envs.push(emulate_task(&c, &cluster, arn, &work, &bin).await),
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    envs
}

/// Keep ECS tasks RUNNING until something stops them (moto otherwise advances a task one state
/// per DescribeTasks and "finishes" it after four).
pub fn hold_tasks_until_stopped(endpoint: &str) {
    moto_api(
        endpoint,
        "/moto-api/state-manager/set-transition",
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000000}}"#,
    );
}
