//! One AWS run from plan to leak scan: plan and budget check, pre-flight, provision, load, then —
//! on success, error or signal — teardown from the ledger and the leak scan, which fails the run if
//! anything of it remains. Returns what the merge and the reports need.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::collect::{collect_metrics, metrics_window_start, Window};
use super::ledger::{replay, Ledger, LEDGER_FILE};
use super::outcome::{add_metrics, add_teardown, client_outcome, interrupted_outcome};
pub use super::outcome::{pull_failure, AwsOutcome, RawFiles};
use super::{
    abort, existing, leaks, load, preflight, provision, teardown, token, Clients, SharedLedger,
    Timeouts,
};
use crate::config::Config;
use crate::error::InputError;
use crate::plan::{self, PlanContext, RunPlan};
use crate::results::timeline::{Span, Timeline};

/// What one AWS run is given: the run's configuration, its workloads (empty outside a matrix), the
/// run id, the output folder (the ledger is written there) and the timeouts.
#[derive(Clone, Copy, Debug)]
pub struct AwsRun<'a> {
    /// The run's configuration.
    pub config: &'a Config,
    /// Each workload of a matrix; empty outside one.
    pub workloads: &'a [AwsWorkload<'a>],
    /// The run id: it names every resource.
    pub run_id: &'a str,
    /// The output folder.
    pub out_dir: &'a Path,
    /// The timeouts and poll interval.
    pub timeouts: &'a Timeouts,
}

/// What the plan and the pre-flight leave for the rest of the run: the clients, the run's plan and
/// each workload's, the open ledger, and the cache's AUTH token (when it has one).
struct Prepared<'a> {
    c: Clients,
    p: RunPlan,
    plans: Vec<(Option<&'a str>, RunPlan)>,
    ledger: SharedLedger,
    auth: Option<crate::config::Secret>,
}

/// What the load left: the provisioning's result, the load's, and — when both succeeded without a
/// signal — each workload's outcome as the tasks' results make it.
struct Loaded {
    provisioned: anyhow::Result<super::Provisioned>,
    loaded: anyhow::Result<Vec<load::LoadOutcome>>,
    client: Option<Vec<AwsOutcome>>,
}

/// The CloudWatch side of a run: how long to wait for the load's last minute, each workload's
/// window, and the window over all of them.
struct MetricsWindows {
    bound: std::time::Duration,
    windows: Vec<Window>,
    window: Option<Window>,
}

/// What the three side-by-side steps returned, each with its phase (`None` when it did not run or a
/// signal cut it short).
type SideBySide<T> = (
    Option<(super::TeardownReport, crate::results::Phase)>,
    Option<(
        Result<super::collect::Metrics, String>,
        crate::results::Phase,
    )>,
    Option<(T, crate::results::Phase)>,
);

/// Run the AWS target. Everything created is deleted before this returns, also on error; on a
/// signal, one delete call goes to each resource and the rest is left to `cleanup`.
///
/// As soon as the tasks' results are home, three things run side by side: the teardown (the
/// cache's deletion, which takes minutes, first among them), the wait for CloudWatch to publish
/// the load's last minute, and `first_report` — given the outcome as the results make it and the
/// timeline so far — whose result is handed back beside the final outcome.
pub async fn run<F, Fut, T>(
    r: &AwsRun<'_>,
    cancel: &CancellationToken,
    tl: &mut Timeline,
    first_report: F,
) -> anyhow::Result<(Vec<AwsOutcome>, Option<T>)>
where
    F: FnOnce(Vec<AwsOutcome>, Vec<crate::results::Phase>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (run_id, out_dir) = (r.run_id, r.out_dir);
    let mut prep = plan_and_preflight(r, tl).await?;
    tl.phase("provision");
    let Loaded {
        provisioned,
        loaded,
        client,
    } = provision_and_load(&prep, r.timeouts, cancel, tl).await;
    drop(prep.auth.take());
    let m = metrics_windows(r.config, &loaded);
    // The three run side by side, each its own phase.
    tl.end();
    let so_far = tl.snapshot();
    let collect = match (&provisioned, m.window, &client) {
        (Ok(prov), Some(w), Some(_)) => Some((prov, w, m.bound)),
        _ => None,
    };
    let (rep, metrics, first) = side_by_side(
        &prep,
        r,
        collect,
        client.clone(),
        so_far,
        cancel,
        first_report,
    )
    .await?;
    let Some((rep, teardown_phase)) = rep.filter(|_| !cancel.is_cancelled()) else {
        // A signal: one delete call per resource, then out (the post step or `cleanup` finishes).
        let vpc = Some(prep.p.network.vpc_id.as_str());
        let entries = Ledger::read(&out_dir.join(LEDGER_FILE))?;
        let fired = abort::fire(&prep.c, &prep.ledger, &entries, vpc).await;
        return Ok((interrupted_outcomes(prep, loaded, &fired, run_id), None));
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
    let problems = leak_scan(&prep, r, &rep).await?;
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
    for out in &mut outs {
        add_teardown(out, &rep, &problems, &notes);
    }
    add_metrics(
        &mut outs,
        &m.windows,
        server.as_ref(),
        loadgen_metrics.as_ref(),
    );
    Ok((outs, first))
}

/// The plan and the pre-flight: the user's own cache read (when given), the run's plan and each
/// workload's, the budget check, the pre-flight checks, the ledger opened, and the AUTH token
/// chosen (the user's for their cache, a new one for a cache with TLS).
async fn plan_and_preflight<'a>(r: &AwsRun<'a>, tl: &mut Timeline) -> anyhow::Result<Prepared<'a>> {
    let (cfg, workloads, run_id, out_dir) = (r.config, r.workloads, r.run_id, r.out_dir);
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
    Ok(Prepared {
        c,
        p,
        plans,
        ledger,
        auth,
    })
}

/// Provision, then run every workload's load (unless provisioning failed or a signal came), and
/// make each workload's outcome from its tasks' results.
async fn provision_and_load(
    prep: &Prepared<'_>,
    t: &Timeouts,
    cancel: &CancellationToken,
    tl: &mut Timeline,
) -> Loaded {
    let (c, p, plans, ledger, auth) = (&prep.c, &prep.p, &prep.plans, &prep.ledger, &prep.auth);
    let provisioned = tokio::select! {
        r = provision(c, p, ledger, auth.as_ref(), t) => r,
        () = cancel.cancelled() => Err(anyhow::anyhow!("interrupted by a signal while provisioning")),
    };
    let loaded = match &provisioned {
        Ok(_) if cancel.is_cancelled() => Err(anyhow::anyhow!("not started: interrupted")),
        Ok(prov) => {
            let site = load::LoadSite {
                clients: c,
                provisioned: prov,
                ledger,
                timeouts: t,
            };
            load_all(site, plans, auth.as_ref(), cancel, tl).await
        }
        Err(_) => Err(anyhow::anyhow!("not started: provisioning failed")),
    };
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
    Loaded {
        provisioned,
        loaded,
        client,
    }
}

/// The windows CloudWatch's metrics are read for (each workload's, and the whole load's), and how
/// long to wait for the last minute.
fn metrics_windows(
    cfg: &Config,
    loaded: &anyhow::Result<Vec<load::LoadOutcome>>,
) -> MetricsWindows {
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
    MetricsWindows {
        bound,
        windows,
        window,
    }
}

/// The side-by-side phase: the teardown (skipped on a signal), the wait for and read of
/// CloudWatch's metrics (when the load produced an outcome), and the first report (given the
/// client outcomes and the timeline so far). A signal ends all three.
async fn side_by_side<F, Fut, T>(
    prep: &Prepared<'_>,
    r: &AwsRun<'_>,
    collect: Option<(&super::Provisioned, Window, std::time::Duration)>,
    client: Option<Vec<AwsOutcome>>,
    so_far: Vec<crate::results::Phase>,
    cancel: &CancellationToken,
    first_report: F,
) -> anyhow::Result<SideBySide<T>>
where
    F: FnOnce(Vec<AwsOutcome>, Vec<crate::results::Phase>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (c, p, ledger, t) = (&prep.c, &prep.p, &prep.ledger, r.timeouts);
    let resources = replay(&Ledger::read(&r.out_dir.join(LEDGER_FILE))?);
    let vpc = Some(p.network.vpc_id.as_str());
    let tear = async {
        if cancel.is_cancelled() {
            return None;
        }
        let span = Span::start("teardown");
        let rep = teardown(c, ledger, &resources, vpc, t).await;
        Some((rep, span.to_phase()))
    };
    let metrics = async {
        let (prov, w, bound) = collect?;
        let span = Span::start("collect");
        let m = collect_metrics(c, p, &prov.member_clusters, w, bound, t, cancel).await;
        Some((m, span.to_phase()))
    };
    let report = async {
        let o = client?;
        let span = Span::start("first report");
        let r = first_report(o, so_far).await;
        Some((r, span.to_phase()))
    };
    Ok(tokio::select! {
        r = async { tokio::join!(tear, metrics, report) } => r,
        () = cancel.cancelled() => (None, None, None),
    })
}

/// The leak scan after the teardown: the teardown's errors, and whatever of the run is still there.
async fn leak_scan(
    prep: &Prepared<'_>,
    r: &AwsRun<'_>,
    rep: &super::TeardownReport,
) -> anyhow::Result<Vec<String>> {
    let (c, p, run_id) = (&prep.c, &prep.p, r.run_id);
    let after = replay(&Ledger::read(&r.out_dir.join(LEDGER_FILE))?);
    let mut problems: Vec<String> = rep.errors.clone();
    // A scan that fails (its call still failing after the SDK's retries) is one more problem, not
    // the run's error: returning it would hide why provisioning or the load failed, and would drop
    // the results of a load that succeeded.
    match leaks::leak_scan(c, run_id, &after, Some(&p.network.vpc_id))
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
    Ok(problems)
}

/// The outcomes of a run a signal cut short. Outside a matrix, the run's, interrupted. In a
/// matrix, each workload that ran before the signal as its tasks' results make it, and the one it
/// interrupted, interrupted (the workloads after it never ran); when no workload ran, the run's
/// alone, interrupted.
fn interrupted_outcomes(
    prep: Prepared<'_>,
    loaded: anyhow::Result<Vec<load::LoadOutcome>>,
    fired: &abort::Fired,
    run_id: &str,
) -> Vec<AwsOutcome> {
    let mut os = loaded.unwrap_or_default();
    let last = os.pop();
    let cut_short = prep.plans.get(os.len()).filter(|_| prep.plans.len() > 1);
    let (Some((name, wp)), Some(last)) = (cut_short, last.as_ref()) else {
        return vec![interrupted_outcome(prep.p, last, fired, run_id)];
    };
    let mut outs: Vec<AwsOutcome> = prep
        .plans
        .iter()
        .zip(&os)
        .map(|((name, wp), o)| client_outcome(*name, wp, o))
        .collect();
    let mut cut = interrupted_outcome(wp.clone(), Some(last.clone()), fired, run_id);
    cut.workload = name.map(str::to_string);
    outs.push(cut);
    outs
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
async fn load_all(
    site: load::LoadSite<'_>,
    plans: &[(Option<&str>, RunPlan)],
    auth: Option<&crate::config::Secret>,
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
        let o = match load::run_workload(site, wp, auth, cancel, w).await {
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
