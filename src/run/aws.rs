//! `run --target aws`: the AWS lifecycle (src/aws/run.rs), then the same merge and reports as the
//! local target, the raw task outputs, and the export of the output folder to S3.

use std::path::Path;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{output, timeline::Timeline};
use crate::config::Config;
use crate::results::{self, BuildOptions, RunResult};
use crate::Outcome;

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

/// Run on AWS, merge, write locally, export.
pub(super) async fn run(
    cfg: &Config,
    run_id: &str,
    out_dir: &Path,
    cancel: &CancellationToken,
    mut tl: Timeline,
    inputs: &crate::config::RunInputs,
) -> anyhow::Result<(RunResult, Outcome)> {
    let timeouts = cfg
        .aws
        .as_ref()
        .map_or_else(crate::aws::Timeouts::default, |a| {
            crate::aws::Timeouts::with_poll(a.poll)
        });
    let aws = crate::aws::run::run(cfg, run_id, out_dir, cancel, &mut tl, &timeouts).await?;
    tl.phase("merge");
    let p = &aws.plan;
    let mut result = results::build(
        &aws.judged,
        &BuildOptions {
            target: "aws".into(),
            run_id: Some(run_id.to_string()),
            window: cfg.window,
        },
    );
    let d = &mut result.run.details;
    d.insert("engine".into(), p.cache.engine.clone().into());
    d.insert(
        "engine_version".into(),
        p.cache
            .engine_version
            .clone()
            .unwrap_or_else(|| "service default".into())
            .into(),
    );
    d.insert("region".into(), p.region.clone().into());
    d.insert("node_type".into(), p.cache.node_type.clone().into());
    if let Some(params) = &p.cache.parameters_profile {
        d.insert("cache_parameters".into(), params.clone().into());
    }
    d.insert("num_shards".into(), p.cache.num_shards.into());
    d.insert(
        "replicas_per_shard".into(),
        p.cache.replicas_per_shard.into(),
    );
    d.insert(
        "transit_encryption".into(),
        p.cache.transit_encryption.into(),
    );
    d.insert("load_generator".into(), "memtier_benchmark".into());
    d.insert("loadgen_image".into(), p.tasks.image.clone().into());
    d.insert("loadgen_cpu".into(), p.tasks.cpu.into());
    d.insert("loadgen_memory_mib".into(), p.tasks.memory_mib.into());
    d.insert(
        "command".into(),
        p.tasks.script.timed_display.clone().into(),
    );
    d.insert(
        "test_duration_secs".into(),
        cfg.duration.as_secs_f64().into(),
    );
    d.insert("prefill".into(), p.tasks.prefill.into());
    d.insert("cost_estimate_usd".into(), p.cost.total_usd.into());
    d.insert(
        "s3_export".into(),
        format!("s3://{}/{}", p.export.bucket, p.export.prefix).into(),
    );
    result.server = aws.server.clone();
    if let Some(h) = super::hint::bottleneck_hint(aws.server.as_ref(), aws.loadgen_metrics.as_ref())
    {
        result
            .run
            .details
            .insert("bottleneck_hint".into(), h.clone().into());
        result.notes.push(format!("bottleneck hint: {h}"));
    }
    if let Some(f) = &aws.failure {
        result.status = "failed".into();
        result.notes.insert(0, format!("run failed: {f}"));
    }
    if aws.interrupted {
        result.notes.insert(
            0,
            "interrupted by a signal: results cover the part that ran".into(),
        );
    }
    tl.phase("export");
    write_raw(out_dir, &aws.raw)?;
    let cluster = p.names.replication_group.clone();
    output::write_all(&mut result, out_dir, &cluster, &aws.log, tl)?;
    if let Some(lg) = &aws.loadgen_metrics {
        let path = out_dir.join("metrics").join(format!("{cluster}-ecs.csv"));
        std::fs::create_dir_all(out_dir.join("metrics"))
            .and_then(|()| std::fs::write(&path, crate::aws::metrics::node_csv(lg)))
            .with_context(|| format!("writing '{}'", path.display()))?;
    }
    if aws.interrupted {
        // The process has seconds left: the files stay in the output folder (uploaded with the
        // job's artifacts, or by hand).
        tracing::warn!(
            "interrupted: not exporting to s3://{}/{}; everything is in '{}'",
            p.export.bucket,
            p.export.prefix,
            out_dir.display()
        );
        return Ok((result, Outcome::Interrupted));
    }
    let outcome = if aws.failure.is_some() || result.status == "failed" {
        Outcome::RunFailed
    } else {
        Outcome::Ok
    };
    let (comparison, mut outcome) =
        super::gate::gate_and_record(&result, out_dir, inputs, outcome).await?;
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
        if outcome == Outcome::Ok {
            outcome = Outcome::RunFailed;
        }
    }
    // The `s3_prefix` output and the comment's links name what was written, when anything was.
    let exported = (!rep.uploaded.is_empty()).then(|| crate::github::Exported {
        bucket: p.export.bucket.clone(),
        prefix: p.export.prefix.clone(),
        region: p.region.clone(),
        chart: rep
            .uploaded
            .iter()
            .any(|u| *u == format!("s3://{}/{}chart.png", p.export.bucket, p.export.prefix)),
    });
    crate::github::publish_exported(
        &result,
        out_dir,
        &inputs.github,
        outcome,
        comparison.as_ref(),
        exported.as_ref(),
    )
    .await?;
    Ok((result, outcome))
}
