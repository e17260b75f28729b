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
/// arguments (one per line) into `$STANDIN_ARGS`. With `$STANDIN_SECONDS`, it first runs that many
/// seconds, printing a progress line (ended by `\r`, as memtier does) each second; with
/// `$STANDIN_MODE=hang`, it hangs without progress, as memtier does on a wrong password. Returns
/// the folder to put first on `PATH`.
pub fn stand_in(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
for a in "$@"; do printf '%s\n' "$a" >> "$STANDIN_ARGS"; done
if [ "${{STANDIN_MODE:-}}" = hang ]; then
  echo "[RUN #1] Preparing benchmark client..." >&2
  exec sleep 100000
fi
n=${{STANDIN_SECONDS:-0}}
i=1
while [ "$i" -le "$n" ]; do
  printf '[RUN #1 %d%%, %3d secs]  2 threads  5 conns: %11d ops, %7d (avg: %7d) ops/sec, 1.00MB/sec (avg: 1.00MB/sec),  0.50 (avg:  0.50) msec latency\r' $((i * 100 / n)) "$i" $((i * 5000)) 5000 5000 >&2
  sleep 1
  i=$((i + 1))
done
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

/// Run one task of `cluster` as Fargate would: its command, its environment; ship its stdout to its
/// log stream as it comes (the log group is `/elasticache-perf/<cluster>`); stop it when it ends.
/// When `stopped` is cancelled first (the tool stopped the task), its processes are killed, as
/// Fargate stops a container. Returns its environment.
pub async fn emulate_task(
    c: &Clients,
    cluster: &str,
    arn: &str,
    work: &Path,
    bin: &Path,
    mode: Mode,
    stopped: CancellationToken,
) -> BTreeMap<String, String> {
    use tokio::io::AsyncBufReadExt as _;
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
    // RunTask's command override (a workload of a matrix) replaces the task definition's.
    let script = task.overrides().unwrap().container_overrides()[0]
        .command()
        .first()
        .unwrap_or(&cd.command()[0])
        .clone();
    let id = arn.rsplit('/').next().unwrap().to_string();
    let tmp = work.join(&id);
    std::fs::create_dir_all(&tmp).unwrap();
    let group = format!("/elasticache-perf/{cluster}");
    let stream = format!("ecp/memtier/{id}");
    c.logs
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .unwrap();
    let (standin_mode, standin_secs) = match mode {
        Mode::Hang => ("hang", 0),
        Mode::Progress(s) => ("run", s),
        _ => ("run", 0),
    };
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .envs(&env)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", &tmp)
        .env("STANDIN_ARGS", work.join(format!("{id}.args")))
        .env("STANDIN_MODE", standin_mode)
        .env("STANDIN_SECONDS", standin_secs.to_string())
        .stdout(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut batch: Vec<String> = Vec::new();
    let mut killed = false;
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            l = lines.next_line() => match l.unwrap() {
                Some(l) => batch.push(l),
                None => break,
            },
            _ = tick.tick() => ship(c, &group, &stream, &mut batch).await,
            () = stopped.cancelled(), if !killed => {
                // The tool stopped the task: Fargate stops its container.
                let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                killed = true;
            }
        }
    }
    ship(c, &group, &stream, &mut batch).await;
    let _ = child.wait().await;
    if !killed {
        c.ecs
            .stop_task()
            .cluster(cluster)
            .task(arn)
            .reason("Essential container in task exited")
            .send()
            .await
            .unwrap();
    }
    env
}

/// Put `batch` into the stream (at most 500 events a call) and empty it.
async fn ship(c: &Clients, group: &str, stream: &str, batch: &mut Vec<String>) {
    if batch.is_empty() {
        return;
    }
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    for chunk in batch.chunks(500) {
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
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
    batch.clear();
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
    /// Run every task; each memtier runs this many seconds, printing progress each second.
    Progress(u32),
    /// Run every task; each memtier hangs without progress until the task is stopped.
    Hang,
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

/// [`fargate`] in another [`Mode`]; returns the environments of the tasks it ran. Tasks run side
/// by side; a task whose desired status is no longer RUNNING (the tool stopped it) is killed.
pub async fn fargate_with(
    c: Clients,
    cluster: String,
    work: PathBuf,
    stop: CancellationToken,
    mode: Mode,
) -> Vec<BTreeMap<String, String>> {
    let bin = stand_in(&work);
    let mut seen = HashSet::new();
    let mut running: BTreeMap<String, CancellationToken> = BTreeMap::new();
    let mut handles = Vec::new();
    while !stop.is_cancelled() {
        let listed = c
            .ecs
            .list_tasks()
            .cluster(&cluster)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .send()
            .await;
        if let Ok(list) = listed {
            let live: HashSet<&String> = list.task_arns().iter().collect();
            running.retain(|arn, token| {
                let keep = live.contains(arn);
                if !keep {
                    token.cancel();
                }
                keep
            });
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
                    _ => {
                        let token = CancellationToken::new();
                        running.insert(arn.clone(), token.clone());
                        let (c, cluster, arn, work, bin) = (
                            c.clone(),
                            cluster.clone(),
                            arn.clone(),
                            work.clone(),
                            bin.clone(),
                        );
                        handles.push(tokio::spawn(async move {
                            emulate_task(&c, &cluster, &arn, &work, &bin, mode, token).await
                        }));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for token in running.values() {
        token.cancel();
    }
    let mut envs = Vec::new();
    for h in handles {
        envs.push(h.await.unwrap());
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
