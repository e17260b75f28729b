//! Waiting for a run's tasks: their states read every poll, a line of progress every so often
//! and at each state change (from what their log streams carry while memtier runs), stragglers
//! stopped at the deadline, and every task stopped as soon as all running ones have stalled.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{logs, progress, tasks, Clients, Timeouts};
use crate::plan::names::ResourceNames;
use crate::plan::RunPlan;

/// How many tasks' log streams are read at once (GetLogEvents allows 10 calls/s per account and
/// region; the SDK retries what is throttled).
pub(super) const READ_CONCURRENCY: usize = 8;

/// A look at a running task's stream for progress: one try (the next look comes soon).
pub(super) const PROGRESS_READ: crate::retry::Policy = crate::retry::Policy::new(
    "progress read",
    Duration::ZERO,
    Duration::ZERO,
    Duration::ZERO,
);

/// How the wait for the tasks ended.
pub(super) struct Waited {
    /// The last state of each task ECS described.
    pub(super) states: Vec<tasks::TaskState>,
    /// Tasks the tool stopped (after their deadline, on a signal, or because they stalled).
    pub(super) stopped_by_tool: Vec<String>,
    /// Tasks still not STOPPED when the wait ended (a slow stop): judged, not waited for.
    pub(super) never_stopped: Vec<String>,
    /// Whether a signal cut the wait short.
    pub(super) interrupted: bool,
    /// Why the tool stopped every task before its deadline (they had all stalled).
    pub(super) gave_up: Option<String>,
}

/// What a wait is for: the tasks' label and how long their load should last (`None` for the
/// prefill, which lasts as long as it takes).
#[derive(Clone, Copy)]
pub(super) struct Expect<'a> {
    pub(super) label: &'a str,
    pub(super) load: Option<Duration>,
}

/// Read what the running tasks printed since the last look (a bounded number of streams at once)
/// into the tracker. A stream that does not exist yet, or cannot be read now, is read next time.
async fn read_progress(
    c: &Clients,
    group: &str,
    running: Vec<String>,
    cursors: &mut std::collections::HashMap<String, Option<String>>,
    tracker: &mut progress::Tracker,
    now: Duration,
) {
    use futures_util::stream::{self, StreamExt as _};
    let looks: Vec<(String, Option<String>)> = running
        .into_iter()
        .map(|id| {
            let cursor = cursors.get(&id).cloned().flatten();
            (id, cursor)
        })
        .collect();
    let read: Vec<(String, Option<String>, Vec<String>)> =
        stream::iter(looks.into_iter().map(|(id, mut cursor)| async move {
            let stream = ResourceNames::log_stream(&id);
            let lines = logs::read_more(&c.logs, group, &stream, &mut cursor, &PROGRESS_READ)
                .await
                .unwrap_or_default();
            (id, cursor, lines)
        }))
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    for (id, cursor, lines) in read {
        tracker.lines(&id, lines.iter().map(String::as_str), now);
        cursors.insert(id, cursor);
    }
}

/// Wait until every task stopped, printing a line of progress every so often and at each state
/// change; stop those still running at `deadline` — or all of them as soon as every running task
/// has stalled — and wait for them to stop for at most the stop grace more: a task that is slow to
/// stop (Fargate's ENI detachment can take minutes) does not cost the others their results.
pub(super) async fn wait_stopped(
    c: &Clients,
    p: &RunPlan,
    arns: &[String],
    deadline: Duration,
    expect: Expect<'_>,
    t: &Timeouts,
    cancel: &CancellationToken,
) -> anyhow::Result<Waited> {
    let cluster = &p.names.ecs_cluster;
    let start = Instant::now();
    let mut stopped_by_tool: Vec<String> = Vec::new();
    let mut stopped_at: Option<Duration> = None;
    let mut interrupted = false;
    let mut gave_up: Option<String> = None;
    let mut tracker = progress::Tracker::default();
    let mut cursors = std::collections::HashMap::new();
    let mut reported: Option<Instant> = None;
    let mut bar = super::live::Bar::new(expect.load.unwrap_or(deadline));
    loop {
        let states = tasks::describe_tasks(&c.ecs, cluster, arns).await?;
        let now = start.elapsed();
        let none_stopped = stopped_by_tool.is_empty();
        let changed = note_changes(&states, &mut tracker, &mut bar, expect, now, none_stopped);
        let running: Vec<&tasks::TaskState> = states
            .iter()
            .filter(|s| s.last_status != "STOPPED")
            .collect();
        if running.is_empty() && states.len() == arns.len() {
            bar.finish();
            return Ok(Waited {
                states,
                stopped_by_tool,
                never_stopped: Vec::new(),
                interrupted,
                gave_up,
            });
        }
        let due = reported.is_none_or(|r| r.elapsed() >= t.progress_every);
        if (due || changed) && stopped_by_tool.is_empty() {
            let ids = running
                .iter()
                .filter(|s| s.last_status == "RUNNING")
                .map(|s| tasks::task_id(&s.arn).to_string())
                .collect();
            let group = &p.names.log_group;
            read_progress(c, group, ids, &mut cursors, &mut tracker, now).await;
            bar.show(&tracker.line(now, expect.load.unwrap_or(deadline)), now);
            reported = Some(Instant::now());
        }
        let overdue = start.elapsed() >= deadline;
        let stalled = tracker.all_stalled(start.elapsed(), t.stall_limit);
        if (overdue || cancel.is_cancelled() || stalled.is_some()) && stopped_by_tool.is_empty() {
            bar.interrupt();
            interrupted = cancel.is_cancelled();
            if let (Some(why), false, false) = (&stalled, overdue, interrupted) {
                tracing::error!("{why}: stopping every {} task now", expect.label);
                gave_up = Some(why.clone());
            }
            stop_running(c, &running, &mut stopped_by_tool).await?;
            stopped_at = Some(start.elapsed());
            // On a signal there is no time to wait for the tasks to stop and ship what they have:
            // the process must exit within seconds (the action's post step finishes the rest).
            if interrupted {
                return Ok(Waited {
                    states,
                    stopped_by_tool,
                    never_stopped: Vec::new(),
                    interrupted: true,
                    gave_up,
                });
            }
        }
        if stopped_at.is_some_and(|at| start.elapsed() >= at + t.stop_grace) {
            bar.finish();
            let never_stopped: Vec<String> = running.iter().map(|s| s.arn.clone()).collect();
            tracing::warn!(
                "{} task(s) in ECS cluster '{cluster}' still not STOPPED {} s after the tool stopped them: collecting the others' results; teardown stops them again",
                never_stopped.len(),
                t.stop_grace.as_secs()
            );
            return Ok(Waited {
                states,
                stopped_by_tool,
                never_stopped,
                interrupted,
                gave_up,
            });
        }
        tokio::select! {
            () = cancel.cancelled(), if !interrupted && stopped_by_tool.is_empty() => {}
            () = tokio::time::sleep(t.poll) => {}
        }
    }
}

/// Feed each task's state into the tracker and log its changes: a task that stopped before the end
/// of its load (while the tool had stopped none) as a warning, any other change as a line. Returns
/// whether any state changed.
fn note_changes(
    states: &[tasks::TaskState],
    tracker: &mut progress::Tracker,
    bar: &mut super::live::Bar,
    expect: Expect<'_>,
    now: Duration,
    none_stopped: bool,
) -> bool {
    let mut changed = false;
    for s in states {
        let id = tasks::task_id(&s.arn);
        let Some(ch) = tracker.state(id, &s.last_status, now) else {
            continue;
        };
        changed = true;
        let early = expect.load.is_some_and(|l| now < l) && none_stopped;
        if ch.to == "STOPPED" && early {
            bar.interrupt();
            tracing::warn!(
                "{} task {id} stopped after {} s, before the end of its load{}",
                expect.label,
                now.as_secs(),
                s.stopped_reason
                    .as_deref()
                    .map(|r| format!(" (ECS: {r})"))
                    .unwrap_or_default()
            );
        } else if !ch.from.is_empty() {
            bar.interrupt();
            tracing::info!("{} task {id}: {} → {}", expect.label, ch.from, ch.to);
        }
    }
    changed
}

/// Stop every task still running, noting each as stopped by the tool.
async fn stop_running(
    c: &Clients,
    running: &[&tasks::TaskState],
    stopped_by_tool: &mut Vec<String>,
) -> anyhow::Result<()> {
    for s in running {
        tracing::warn!(
            "task {} still {}: stopping it",
            tasks::task_id(&s.arn),
            s.last_status
        );
        tasks::stop_task(&c.ecs, &s.arn).await?;
        stopped_by_tool.push(s.arn.clone());
    }
    Ok(())
}
