//! Running the load: the prefill task once, then the timed tasks in RunTask batches of at most 10
//! (each recorded in the ledger before anything waits on it), waiting until they stop, stopping
//! stragglers after the deadline plus grace, and reading each task's results back from its log
//! stream. Each task is judged by its results (memtier exits 0 on most failures), not only by its
//! exit code.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ledger::{record, Event, ResourceKind, SharedLedger};
use super::timeouts::Timeouts;
use super::wait::{wait_stopped, Expect, Waited, PROGRESS_READ, READ_CONCURRENCY};
use super::{logs, tasks, Clients, Provisioned};
use crate::client::{ClientResult, ClientSource, JudgedClient, TaskStatus};
use crate::config::Secret;
use crate::memtier::{parse_task, ParseError};
use crate::plan::frames::{self, Shipped};
use crate::plan::names::ResourceNames;
use crate::plan::script::{
    ENV_AUTH_TOKEN, ENV_HOST, ENV_MODE, KILL_AFTER_SECS, PREFILL_TIMEOUT_SECS, TIMEOUT_GRACE_SECS,
};
use crate::plan::{RunPlan, STOP_GRACE_SECS};
use crate::retry::{PollError, Probe};

/// One task's outcome.
#[derive(Clone, Debug)]
pub struct TaskRun {
    /// Task id (last part of the ARN; names its log stream).
    pub id: String,
    /// What it shipped.
    pub shipped: Shipped,
    /// ECS's reason for the stop, when given.
    pub stopped_reason: Option<String>,
    /// Whether the tool had to stop it after its deadline.
    pub stopped_by_tool: bool,
    /// Whether it was still not STOPPED when the tool stopped waiting for it.
    pub never_stopped: bool,
    /// Why the tool stopped it before its deadline (every running task had stalled).
    pub gave_up: Option<String>,
}

impl TaskRun {
    /// ECS's reason when the task stopped because its image could not be pulled.
    pub fn pull_failure(&self) -> Option<&str> {
        self.stopped_reason
            .as_deref()
            .filter(|r| self.shipped.files.is_empty() && is_pull_failure(r))
    }
}

/// The load's outcome.
#[derive(Clone, Debug, Default)]
pub struct LoadOutcome {
    /// The prefill task, when there was one.
    pub prefill: Option<TaskRun>,
    /// The timed tasks.
    pub tasks: Vec<TaskRun>,
    /// Their verdicts, in the same order.
    pub judged: Vec<JudgedClient>,
    /// Whether a cancellation cut the load short.
    pub interrupted: bool,
    /// When the timed tasks were started (Unix seconds): the start of the window in which
    /// CloudWatch's metrics describe the timed load and not the prefill.
    pub timed_started_s: Option<i64>,
    /// When the timed tasks had all stopped (Unix seconds): the end of that window.
    pub timed_ended_s: Option<i64>,
    /// Why the tool ended the load before its time (every running task had stalled).
    pub gave_up: Option<String>,
}

fn failed(id: &str, exit_code: Option<i32>, reasons: Vec<String>) -> JudgedClient {
    let mut result = ClientResult::new(id, ClientSource::MemtierJson);
    result.exit_code = exit_code;
    JudgedClient {
        result,
        status: TaskStatus::Failed,
        reasons,
    }
}

/// Judge one task from what it shipped.
pub fn judge(run: &TaskRun) -> JudgedClient {
    let out = run.shipped.task_outputs(&run.id);
    let mut extra: Vec<String> = run.shipped.problems.clone();
    match (&run.gave_up, run.stopped_by_tool) {
        (Some(why), true) => extra.push(format!("stopped by the tool before its deadline: {why}")),
        (None, true) => extra.push("still running after its deadline: stopped by the tool".into()),
        _ => {}
    }
    if run.never_stopped {
        extra.push(
            "still not STOPPED after its deadline and the stop grace: judged on what it shipped by then"
                .into(),
        );
    }
    if let Some(r) = &run.stopped_reason {
        if run.shipped.files.is_empty() {
            extra.push(format!("ECS: {r}"));
        }
    }
    match parse_task(&out) {
        Ok(mut j) => {
            if !extra.is_empty() && j.status == TaskStatus::Ok {
                j.status = TaskStatus::Degraded;
            }
            j.reasons.extend(extra);
            j
        }
        Err(ParseError::NotMemtier(why)) => {
            let mut reasons = vec![format!("no memtier results arrived: {why}")];
            reasons.extend(extra);
            failed(&run.id, out.exit_code, reasons)
        }
        Err(e) => {
            let mut reasons = vec![format!("memtier results unreadable: {e}")];
            reasons.extend(extra);
            failed(&run.id, out.exit_code, reasons)
        }
    }
}

/// Some tasks did not start because Fargate had no capacity (worth another try, elsewhere).
#[derive(Debug, thiserror::Error)]
#[error("{missing} task(s) did not start: {reason}")]
struct NoCapacity {
    missing: u32,
    reason: String,
}

/// The subnets of a RunTask attempt: all of them first; then, since AWS asks callers to try another
/// Availability Zone, one subnet at a time, in turn.
fn subnets_for(attempt: u32, all: &[String]) -> Vec<String> {
    if attempt == 0 || all.len() < 2 {
        return all.to_vec();
    }
    let i = usize::try_from(attempt - 1).unwrap_or(0) % all.len();
    vec![all[i].clone()]
}

/// Which workload of a matrix the tasks run: a tag that keeps RunTask's client tokens of one
/// workload apart from another's (a repeated token is answered with its first answer), and the
/// workload's own script as the container's command (the task definition holds another's).
/// Outside a matrix: no tag, no override.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkloadTasks<'a> {
    /// Short and unique in the run, e.g. `w2`; empty outside a matrix.
    pub tag: &'a str,
    /// The script the container runs instead of the task definition's.
    pub command: Option<&'a str>,
}

/// Where a workload's tasks start and are waited for: the clients, what was provisioned for them
/// (task definition, security groups, endpoint), the ledger that records each task, and the
/// timeouts. The same for every workload of a matrix.
#[derive(Clone, Copy)]
pub struct LoadSite<'a> {
    /// The AWS clients.
    pub clients: &'a Clients,
    /// What provisioning made.
    pub provisioned: &'a Provisioned,
    /// The run's ledger.
    pub ledger: &'a SharedLedger,
    /// The run's timeouts and poll interval.
    pub timeouts: &'a Timeouts,
}

/// Start `count` tasks in batches of ≤ 10, recording each in the ledger; returns their ARNs. Tasks
/// Fargate has no capacity for are started again, in another subnet, within the capacity policy's
/// budget; any other start failure ends the load.
async fn start(
    site: LoadSite<'_>,
    p: &RunPlan,
    env: &[(String, String)],
    (count, label): (u32, &str),
    w: WorkloadTasks<'_>,
) -> anyhow::Result<Vec<String>> {
    let LoadSite {
        clients: c,
        provisioned: prov,
        ledger,
        timeouts: t,
    } = site;
    let arns = std::sync::Mutex::new(Vec::new());
    let token_base = if w.tag.is_empty() {
        p.run_id.clone()
    } else {
        format!("{}-{}", p.run_id, w.tag)
    };
    for (i, n) in crate::plan::batches(count).into_iter().enumerate() {
        // (tasks still to start, attempt) of this batch.
        let state = std::sync::Mutex::new((n, 0u32));
        let is_capacity = |e: &anyhow::Error| e.downcast_ref::<NoCapacity>().is_some();
        let what = format!("starting {n} {label} task(s) (batch {})", i + 1);
        crate::retry::retry(&what, &t.retry.capacity, is_capacity, || async {
            let (missing, attempt) = *lock(&state)?;
            let subnets = subnets_for(attempt, &p.network.subnet_ids);
            // A new token per attempt: RunTask answers a repeated token with its first answer.
            let client_token = if attempt == 0 {
                format!("{token_base}-{label}-{i}")
            } else {
                format!("{token_base}-{label}-{i}-r{attempt}")
            };
            let out = tasks::run_tasks(
                &c.ecs,
                &tasks::RunRequest {
                    cluster: &p.names.ecs_cluster,
                    task_definition: &prov.task_definition_arn,
                    subnets: &subnets,
                    security_groups: &prov.task_security_groups,
                    assign_public_ip: p.network.assign_public_ip,
                    environment: env.to_vec(),
                    count: missing,
                    client_token,
                    tags: &p.tags,
                    command: w.command,
                },
            )
            .await?;
            for arn in &out.arns {
                record(
                    ledger,
                    ResourceKind::EcsTask,
                    arn,
                    Some(arn),
                    Event::Created,
                )?;
            }
            let left = missing.saturating_sub(u32::try_from(out.arns.len()).unwrap_or(u32::MAX));
            lock(&arns)?.extend(out.arns);
            *lock(&state)? = (left, attempt + 1);
            let reasons: Vec<String> = out.failures.iter().map(ToString::to_string).collect();
            if out.failures.is_empty() || left == 0 {
                Ok(())
            } else if out.failures.iter().all(tasks::StartFailure::is_capacity) {
                Err(NoCapacity {
                    missing: left,
                    reason: reasons.join("; "),
                }
                .into())
            } else {
                Err(anyhow::anyhow!(
                    "RunTask in ECS cluster '{}': {left} task(s) did not start: {}",
                    p.names.ecs_cluster,
                    reasons.join("; ")
                ))
            }
        })
        .await
        .map_err(|e| {
            if e.downcast_ref::<NoCapacity>().is_some() {
                e.context(format!(
                    "Fargate had no capacity within the {} s budget (tried every subnet given in 'subnet_ids'; more subnets in other Availability Zones, or a later run, may help)",
                    t.retry.capacity.budget.as_secs()
                ))
            } else {
                e
            }
        })?;
    }
    let arns = lock(&arns)?.clone();
    Ok(arns)
}

fn lock<T>(m: &std::sync::Mutex<T>) -> anyhow::Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| anyhow::anyhow!("a lock of the load's state is poisoned"))
}

/// Whether ECS stopped the task because its image could not be pulled.
pub fn is_pull_failure(stopped_reason: &str) -> bool {
    let r = stopped_reason.to_ascii_lowercase();
    r.contains("cannotpullcontainererror")
        || r.contains("toomanyrequests")
        || r.contains("pull image manifest")
        || (r.contains("resourceinitializationerror") && r.contains("pull"))
}

/// Read one task's stream; when it exists but its end marker has not arrived, read on from where
/// the last read ended until it does, within the log-tail policy's budget (CloudWatch Logs is
/// eventually visible: a task can be STOPPED before the tail of its stream can be read).
async fn read_task(c: &Clients, p: &RunPlan, id: &str, t: &Timeouts) -> anyhow::Result<Shipped> {
    let group = &p.names.log_group;
    let stream = ResourceNames::log_stream(id);
    let mut cursor = None;
    let lines = match logs::read_more(&c.logs, group, &stream, &mut cursor, &t.retry.log_read).await
    {
        Ok(l) => l,
        // No stream: the container never started (its image, its network), nothing will come.
        Err(e) if e.is_not_found() => return Ok(Shipped::default()),
        Err(e) => return Err(e.into()),
    };
    let shipped = frames::decode(lines.iter().map(String::as_str));
    if shipped.complete {
        return Ok(shipped);
    }
    tracing::info!(
        "task {id}: its log stream has no end marker yet; CloudWatch Logs is eventually visible: reading on for up to {} s",
        t.retry.log_tail.budget.as_secs()
    );
    let what = format!("the end of task {id}'s log stream");
    // (cursor, lines so far), shared by the looks.
    let read = std::sync::Mutex::new((cursor, lines));
    let (read, stream) = (&read, &stream);
    let tail = crate::retry::poll_until(&what, &t.retry.log_tail, || async move {
        let mut cursor = lock(read)?.0.clone();
        let more = logs::read_more(&c.logs, group, stream, &mut cursor, &t.retry.log_read).await?;
        let mut state = lock(read)?;
        state.0 = cursor;
        state.1.extend(more);
        let shipped = frames::decode(state.1.iter().map(String::as_str));
        anyhow::Ok(if shipped.complete {
            Probe::Ready(shipped)
        } else {
            Probe::Pending(format!("{} lines, no end marker", state.1.len()))
        })
    })
    .await;
    match tail {
        Ok(s) => {
            tracing::info!("task {id}: the end of its log stream arrived");
            Ok(s)
        }
        Err(PollError::TimedOut { .. }) => {
            let state = lock(read)?;
            Ok(frames::decode(state.1.iter().map(String::as_str)))
        }
        Err(PollError::Failed(e)) => Err(e),
    }
}

/// Read what each task shipped (a bounded number of streams at once). When the tool stopped the
/// tasks because they had stalled, their streams have no end coming: no reading on for it.
async fn collect(
    c: &Clients,
    p: &RunPlan,
    w: &Waited,
    t: &Timeouts,
) -> anyhow::Result<Vec<TaskRun>> {
    use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
    let mut t = t.clone();
    if w.gave_up.is_some() {
        t.retry.log_tail = PROGRESS_READ;
    }
    let t = &t;
    stream::iter(w.states.iter().map(|s| async move {
        let id = tasks::task_id(&s.arn).to_string();
        let mut shipped = read_task(c, p, &id, t).await?;
        if shipped.exit_code.is_none() {
            shipped.exit_code = s.exit_code;
        }
        let stopped_by_tool = w.stopped_by_tool.contains(&s.arn);
        anyhow::Ok(TaskRun {
            id,
            shipped,
            stopped_reason: s.stopped_reason.clone(),
            stopped_by_tool,
            never_stopped: w.never_stopped.contains(&s.arn),
            gave_up: w.gave_up.clone().filter(|_| stopped_by_tool),
        })
    }))
    .buffered(READ_CONCURRENCY)
    .try_collect()
    .await
}

/// Prefill once (when planned), then run the timed tasks and judge them. A prefill whose image
/// could not be pulled ends the load there: the timed tasks would fail the same way.
pub async fn run_load(
    c: &Clients,
    p: &RunPlan,
    prov: &Provisioned,
    ledger: &SharedLedger,
    token: Option<&Secret>,
    t: &Timeouts,
    cancel: &CancellationToken,
) -> anyhow::Result<LoadOutcome> {
    let site = LoadSite {
        clients: c,
        provisioned: prov,
        ledger,
        timeouts: t,
    };
    run_workload(site, p, token, cancel, WorkloadTasks::default()).await
}

/// [`run_load`] for one workload of a matrix.
pub async fn run_workload(
    site: LoadSite<'_>,
    p: &RunPlan,
    token: Option<&Secret>,
    cancel: &CancellationToken,
    w: WorkloadTasks<'_>,
) -> anyhow::Result<LoadOutcome> {
    let LoadSite {
        clients: c,
        provisioned: prov,
        timeouts: t,
        ..
    } = site;
    let mut env = vec![(ENV_HOST.to_string(), prov.endpoint.clone())];
    if let Some(tok) = token.filter(|_| p.cache.transit_encryption) {
        env.push((ENV_AUTH_TOKEN.to_string(), tok.expose().to_string()));
    }
    let mut outcome = LoadOutcome::default();
    let start_cancellable = |env: Vec<(String, String)>, count: u32, label: &'static str| async move {
        tokio::select! {
            r = start(site, p, &env, (count, label), w) => r,
            () = cancel.cancelled() => Err(anyhow::anyhow!("interrupted by a signal while starting the {label} task(s)")),
        }
    };
    if p.tasks.prefill {
        let mut e = env.clone();
        e.push((ENV_MODE.to_string(), "prefill".into()));
        tracing::info!("prefill: one task writes every key once");
        let arns = start_cancellable(e, 1, "prefill").await?;
        let deadline =
            Duration::from_secs(PREFILL_TIMEOUT_SECS + KILL_AFTER_SECS + STOP_GRACE_SECS);
        let expect = Expect {
            label: "prefill",
            load: None,
        };
        let w = wait_stopped(c, p, &arns, deadline, expect, t, cancel).await?;
        if w.interrupted {
            outcome.interrupted = true;
            return Ok(outcome);
        }
        let run = collect(c, p, &w, t).await?.into_iter().next();
        if let Some(r) = &run {
            if r.shipped.exit_code != Some(0) {
                tracing::warn!(
                    "prefill task {} exited with {:?}",
                    r.id,
                    r.shipped.exit_code
                );
            }
        }
        let pulled = run.as_ref().and_then(TaskRun::pull_failure).is_none();
        outcome.prefill = run;
        if !pulled {
            tracing::error!(
                "the prefill task could not pull its image: not starting the timed tasks"
            );
            return Ok(outcome);
        }
        if let Some(why) = w.gave_up {
            tracing::error!("the prefill stalled: not starting the timed tasks");
            outcome.gave_up = Some(format!("the prefill task stalled: {why}"));
            return Ok(outcome);
        }
    }
    if cancel.is_cancelled() {
        outcome.interrupted = true;
        return Ok(outcome);
    }
    env.push((ENV_MODE.to_string(), "timed".into()));
    tracing::info!("starting {} load generator task(s)", p.tasks.count);
    outcome.timed_started_s = i64::try_from(crate::clock::now_ms() / 1000).ok();
    let arns = start_cancellable(env, p.tasks.count, "timed").await?;
    let deadline = Duration::from_secs(p.tasks.stop_after_secs);
    let expect = Expect {
        label: "load generator",
        load: Some(Duration::from_secs(
            p.tasks
                .script
                .timed_timeout_secs
                .saturating_sub(TIMEOUT_GRACE_SECS),
        )),
    };
    let w = wait_stopped(c, p, &arns, deadline, expect, t, cancel).await?;
    outcome.timed_ended_s = i64::try_from(crate::clock::now_ms() / 1000).ok();
    outcome.interrupted = w.interrupted;
    if w.interrupted {
        return Ok(outcome);
    }
    outcome.gave_up.clone_from(&w.gave_up);
    outcome.tasks = collect(c, p, &w, t).await?;
    outcome.judged = outcome.tasks.iter().map(judge).collect();
    Ok(outcome)
}
