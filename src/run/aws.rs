//! `run --target aws`: the AWS lifecycle (src/aws/run.rs), then the same merge and reports as the
//! local target, the raw task outputs, and the export of the output folder to S3. The reports come
//! twice: first as soon as the tasks' results are home (beside the teardown), then updated with
//! the server metrics and the teardown's outcome.

use std::path::Path;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::settings::Settings;
use super::timeline::Timeline;
use crate::aws::run::AwsOutcome;
use crate::config::Config;
use crate::gate::Comparison;
use crate::github::Published;
use crate::outcome::Outcome;
use crate::results::{self, BuildOptions, Phase, RunDetails, RunResult, RunStatus};

fn write_raw(out_dir: &Path, raw: &[(String, crate::aws::run::RawFiles)]) -> anyhow::Result<()> {
    for (task, files) in raw {
        let dir = out_dir.join("raw").join(task);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating '{}'", dir.display()))?;
        for (name, content) in files {
            // Names come from the task's own output: keep only plain file names.
            if name.contains('/') || name.starts_with('.') {
                continue;
            }
            let path = dir.join(name);
            std::fs::write(&path, content)
                .with_context(|| format!("writing '{}'", path.display()))?;
        }
    }
    Ok(())
}

/// The merged result of an AWS run's outcome, with the run's details, server metrics and notes.
fn merged(cfg: &Config, run_id: &str, aws: &AwsOutcome) -> RunResult {
    let p = &aws.plan;
    let mut result = results::build(
        &aws.judged,
        &BuildOptions {
            target: "aws".into(),
            run_id: Some(run_id.to_string()),
            window: cfg.window,
        },
    );
    result.run.details = RunDetails {
        engine: Some(p.cache.engine.clone()),
        engine_version: Some(
            p.cache
                .engine_version
                .clone()
                .unwrap_or_else(|| "service default".into()),
        ),
        region: Some(p.region.clone()),
        node_type: Some(p.cache.node_type.clone()),
        cache_parameters: p.cache.parameters_profile.clone(),
        num_shards: Some(p.cache.num_shards),
        replicas_per_shard: Some(p.cache.replicas_per_shard),
        transit_encryption: Some(p.cache.transit_encryption),
        load_generator: Some("memtier_benchmark".into()),
        loadgen_image: Some(p.tasks.image.clone()),
        loadgen_cpu: Some(p.tasks.cpu),
        loadgen_memory_mib: Some(p.tasks.memory_mib),
        command: Some(p.tasks.script.timed_display.clone()),
        test_duration_secs: Some(cfg.duration.as_secs_f64()),
        prefill: Some(p.tasks.prefill),
        cost_estimate_usd: Some(p.cost.total_usd),
        s3_export: Some(format!("s3://{}/{}", p.export.bucket, p.export.prefix)),
        ..RunDetails::default()
    };
    result.server.clone_from(&aws.server);
    if let Some(h) = super::hint::bottleneck_hint(aws.server.as_ref(), aws.loadgen_metrics.as_ref())
    {
        result.run.details.bottleneck_hint = Some(h.clone());
        result.notes.push(format!("bottleneck hint: {h}"));
    }
    if let Some(f) = &aws.failure {
        result.status = RunStatus::Failed;
        result.notes.insert(0, format!("run failed: {f}"));
    }
    if aws.interrupted {
        result.notes.insert(
            0,
            "interrupted by a signal: results cover the part that ran".into(),
        );
    }
    result
}

/// Write a result and the raw task outputs, the logs and the CSVs into the output folder.
fn write_local(
    result: &mut RunResult,
    out_dir: &Path,
    aws: &AwsOutcome,
    timeline: Vec<Phase>,
) -> anyhow::Result<()> {
    write_raw(out_dir, &aws.raw)?;
    let cluster = &aws.plan.names.replication_group;
    crate::files::write_all(result, out_dir, cluster, &aws.log, timeline)?;
    if let Some(lg) = &aws.loadgen_metrics {
        let path = out_dir.join("metrics").join(format!("{cluster}-ecs.csv"));
        std::fs::create_dir_all(out_dir.join("metrics"))
            .and_then(|()| std::fs::write(&path, crate::aws::metrics::node_csv(lg)))
            .with_context(|| format!("writing '{}'", path.display()))?;
    }
    Ok(())
}

/// The outcome an AWS run's result says, before the gate.
fn outcome_of(aws: &AwsOutcome, result: &RunResult) -> Outcome {
    if aws.interrupted {
        Outcome::Interrupted
    } else if aws.failure.is_some() || result.status == RunStatus::Failed {
        Outcome::RunFailed
    } else {
        Outcome::Ok
    }
}

/// What the first report decided (each workload's comparison and outcome) and published.
struct First {
    gated: Vec<(Option<Comparison>, Outcome)>,
    published: Published,
}

/// The run's settings, as the reports need them.
struct Ctx<'a> {
    s: &'a Settings,
    run_id: &'a str,
    out_dir: &'a Path,
}

impl Ctx<'_> {
    /// A workload's configuration and folder (the run's own outside a matrix).
    fn of(&self, aws: &AwsOutcome) -> (&Config, std::path::PathBuf) {
        let w = self
            .s
            .workloads
            .as_deref()
            .zip(aws.workload.as_deref())
            .and_then(|(ws, name)| ws.iter().find(|w| w.name == name));
        match w {
            Some(w) => (&w.config, self.out_dir.join(&w.name)),
            None => (&self.s.config, self.out_dir.to_path_buf()),
        }
    }

    /// Merge and write each workload's result into its folder.
    fn write(&self, outs: &[AwsOutcome], timeline: &[Phase]) -> anyhow::Result<Vec<RunResult>> {
        outs.iter()
            .map(|aws| {
                let (cfg, dir) = self.of(aws);
                let mut result = merged(cfg, self.run_id, aws);
                if let Some(w) = &aws.workload {
                    result.run.details.workload_name = Some(w.clone());
                }
                write_local(&mut result, &dir, aws, timeline.to_vec())?;
                Ok(result)
            })
            .collect()
    }

    /// In a matrix: write its own files (`matrix.json`, `summary.md`, `chart.png`) and return it,
    /// each workload's summary, and its outcome.
    fn matrix(
        &self,
        outs: &[AwsOutcome],
        results: &[RunResult],
        gated: &[(Option<Comparison>, Outcome)],
    ) -> anyhow::Result<Option<Written>> {
        let Some(ws) = self.s.workloads.as_deref() else {
            return Ok(None);
        };
        // A run a signal cut short before any workload started has no workload's outcome.
        let done: Vec<super::matrix::Done> = outs
            .iter()
            .zip(results)
            .zip(gated)
            .filter_map(|((aws, r), (c, o))| {
                Some(super::matrix::Done {
                    name: aws.workload.clone()?,
                    result: r.clone(),
                    comparison: c.clone(),
                    outcome: *o,
                })
            })
            .collect();
        let outcome = super::matrix::outcome_of(&done, ws.len(), false);
        let why_not = why_not_run(outs);
        let (m, summaries) =
            super::matrix::write_matrix(self.run_id, ws, &done, &why_not, self.out_dir)?;
        Ok(Some((m, summaries, outcome)))
    }

    /// In a matrix a signal cut short: write its own files, every workload ungated (the process has
    /// seconds left), and publish nothing. A failure to write is logged: the run ends interrupted.
    fn interrupted_matrix(&self, outs: &[AwsOutcome], results: &[RunResult]) {
        let ungated: Vec<_> = outs
            .iter()
            .zip(results)
            .map(|(aws, r)| (None, outcome_of(aws, r)))
            .collect();
        if let Err(e) = self.matrix(outs, results, &ungated) {
            tracing::error!("{e:#}");
        }
    }

    /// Publish one run's report, or the matrix's.
    async fn publish(
        &self,
        results: &[RunResult],
        gated: &[(Option<Comparison>, Outcome)],
        matrix: Option<Written>,
        exported: Option<&crate::github::Exported>,
        earlier: Option<&Published>,
    ) -> anyhow::Result<Published> {
        let Some((m, summaries, outcome)) = matrix else {
            let (comparison, outcome) = &gated[0];
            let report = crate::github::Report {
                result: &results[0],
                out_dir: self.out_dir,
                outcome: *outcome,
                gate: comparison.as_ref(),
                exported,
            };
            return crate::github::publish(&report, &self.s.github, earlier).await;
        };
        crate::github::publish_matrix(
            &crate::github::MatrixReport {
                matrix: &m,
                summaries,
                out_dir: self.out_dir,
                outcome,
                exported,
            },
            &self.s.github,
            earlier,
        )
        .await
    }
}

/// Why a matrix's workloads after the last that ran did not run: the matrix stops after a workload
/// interrupted by a signal, or one whose load was cut short (every task stalled) or whose image
/// could not be pulled — its failure says which.
fn why_not_run(outs: &[AwsOutcome]) -> String {
    match outs.last() {
        Some(o) if o.interrupted => "interrupted".to_string(),
        Some(o) => {
            let name = o.workload.as_deref().unwrap_or("?");
            match &o.failure {
                Some(f) => format!("workload '{name}' failed: {f}"),
                None => format!("the matrix ended after workload '{name}'"),
            }
        }
        None => "the matrix ended before it".to_string(),
    }
}

/// A matrix's written reports: the matrix, each workload's summary, and its outcome.
type Written = (
    crate::report::matrix::Matrix,
    Vec<(String, String)>,
    Outcome,
);

/// Report a run as soon as its tasks' results are home, while the teardown and CloudWatch's
/// publishing run: merge, write locally, gate, and publish (job summary, outputs, PR comment).
async fn first_report(
    ctx: &Ctx<'_>,
    outs: Vec<AwsOutcome>,
    timeline: Vec<Phase>,
) -> anyhow::Result<First> {
    let results = ctx.write(&outs, &timeline)?;
    let mut gated = Vec::with_capacity(outs.len());
    for (aws, result) in outs.iter().zip(&results) {
        let (_, dir) = ctx.of(aws);
        gated.push(super::gate::gate(result, &dir, &ctx.s.gate, outcome_of(aws, result)).await?);
    }
    let matrix = ctx.matrix(&outs, &results, &gated)?;
    let published = ctx.publish(&results, &gated, matrix, None, None).await?;
    tracing::info!("first report published; the teardown and CloudWatch's last minute follow");
    Ok(First { gated, published })
}

/// Run on AWS: report the client results as soon as they are home, then — with the server metrics
/// and the teardown's outcome — write the final files, export them, and update the report. With a
/// matrix, every workload runs on the one cache, in its own folder.
pub(super) async fn run(
    s: &Settings,
    run_id: &str,
    out_dir: &Path,
    cancel: &CancellationToken,
    mut tl: Timeline,
) -> anyhow::Result<(Vec<RunResult>, Outcome)> {
    let cfg = &s.config;
    let timeouts = cfg
        .aws
        .as_ref()
        .map_or_else(crate::aws::Timeouts::default, |a| {
            crate::aws::Timeouts::with_poll(a.poll)
        });
    let ctx = Ctx { s, run_id, out_dir };
    let ctx = &ctx;
    let list: Vec<crate::aws::run::AwsWorkload<'_>> = s
        .workloads
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|w| crate::aws::run::AwsWorkload {
            name: Some(&w.name),
            config: &w.config,
        })
        .collect();
    let r = crate::aws::run::AwsRun {
        config: cfg,
        workloads: &list,
        run_id,
        out_dir,
        timeouts: &timeouts,
    };
    let (outs, first) = crate::aws::run::run(&r, cancel, &mut tl, |o, phases| async move {
        first_report(ctx, o, phases).await
    })
    .await?;
    let first = match first {
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            tracing::warn!("the first report failed ({e:#}): reporting once, at the end");
            None
        }
        None => None,
    };
    tl.phase("export");
    let Some(p) = outs.first().map(|o| o.plan.clone()) else {
        return Err(anyhow::anyhow!("the AWS run ended without an outcome"));
    };
    let results = ctx.write(&outs, &tl.finish())?;
    if outs.iter().any(|o| o.interrupted) {
        // The process has seconds left: the files stay in the output folder (uploaded with the
        // job's artifacts, or by hand). A matrix's own files list every workload, ungated.
        ctx.interrupted_matrix(&outs, &results);
        tracing::warn!(
            "interrupted: not exporting to s3://{}/{}; everything is in '{}'",
            p.export.bucket,
            p.export.prefix,
            out_dir.display()
        );
        return Ok((results, Outcome::Interrupted));
    }
    let mut gated = gate_all(ctx, &outs, &results, first.as_ref()).await?;
    // The matrix's own files, before the export.
    let matrix = ctx.matrix(&outs, &results, &gated)?;
    let c = crate::aws::Clients::from_env(&p.region).await;
    let rep = crate::aws::export::upload_dir(&c, &p.export.bucket, &p.export.prefix, out_dir).await;
    tracing::info!(
        "exported {} files to s3://{}/{}",
        rep.uploaded.len(),
        p.export.bucket,
        p.export.prefix
    );
    if !rep.failed.is_empty() {
        for f in &rep.failed {
            tracing::error!(
                "export: {f} (the local copy in '{}' is kept)",
                out_dir.display()
            );
        }
        for g in &mut gated {
            if g.1 == Outcome::Ok {
                g.1 = Outcome::RunFailed;
            }
        }
    }
    let exported = exported(&p, &rep);
    let mut outcome = match &matrix {
        Some((_, _, o)) => *o,
        None => gated[0].1,
    };
    if !rep.failed.is_empty() && outcome == Outcome::Ok {
        outcome = Outcome::RunFailed;
    }
    ctx.publish(
        &results,
        &gated,
        matrix,
        exported.as_ref(),
        first.as_ref().map(|f| &f.published),
    )
    .await?;
    Ok((results, outcome))
}

/// Each workload's verdict: the first report's (the gate reads the client results only); a
/// workload that failed since (a teardown that left something) is failed, and one the first report
/// did not gate is gated now. Each chart gets its baseline again; each good result is recorded.
async fn gate_all(
    ctx: &Ctx<'_>,
    outs: &[AwsOutcome],
    results: &[RunResult],
    first: Option<&First>,
) -> anyhow::Result<Vec<(Option<Comparison>, Outcome)>> {
    let s = ctx.s;
    // The verdicts are the first report's (the gate reads the client results only); a workload
    // that failed since (a teardown that left something) is failed.
    let mut gated = Vec::with_capacity(outs.len());
    for (k, (aws, result)) in outs.iter().zip(results).enumerate() {
        let (_, dir) = ctx.of(aws);
        let base = outcome_of(aws, result);
        let g = match (first.and_then(|f| f.gated.get(k)), base) {
            (Some(g), Outcome::Ok) => g.clone(),
            (None, _) => super::gate::gate(result, &dir, &s.gate, base).await?,
            (Some(_), _) => (None, base),
        };
        if let Some(c) = &g.0 {
            // The reports were written again: the baseline goes over the new chart.
            super::gate::redraw(result, &dir, c);
        }
        if base == Outcome::Ok {
            super::gate::record(result, &s.gate.loc).await;
        }
        gated.push(g);
    }
    Ok(gated)
}

/// What the export wrote, for the outputs and the comment (`None` when nothing was written).
fn exported(
    p: &crate::plan::RunPlan,
    rep: &crate::aws::export::ExportReport,
) -> Option<crate::github::Exported> {
    // The `s3_prefix` output and the comment's links name what was written, when anything was.
    (!rep.uploaded.is_empty()).then(|| crate::github::Exported {
        bucket: p.export.bucket.clone(),
        prefix: p.export.prefix.clone(),
        region: p.region.clone(),
        chart: rep
            .uploaded
            .iter()
            .any(|u| *u == format!("s3://{}/{}chart.png", p.export.bucket, p.export.prefix)),
    })
}
