//! One AWS run from plan to leak scan: plan and budget check, pre-flight, provision, load, then —
//! on success, error or signal — teardown from the ledger and the leak scan, which fails the run if
//! anything of it remains. Returns what the merge and the reports need.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{
    abort, existing, leaks, load, preflight, provision, teardown, token, Clients, Timeouts,
};
use crate::client::JudgedClient;
use crate::config::Config;
use crate::plan::{self, PlanContext, RunPlan};
use crate::run::ledger::{replay, Ledger, LEDGER_FILE};
use crate::run::timeline::Timeline;
use crate::InputError;

/// One task's raw output files: (file name, content).
pub type RawFiles = Vec<(String, Vec<u8>)>;

/// What an AWS run produced, before the merge and the reports.
#[derive(Debug)]
pub struct AwsOutcome {
    /// The plan that was carried out.
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

/// Both sets of metrics.
type Metrics = (
    crate::results::server::ServerMetrics,
    crate::results::server::NodeMetrics,
);

/// Read the cache's CloudWatch metrics from `start_s` until now, after waiting `wait` for the last
/// minute to be published. A failure is a note, not a failed run.
async fn collect_metrics(
    c: &Clients,
    p: &RunPlan,
    members: &[String],
    start_s: i64,
    wait: std::time::Duration,
    cancel: &CancellationToken,
) -> Result<Metrics, String> {
    if !wait.is_zero() {
        tracing::info!(
            "waiting {} s for CloudWatch to publish the last minute",
            wait.as_secs()
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => {}
        }
    }
    if cancel.is_cancelled() {
        return Err("interrupted before CloudWatch was read".into());
    }
    let end = i64::try_from(crate::run::timeline::now_ms() / 1000).unwrap_or(i64::MAX) + 60;
    let cache = super::metrics::cache_queries(members);
    let ecs = super::metrics::ecs_queries(&p.names.ecs_cluster, &p.names.task_family);
    let all: Vec<super::metrics::Query> = cache.iter().chain(&ecs).cloned().collect();
    let (values, calls) = super::metrics::get_metric_data(&c.cloudwatch, &all, start_s, end)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        "read {} metric queries in {calls} GetMetricData call(s)",
        all.len()
    );
    Ok((
        super::metrics::to_server_metrics(&cache, &values),
        super::metrics::to_loadgen_metrics(&ecs, &values),
    ))
}

/// Where the CloudWatch window starts (Unix seconds) for timed tasks started at `timed_start`.
/// CloudWatch rounds a start time down to its minute, so after a prefill the window starts at the
/// next whole minute: the prefill's write burst would otherwise count as the timed load (and could
/// produce the bottleneck hint). Without a prefill, the minute before is idle and included.
pub fn metrics_window_start(timed_start: i64, after_prefill: bool) -> i64 {
    if after_prefill {
        timed_start.div_euclid(60) * 60 + if timed_start % 60 == 0 { 0 } else { 60 }
    } else {
        timed_start - 60
    }
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

/// Run the AWS target. Everything created is deleted before this returns, also on error; on a
/// signal, one delete call goes to each resource and the rest is left to `cleanup`.
pub async fn run(
    cfg: &Config,
    run_id: &str,
    out_dir: &Path,
    cancel: &CancellationToken,
    tl: &mut Timeline,
    t: &Timeouts,
) -> anyhow::Result<AwsOutcome> {
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
    let p = plan::plan(
        cfg,
        &PlanContext {
            run_id,
            now_unix_ms: crate::run::timeline::now_ms(),
            repository: repository.as_deref(),
            existing: found.as_ref(),
        },
    )
    .map_err(|e| InputError::new(e.to_string()))?;
    plan::check_budget(&p).map_err(InputError::new)?;
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
        Ok(prov) => {
            tl.phase("load");
            load::run_load(&c, &p, prov, &ledger, auth.as_ref(), t, cancel).await
        }
        Err(_) => Err(anyhow::anyhow!("not started: provisioning failed")),
    };
    drop(auth);
    let mut server = None;
    let mut loadgen_metrics = None;
    let mut notes = Vec::new();
    let with_results = loaded.as_ref().is_ok_and(|o| {
        o.judged
            .iter()
            .any(|j| j.status != crate::client::TaskStatus::Failed)
    });
    if let (Ok(prov), Ok(o), false) = (&provisioned, &loaded, cancel.is_cancelled()) {
        tl.phase("collect");
        // Nothing to wait for when no task produced results (they never ran, or all failed).
        let wait = if with_results {
            cfg.aws
                .as_ref()
                .map_or(std::time::Duration::ZERO, |a| a.metrics_wait)
        } else {
            std::time::Duration::ZERO
        };
        let timed_start = o
            .timed_started_s
            .unwrap_or_else(|| i64::try_from(crate::run::timeline::now_ms() / 1000).unwrap_or(0));
        let start_s = metrics_window_start(timed_start, o.prefill.is_some());
        match collect_metrics(&c, &p, &prov.member_clusters, start_s, wait, cancel).await {
            Ok((m, l)) => {
                server = Some(m);
                loadgen_metrics = Some(l);
            }
            Err(e) => notes.push(format!("no CloudWatch metrics: {e}")),
        }
    }

    tl.phase("teardown");
    let entries = Ledger::read(&out_dir.join(LEDGER_FILE))?;
    let vpc = Some(p.network.vpc_id.as_str());
    let resources = replay(&entries);
    let rep = if cancel.is_cancelled() {
        None
    } else {
        tokio::select! {
            rep = teardown(&c, &ledger, &resources, vpc, t) => Some(rep),
            () = cancel.cancelled() => None,
        }
    };
    let Some(rep) = rep else {
        // A signal: one delete call per resource, then out (the post step or `cleanup` finishes).
        let entries = Ledger::read(&out_dir.join(LEDGER_FILE))?;
        let fired = abort::fire(&c, &ledger, &entries, vpc).await;
        return Ok(interrupted_outcome(p, loaded.ok(), &fired, run_id));
    };
    tl.phase("leak scan");
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

    if let Err(e) = provisioned {
        if problems.is_empty() {
            return Err(e);
        }
        return Err(e.context(format!("teardown incomplete: {}", problems.join("; "))));
    }
    let outcome = match loaded {
        Ok(o) => o,
        Err(e) => {
            let e = e.context("running the load");
            if problems.is_empty() {
                return Err(e);
            }
            return Err(e.context(format!("teardown incomplete: {}", problems.join("; "))));
        }
    };
    let mut log = String::new();
    if let Some(pre) = &outcome.prefill {
        task_log(&mut log, "prefill", pre);
    }
    for tr in &outcome.tasks {
        task_log(&mut log, "timed", tr);
    }
    {
        use std::fmt::Write as _;
        let _ = writeln!(log, "== teardown: {} deleted", rep.deleted.len());
        for d in &rep.deleted {
            let _ = writeln!(log, "   deleted {d}");
        }
        for e in &problems {
            let _ = writeln!(log, "   ERROR {e}");
        }
    }
    let mut failure =
        (!problems.is_empty()).then(|| format!("teardown incomplete: {}", problems.join("; ")));
    if let Some(pull) = pull_failure(&outcome, &p.tasks.image) {
        tracing::error!("{pull}");
        failure = Some(match failure {
            Some(f) => format!("{pull}; {f}"),
            None => pull,
        });
    }
    if let Some(pre) = &outcome.prefill {
        if pre.shipped.exit_code != Some(0) && failure.is_none() {
            failure = Some(format!(
                "the prefill task {} exited with {:?}",
                pre.id, pre.shipped.exit_code
            ));
        }
    }
    let raw = outcome
        .prefill
        .iter()
        .map(|t| (format!("prefill-{}", t.id), t.shipped.files.clone()))
        .chain(
            outcome
                .tasks
                .iter()
                .map(|t| (t.id.clone(), t.shipped.files.clone())),
        )
        .collect();
    for n in &notes {
        use std::fmt::Write as _;
        let _ = writeln!(log, "== note: {n}");
    }
    Ok(AwsOutcome {
        plan: p,
        judged: outcome.judged,
        failure,
        interrupted: outcome.interrupted,
        log,
        raw,
        server,
        loadgen_metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_prefill_the_window_starts_at_the_next_whole_minute() {
        // 12:00:30 → 12:01:00 after a prefill; the minute before without one.
        let t = 1_795_723_230;
        assert_eq!(metrics_window_start(t, true), 1_795_723_260);
        assert_eq!(metrics_window_start(t, false), t - 60);
        assert_eq!(metrics_window_start(1_795_723_200, true), 1_795_723_200);
    }
}
