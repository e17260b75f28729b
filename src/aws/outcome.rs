//! What an AWS run returns for each workload: its outcome as the tasks' results make it (their log,
//! raw outputs and why the load failed), then the teardown's log and the CloudWatch metrics added
//! to it — or, on a signal, what the signal path's delete calls did.

use super::collect::{slice, Window};
use super::{abort, load};
use crate::client::JudgedClient;
use crate::plan::RunPlan;

/// One task's raw output files: (file name, content).
pub type RawFiles = Vec<(String, Vec<u8>)>;

/// What an AWS run produced, before the merge and the reports.
#[derive(Clone, Debug)]
pub struct AwsOutcome {
    /// The workload's name, in a matrix.
    pub workload: Option<String>,
    /// The plan that was carried out (in a matrix, the workload's own).
    pub plan: RunPlan,
    /// Judged timed tasks.
    pub judged: Vec<JudgedClient>,
    /// Why the run failed although it may have produced results (leftovers, a prefill failure).
    pub failure: Option<String>,
    /// Whether a signal cut the run short.
    pub interrupted: bool,
    /// Text log: what each task reported, teardown.
    pub log: String,
    /// Each task's raw outputs: (task id, [(file name, content)]).
    pub raw: Vec<(String, RawFiles)>,
    /// CloudWatch metrics of every member cluster.
    pub server: Option<crate::results::server::ServerMetrics>,
    /// Container Insights metrics of the load generators.
    pub loadgen_metrics: Option<crate::results::server::NodeMetrics>,
}

/// The run's failure when its load generators could not pull their image: the cause first, then
/// what to do (Docker Hub limits anonymous pulls to 10 per hour per IP address, and every task
/// behind one NAT gateway shares one address).
pub fn pull_failure(o: &load::LoadOutcome, image: &str) -> Option<String> {
    let prefill = o.prefill.as_ref().and_then(load::TaskRun::pull_failure);
    let timed: Vec<&str> = o
        .tasks
        .iter()
        .filter_map(load::TaskRun::pull_failure)
        .collect();
    let reason = match prefill {
        Some(r) => r,
        None if !o.tasks.is_empty() && timed.len() == o.tasks.len() => timed[0],
        None => return None,
    };
    let remedy = if reason.to_ascii_lowercase().contains("toomanyrequests") {
        "Docker Hub's limit on anonymous pulls (10 per hour per IP address; every task behind one \
         NAT gateway shares one) was reached. Use a copy of the image in ECR — an ECR pull-through \
         cache rule for docker.io (docs/aws.md) — in 'loadgen_image', or give Docker Hub \
         credentials as a Secrets Manager secret in 'loadgen_repository_credentials'"
    } else {
        "Check that 'loadgen_image' names an image that exists and that the subnets reach its \
         registry (a NAT gateway, 'assign_public_ip: true' in a public subnet, or VPC endpoints for \
         ECR and S3); a private registry needs 'loadgen_repository_credentials'"
    };
    let who = if prefill.is_some() {
        "the prefill task".to_string()
    } else {
        format!("all {} load generator task(s)", o.tasks.len())
    };
    Some(format!(
        "the load generators could not pull their image '{image}': {who} stopped with \"{reason}\". {remedy}."
    ))
}

fn task_log(out: &mut String, what: &str, t: &load::TaskRun) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "== {what} task {}: exit {:?}{}{}",
        t.id,
        t.shipped.exit_code,
        t.stopped_reason
            .as_deref()
            .map(|r| format!(", ECS: {r}"))
            .unwrap_or_default(),
        if t.stopped_by_tool {
            ", stopped by the tool"
        } else {
            ""
        }
    );
    for p in &t.shipped.problems {
        let _ = writeln!(out, "   problem: {p}");
    }
    if let Some((_, err)) = t.shipped.files.iter().find(|(n, _)| n == "stderr.txt") {
        let text = String::from_utf8_lossy(err);
        // memtier's progress lines use \r; keep the last 40 lines of what it said.
        let lines: Vec<&str> = text
            .split(['\n', '\r'])
            .filter(|l| !l.trim().is_empty())
            .collect();
        for l in &lines[lines.len().saturating_sub(40)..] {
            let _ = writeln!(out, "   {l}");
        }
    }
}

/// What an interrupted run returns: the tasks' outcome when the load got that far, and a log of
/// the signal path's delete calls naming what `cleanup` still has to do.
pub(super) fn interrupted_outcome(
    plan: RunPlan,
    loaded: Option<load::LoadOutcome>,
    fired: &abort::Fired,
    run_id: &str,
) -> AwsOutcome {
    use std::fmt::Write as _;
    let mut log = String::new();
    let _ = writeln!(
        log,
        "== interrupted by a signal: one delete call per resource"
    );
    for d in &fired.deleted {
        let _ = writeln!(log, "   deleted {d}");
    }
    for d in &fired.started {
        let _ = writeln!(log, "   deletion started: {d}");
    }
    for d in &fired.pending {
        let _ = writeln!(log, "   left for cleanup: {d}");
    }
    let finish = format!(
        "`elasticache-perf cleanup --run-id {run_id} --aws-region {}` finishes the teardown (the action's post step runs it)",
        plan.region
    );
    let _ = writeln!(log, "== {finish}");
    tracing::warn!(
        "interrupted: {} deleted, {} deleting, {} left; {finish}",
        fired.deleted.len(),
        fired.started.len(),
        fired.pending.len()
    );
    let loaded = loaded.unwrap_or_default();
    AwsOutcome {
        workload: None,
        plan,
        judged: loaded.judged,
        failure: Some(format!("interrupted before teardown finished: {finish}")),
        interrupted: true,
        log,
        raw: Vec::new(),
        server: None,
        loadgen_metrics: None,
    }
}

/// The part of a run's outcome the tasks' results make, known as soon as they are home: the tasks'
/// log, their raw outputs, and why the load failed (an image that could not be pulled, a failed
/// prefill, a load cut short because every task stalled).
pub(super) fn client_outcome(name: Option<&str>, p: &RunPlan, o: &load::LoadOutcome) -> AwsOutcome {
    let mut log = String::new();
    if let Some(pre) = &o.prefill {
        task_log(&mut log, "prefill", pre);
    }
    for tr in &o.tasks {
        task_log(&mut log, "timed", tr);
    }
    let mut failure = o
        .gave_up
        .as_ref()
        .map(|why| format!("the load was cut short: {why}"));
    if let Some(pull) = pull_failure(o, &p.tasks.image) {
        tracing::error!("{pull}");
        failure = Some(pull);
    }
    if let Some(pre) = &o.prefill {
        if pre.shipped.exit_code != Some(0) && failure.is_none() {
            failure = Some(format!(
                "the prefill task {} exited with {:?}",
                pre.id, pre.shipped.exit_code
            ));
        }
    }
    let raw = o
        .prefill
        .iter()
        .map(|t| (format!("prefill-{}", t.id), t.shipped.files.clone()))
        .chain(
            o.tasks
                .iter()
                .map(|t| (t.id.clone(), t.shipped.files.clone())),
        )
        .collect();
    AwsOutcome {
        workload: name.map(str::to_string),
        plan: p.clone(),
        judged: o.judged.clone(),
        failure,
        interrupted: o.interrupted,
        log,
        raw,
        server: None,
        loadgen_metrics: None,
    }
}

/// Add the teardown's outcome (and what else happened after the load) to a run's outcome.
pub(super) fn add_teardown(
    out: &mut AwsOutcome,
    rep: &super::TeardownReport,
    problems: &[String],
    notes: &[String],
) {
    use std::fmt::Write as _;
    let log = &mut out.log;
    let _ = writeln!(log, "== teardown: {} deleted", rep.deleted.len());
    for d in &rep.deleted {
        let _ = writeln!(log, "   deleted {d}");
    }
    for e in problems {
        let _ = writeln!(log, "   ERROR {e}");
    }
    for n in notes {
        let _ = writeln!(log, "== note: {n}");
    }
    if !problems.is_empty() {
        let left = format!("teardown incomplete: {}", problems.join("; "));
        out.failure = Some(match out.failure.take() {
            Some(f) => format!("{f}; {left}"),
            None => left,
        });
    }
}

/// Give each workload's outcome the server's and the load generators' metrics: in a matrix, each
/// workload's are those of its own minutes.
pub(super) fn add_metrics(
    outs: &mut [AwsOutcome],
    windows: &[Window],
    server: Option<&crate::results::server::ServerMetrics>,
    loadgen_metrics: Option<&crate::results::server::NodeMetrics>,
) {
    let matrix = outs.len() > 1;
    for (out, w) in outs.iter_mut().zip(windows) {
        // In a matrix, each workload's metrics are those of its own minutes.
        let span = |m: &crate::results::server::NodeMetrics| slice(m, w.start_s, w.end_s);
        out.server = server.map(|m| crate::results::server::ServerMetrics {
            nodes: if matrix {
                m.nodes.iter().map(span).collect()
            } else {
                m.nodes.clone()
            },
            ..m.clone()
        });
        out.loadgen_metrics = loadgen_metrics.map(|m| if matrix { span(m) } else { m.clone() });
    }
}
