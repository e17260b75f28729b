//! One AWS run from plan to leak scan: plan and budget check, pre-flight, provision, load, then —
//! on success, error or signal — teardown from the ledger and the leak scan, which fails the run if
//! anything of it remains. Returns what the merge and the reports need.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::collect::{collect_metrics, metrics_window_start, slice, Window};
use super::ledger::{replay, Ledger, LEDGER_FILE};
use super::{
    abort, existing, leaks, load, preflight, provision, teardown, token, Clients, Timeouts,
};
use crate::client::JudgedClient;
use crate::config::Config;
use crate::error::InputError;
use crate::plan::{self, PlanContext, RunPlan};
use crate::results::timeline::{Span, Timeline};

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
fn interrupted_outcome(
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
fn client_outcome(name: Option<&str>, p: &RunPlan, o: &load::LoadOutcome) -> AwsOutcome {
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
fn add_teardown(
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

/// Run the AWS target. Everything created is deleted before this returns, also on error; on a
/// signal, one delete call goes to each resource and the rest is left to `cleanup`.
///
/// As soon as the tasks' results are home, three things run side by side: the teardown (the
/// cache's deletion, which takes minutes, first among them), the wait for CloudWatch to publish
/// the load's last minute, and `first_report` — given the outcome as the results make it and the
/// timeline so far — whose result is handed back beside the final outcome.
#[allow(clippy::too_many_arguments)]
pub async fn run<F, Fut, T>(
    cfg: &Config,
    workloads: &[AwsWorkload<'_>],
    run_id: &str,
    out_dir: &Path,
    cancel: &CancellationToken,
    tl: &mut Timeline,
    t: &Timeouts,
    first_report: F,
) -> anyhow::Result<(Vec<AwsOutcome>, Option<T>)>
where
    F: FnOnce(Vec<AwsOutcome>, Vec<crate::results::Phase>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    tl.phase("plan");
    let repository = std::env::var("GITHUB_REPOSITORY").ok();
    let aws_cfg = cfg
        .aws
        .as_ref()
        .ok_or_else(|| InputError::new("input 'target' is not aws"))?;
    let mut c = Clients::from_env(&aws_cfg.region).await;
    // The user's own cache is read before the plan: its endpoint, TLS and topology shape the
    // tasks' command line.
    let found = match &aws_cfg.cache.existing {
        Some(given) => Some(
            existing::resolve(
                &c.elasticache,
                given,
                aws_cfg.cache.auth_token.is_some(),
                &aws_cfg.region,
            )
            .await
            .context("reading your cache")?,
        ),
        None => None,
    };
    let ctx = PlanContext {
        run_id,
        now_unix_ms: crate::clock::now_ms(),
        repository: repository.as_deref(),
        existing: found.as_ref(),
    };
    let p = plan::plan(cfg, &ctx).map_err(|e| InputError::new(e.to_string()))?;
    plan::check_budget(&p).map_err(InputError::new)?;
    // Each workload of a matrix: its own tasks' plan on the same resources (the names derive from
    // the run id alone).
    let mut plans: Vec<(Option<&str>, RunPlan)> = Vec::with_capacity(workloads.len().max(1));
    for w in workloads {
        let wp = plan::plan(w.config, &ctx)
            .map_err(|e| InputError::new(format!("workload '{}': {e}", w.name.unwrap_or("?"))))?;
        plans.push((w.name, wp));
    }
    if plans.is_empty() {
        plans.push((None, p.clone()));
    }
    tl.phase("preflight");
    preflight(&mut c, &p).await?;
    let ledger = Mutex::new(Ledger::open(out_dir, run_id, &p.region)?.mirror_to_action_state());
    tracing::info!("resource ledger: {}", out_dir.join(LEDGER_FILE).display());
    let auth = if p.cache.existing.is_some() {
        let t = aws_cfg.cache.auth_token.clone();
        if let Some(t) = t.as_ref().filter(|_| crate::github::in_actions()) {
            crate::github::commands::add_mask(t.expose());
        }
        t
    } else if p.cache.transit_encryption {
        let t = token::new_auth_token()?;
        // It travels in RunTask's overrides (docs/aws.md says where AWS shows it); never in a log.
        if crate::github::in_actions() {
            crate::github::commands::add_mask(t.expose());
        }
        Some(t)
    } else {
        None
    };

    tl.phase("provision");
    let provisioned = tokio::select! {
        r = provision(&c, &p, &ledger, auth.as_ref(), t) => r,
        () = cancel.cancelled() => Err(anyhow::anyhow!("interrupted by a signal while provisioning")),
    };
    let loaded = match &provisioned {
        Ok(_) if cancel.is_cancelled() => Err(anyhow::anyhow!("not started: interrupted")),
        Ok(prov) => load_all(&c, &plans, prov, &ledger, auth.as_ref(), t, cancel, tl).await,
        Err(_) => Err(anyhow::anyhow!("not started: provisioning failed")),
    };
    drop(auth);
    let client: Option<Vec<AwsOutcome>> = match (&provisioned, &loaded) {
        (Ok(_), Ok(os)) if !cancel.is_cancelled() => Some(
            plans
                .iter()
                .zip(os)
                .map(|((name, wp), o)| client_outcome(*name, wp, o))
                .collect(),
        ),
        _ => None,
    };
    // Nothing to wait for in CloudWatch when no task produced results (they never ran, or all
    // failed).
    let with_results = loaded.as_ref().is_ok_and(|os| {
        os.iter()
            .flat_map(|o| &o.judged)
            .any(|j| j.status != crate::client::TaskStatus::Failed)
    });
    let bound = cfg
        .aws
        .as_ref()
        .filter(|_| with_results)
        .map_or(std::time::Duration::ZERO, |a| a.metrics_wait);
    let now_s = || i64::try_from(crate::clock::now_ms() / 1000).unwrap_or(0);
    let windows: Vec<Window> = loaded
        .as_ref()
        .map(|os| {
            os.iter()
                .map(|o| Window {
                    start_s: metrics_window_start(
                        o.timed_started_s.unwrap_or_else(now_s),
                        o.prefill.is_some(),
                    ),
                    end_s: o.timed_ended_s.unwrap_or_else(now_s),
                })
                .collect()
        })
        .unwrap_or_default();
    let window = match (windows.first(), windows.last()) {
        (Some(a), Some(b)) => Some(Window {
            start_s: a.start_s,
            end_s: b.end_s,
        }),
        _ => None,
    };

    let resources = replay(&Ledger::read(&out_dir.join(LEDGER_FILE))?);
    let vpc = Some(p.network.vpc_id.as_str());
    // The three run side by side, each its own phase.
    tl.end();
    let so_far = tl.snapshot();
    let tear = async {
        if cancel.is_cancelled() {
            return None;
        }
        let span = Span::start("teardown");
        let rep = teardown(&c, &ledger, &resources, vpc, t).await;
        Some((rep, span.to_phase()))
    };
    let metrics = async {
        let (Ok(prov), Some(w), Some(_)) = (&provisioned, window, &client) else {
            return None;
        };
        let span = Span::start("collect");
        let m = collect_metrics(&c, &p, &prov.member_clusters, w, bound, t, cancel).await;
        Some((m, span.to_phase()))
    };
    let report = async {
        let o = client.clone()?;
        let span = Span::start("first report");
        let r = first_report(o, so_far).await;
        Some((r, span.to_phase()))
    };
    let (rep, metrics, first) = tokio::select! {
        r = async { tokio::join!(tear, metrics, report) } => r,
        () = cancel.cancelled() => (None, None, None),
    };
    let Some((rep, teardown_phase)) = rep.filter(|_| !cancel.is_cancelled()) else {
        // A signal: one delete call per resource, then out (the post step or `cleanup` finishes).
        let entries = Ledger::read(&out_dir.join(LEDGER_FILE))?;
        let fired = abort::fire(&c, &ledger, &entries, vpc).await;
        let last = loaded.ok().and_then(|mut os| os.pop());
        return Ok((vec![interrupted_outcome(p, last, &fired, run_id)], None));
    };
    tl.push(teardown_phase);
    tl.phase("leak scan");
    let first = first.map(|(r, phase)| {
        tl.push(phase);
        r
    });
    let mut notes = Vec::new();
    let (mut server, mut loadgen_metrics) = (None, None);
    if let Some((m, phase)) = metrics {
        tl.push(phase);
        match m {
            Ok((m, l)) => {
                server = Some(m);
                loadgen_metrics = Some(l);
            }
            Err(e) => notes.push(format!("no CloudWatch metrics: {e}")),
        }
    }
    let after = replay(&Ledger::read(&out_dir.join(LEDGER_FILE))?);
    let mut problems: Vec<String> = rep.errors.clone();
    // A scan that fails (its call still failing after the SDK's retries) is one more problem, not
    // the run's error: returning it would hide why provisioning or the load failed, and would drop
    // the results of a load that succeeded.
    match leaks::leak_scan(&c, run_id, &after, Some(&p.network.vpc_id))
        .await
        .with_context(|| format!("scanning for resources of run '{run_id}' left behind"))
    {
        Ok(left) => problems.extend(left.iter().map(|l| format!("left behind: {l}"))),
        Err(e) => {
            tracing::error!("{e:#}");
            problems.push(format!(
                "{e:#}; run `cleanup` with this run's output folder to check again"
            ));
        }
    }
    let incomplete = |e: anyhow::Error| {
        if problems.is_empty() {
            e
        } else {
            e.context(format!("teardown incomplete: {}", problems.join("; ")))
        }
    };
    if let Err(e) = provisioned {
        return Err(incomplete(e));
    }
    if let Err(e) = loaded {
        return Err(incomplete(e.context("running the load")));
    }
    let Some(mut outs) = client else {
        return Err(anyhow::anyhow!("the load ended without an outcome"));
    };
    let matrix = outs.len() > 1;
    for (out, w) in outs.iter_mut().zip(&windows) {
        add_teardown(out, &rep, &problems, &notes);
        // In a matrix, each workload's metrics are those of its own minutes.
        let span = |m: &crate::results::server::NodeMetrics| slice(m, w.start_s, w.end_s);
        out.server = server
            .as_ref()
            .map(|m| crate::results::server::ServerMetrics {
                nodes: if matrix {
                    m.nodes.iter().map(span).collect()
                } else {
                    m.nodes.clone()
                },
                ..m.clone()
            });
        out.loadgen_metrics =
            loadgen_metrics
                .as_ref()
                .map(|m| if matrix { span(m) } else { m.clone() });
    }
    Ok((outs, first))
}

/// One workload of an AWS run: its name in a matrix, and its configuration.
#[derive(Clone, Copy, Debug)]
pub struct AwsWorkload<'a> {
    /// Its name (`None` outside a matrix).
    pub name: Option<&'a str>,
    /// Its configuration.
    pub config: &'a Config,
}

/// Run each workload's load, one after another on the provisioned resources: in a matrix each
/// with its own tasks' command and client tokens. A signal ends the matrix after the workload it
/// interrupted; a workload whose load fails ends it with that error.
#[allow(clippy::too_many_arguments)]
async fn load_all(
    c: &Clients,
    plans: &[(Option<&str>, RunPlan)],
    prov: &super::Provisioned,
    ledger: &super::SharedLedger,
    auth: Option<&crate::config::Secret>,
    t: &Timeouts,
    cancel: &CancellationToken,
    tl: &mut Timeline,
) -> anyhow::Result<Vec<load::LoadOutcome>> {
    let matrix = plans.len() > 1;
    let mut out = Vec::with_capacity(plans.len());
    for (k, (name, wp)) in plans.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let tag = format!("w{}", k + 1);
        let w = match (matrix, name) {
            (true, Some(n)) => {
                tl.phase(&format!("load {n}"));
                tracing::info!("workload {}/{}: {n}", k + 1, plans.len());
                load::WorkloadTasks {
                    tag: &tag,
                    command: Some(&wp.tasks.script.script),
                }
            }
            _ => {
                tl.phase("load");
                load::WorkloadTasks::default()
            }
        };
        let o = match load::run_workload(c, wp, prov, ledger, auth, t, cancel, w).await {
            Ok(o) => o,
            Err(e) if matrix => {
                return Err(e.context(format!("workload '{}'", name.unwrap_or("?"))))
            }
            Err(e) => return Err(e),
        };
        // A load cut short (every task stalled) or an image that cannot be pulled would end the
        // next workload's the same way: the matrix stops there.
        let stalled = o.gave_up.is_some() || pull_failure(&o, &wp.tasks.image).is_some();
        let stop = o.interrupted || stalled;
        out.push(o);
        if stalled && matrix && k + 1 < plans.len() {
            tracing::error!(
                "workload '{}' could not run: not starting the {} workload(s) after it",
                name.unwrap_or("?"),
                plans.len() - k - 1
            );
        }
        if stop {
            break;
        }
    }
    Ok(out)
}
