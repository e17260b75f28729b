//! Running the load: the prefill task once, then the timed tasks in RunTask batches of at most 10
//! (each recorded in the ledger before anything waits on it), waiting until they stop, stopping
//! stragglers after the deadline plus grace, and reading each task's results back from its log
//! stream. Each task is judged by its results (memtier exits 0 on most failures), not only by its
//! exit code.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::provision::{record, SharedLedger, Timeouts};
use super::{logs, tasks, Clients, Provisioned};
use crate::client::{ClientResult, ClientSource, JudgedClient, TaskStatus};
use crate::config::Secret;
use crate::memtier::{parse_task, ParseError};
use crate::plan::frames::{self, Shipped};
use crate::plan::names::ResourceNames;
use crate::plan::script::{
    ENV_AUTH_TOKEN, ENV_HOST, ENV_MODE, KILL_AFTER_SECS, PREFILL_TIMEOUT_SECS,
};
use crate::plan::{RunPlan, STOP_GRACE_SECS};
use crate::run::ledger::{Event, ResourceKind};

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
    if run.stopped_by_tool {
        extra.push("still running after its deadline: stopped by the tool".into());
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

/// Start `count` tasks in batches of ≤ 10, recording each in the ledger; returns their ARNs.
async fn start(
    c: &Clients,
    p: &RunPlan,
    prov: &Provisioned,
    ledger: &SharedLedger,
    env: &[(String, String)],
    count: u32,
    label: &str,
) -> anyhow::Result<Vec<String>> {
    let mut arns = Vec::new();
    for (i, n) in crate::plan::batches(count).into_iter().enumerate() {
        let mut started = Vec::new();
        let r = tasks::run_tasks(
            &c.ecs,
            &tasks::RunRequest {
                cluster: &p.names.ecs_cluster,
                task_definition: &prov.task_definition_arn,
                subnets: &p.network.subnet_ids,
                security_groups: &prov.task_security_groups,
                assign_public_ip: p.network.assign_public_ip,
                environment: env.to_vec(),
                count: n,
                client_token: format!("{}-{label}-{i}", p.run_id),
                tags: &p.tags,
            },
            &mut started,
        )
        .await;
        for arn in &started {
            record(
                ledger,
                ResourceKind::EcsTask,
                arn,
                Some(arn),
                Event::Created,
            )?;
        }
        arns.extend(started);
        r?;
    }
    Ok(arns)
}

/// Wait until every task stopped; stop those still running at `deadline`. Returns the final states
/// and which tasks the tool stopped.
async fn wait_stopped(
    c: &Clients,
    cluster: &str,
    arns: &[String],
    deadline: Duration,
    t: &Timeouts,
    cancel: &CancellationToken,
) -> anyhow::Result<(Vec<tasks::TaskState>, Vec<String>, bool)> {
    let start = Instant::now();
    let mut stopped_by_tool: Vec<String> = Vec::new();
    let mut interrupted = false;
    loop {
        let states = tasks::describe_tasks(&c.ecs, cluster, arns).await?;
        let running: Vec<&tasks::TaskState> = states
            .iter()
            .filter(|s| s.last_status != "STOPPED")
            .collect();
        if running.is_empty() && states.len() == arns.len() {
            return Ok((states, stopped_by_tool, interrupted));
        }
        let overdue = start.elapsed() >= deadline;
        if (overdue || cancel.is_cancelled()) && stopped_by_tool.is_empty() {
            interrupted = cancel.is_cancelled();
            for s in &running {
                tracing::warn!(
                    "task {} still {}: stopping it",
                    tasks::task_id(&s.arn),
                    s.last_status
                );
                tasks::stop_task(&c.ecs, &s.arn).await?;
                stopped_by_tool.push(s.arn.clone());
            }
            // On a signal there is no time to wait for the tasks to stop and ship what they have:
            // the process must exit within seconds (the action's post step finishes the rest).
            if interrupted {
                return Ok((states, stopped_by_tool, true));
            }
        }
        if start.elapsed() >= deadline + Duration::from_secs(STOP_GRACE_SECS) {
            anyhow::bail!(
                "{} task(s) in ECS cluster '{cluster}' did not stop within {} s of their deadline",
                running.len(),
                STOP_GRACE_SECS
            );
        }
        tokio::select! {
            () = cancel.cancelled(), if !interrupted && stopped_by_tool.is_empty() => {}
            () = tokio::time::sleep(t.poll) => {}
        }
    }
}

/// Read what each task shipped.
async fn collect(
    c: &Clients,
    p: &RunPlan,
    states: &[tasks::TaskState],
    stopped_by_tool: &[String],
) -> anyhow::Result<Vec<TaskRun>> {
    let mut out = Vec::with_capacity(states.len());
    for s in states {
        let id = tasks::task_id(&s.arn).to_string();
        let lines =
            match logs::read_stream(&c.logs, &p.names.log_group, &ResourceNames::log_stream(&id))
                .await
            {
                Ok(l) => l,
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(e.into()),
            };
        let mut shipped = frames::decode(lines.iter().map(String::as_str));
        if shipped.exit_code.is_none() {
            shipped.exit_code = s.exit_code;
        }
        out.push(TaskRun {
            id,
            shipped,
            stopped_reason: s.stopped_reason.clone(),
            stopped_by_tool: stopped_by_tool.contains(&s.arn),
        });
    }
    Ok(out)
}

/// Prefill once (when planned), then run the timed tasks and judge them.
pub async fn run_load(
    c: &Clients,
    p: &RunPlan,
    prov: &Provisioned,
    ledger: &SharedLedger,
    token: Option<&Secret>,
    t: &Timeouts,
    cancel: &CancellationToken,
) -> anyhow::Result<LoadOutcome> {
    let mut env = vec![(ENV_HOST.to_string(), prov.endpoint.clone())];
    if let Some(tok) = token.filter(|_| p.cache.transit_encryption) {
        env.push((ENV_AUTH_TOKEN.to_string(), tok.expose().to_string()));
    }
    let cluster = &p.names.ecs_cluster;
    let mut outcome = LoadOutcome::default();
    if p.tasks.prefill {
        let mut e = env.clone();
        e.push((ENV_MODE.to_string(), "prefill".into()));
        tracing::info!("prefill: one task writes every key once");
        let arns = start(c, p, prov, ledger, &e, 1, "prefill").await?;
        let deadline =
            Duration::from_secs(PREFILL_TIMEOUT_SECS + KILL_AFTER_SECS + STOP_GRACE_SECS);
        let (states, by_tool, interrupted) =
            wait_stopped(c, cluster, &arns, deadline, t, cancel).await?;
        if interrupted {
            outcome.interrupted = true;
            return Ok(outcome);
        }
        let run = collect(c, p, &states, &by_tool).await?.into_iter().next();
        if let Some(r) = &run {
            if r.shipped.exit_code != Some(0) {
                tracing::warn!(
                    "prefill task {} exited with {:?}",
                    r.id,
                    r.shipped.exit_code
                );
            }
        }
        outcome.prefill = run;
    }
    if cancel.is_cancelled() {
        outcome.interrupted = true;
        return Ok(outcome);
    }
    env.push((ENV_MODE.to_string(), "timed".into()));
    tracing::info!("starting {} load generator task(s)", p.tasks.count);
    let arns = start(c, p, prov, ledger, &env, p.tasks.count, "timed").await?;
    let deadline = Duration::from_secs(p.tasks.stop_after_secs);
    let (states, by_tool, interrupted) =
        wait_stopped(c, cluster, &arns, deadline, t, cancel).await?;
    outcome.interrupted = interrupted;
    if interrupted {
        return Ok(outcome);
    }
    outcome.tasks = collect(c, p, &states, &by_tool).await?;
    outcome.judged = outcome.tasks.iter().map(judge).collect();
    Ok(outcome)
}
