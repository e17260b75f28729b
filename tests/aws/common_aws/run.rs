//! Whole runs for the AWS tests: `run --target aws` of the binary against moto's default VPC and
//! a fresh export bucket, with Fargate emulated, and the cluster, log group and task definition of
//! a plan made directly for the tests of the load alone.

use std::path::PathBuf;
use std::time::Duration;

use elasticache_perf::aws::{ecs, logs, Clients, Provisioned};
use elasticache_perf::plan::RunPlan;
use tokio_util::sync::CancellationToken;

use super::fargate::{fargate_with, hold_tasks_until_stopped, Mode};
use super::{bucket, default_vpc, Moto};

/// What a run of the binary left.
pub struct AwsRun {
    /// Its exit code.
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr (logs at info).
    pub stderr: String,
    /// Its output folder (inside `work`).
    pub out_dir: PathBuf,
    /// results.json, when it was written.
    pub results: Option<serde_json::Value>,
    /// The VPC it ran in.
    pub vpc: String,
    /// The environment of each task the emulator ran, in the order it saw them.
    pub envs: Vec<std::collections::BTreeMap<String, String>>,
    /// Holds the output folder and the emulator's files.
    pub work: tempfile::TempDir,
}

/// `run --target aws --run-id {run_id}` with two timed tasks of 8 s (valkey, export bucket
/// `{run_id}-exports`, polling every 0.2 s) and `extra` flags, Fargate emulated in `mode`.
pub async fn run_aws(moto: &Moto, run_id: &str, mode: Mode, extra: &[&str]) -> AwsRun {
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    let bucket_name = format!("{run_id}-exports");
    bucket(&c, &bucket_name).await;
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("out");
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate_with(
        c.clone(),
        run_id.to_string(),
        work.path().join("fargate"),
        stop.clone(),
        mode,
    ));
    let mut args: Vec<String> = [
        "run",
        "--target",
        "aws",
        "--run-id",
        run_id,
        "--vpc-id",
        &vpc,
        "--subnet-ids",
        &subnets.join(","),
        "--metrics-export-s3-bucket",
        &bucket_name,
        "--test-duration-seconds",
        "8",
        "--loadgen-task-count",
        "2",
        "--aws-poll-seconds",
        "0.2",
        "--engine-type",
        "valkey",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    args.extend(extra.iter().map(ToString::to_string));
    let env = moto.env();
    let out_arg = out_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("elasticache-perf")
            .unwrap()
            .args(&args)
            .arg("--out")
            .arg(&out_arg)
            .envs(env)
            .env("ELASTICACHE_PERF_LOG", "info")
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    stop.cancel();
    let envs = emulator.await.unwrap();
    let results = std::fs::read_to_string(out_dir.join("results.json"))
        .ok()
        .map(|s| serde_json::from_str(&s).unwrap());
    AwsRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        out_dir,
        results,
        vpc,
        envs,
        work,
    }
}

/// The cluster, log group and task definition of `p`, made directly (no cache, no roles), for
/// tests of the load alone.
pub async fn task_side(c: &Clients, p: &RunPlan) -> Provisioned {
    let n = &p.names;
    logs::create_log_group(&c.logs, &n.log_group, &p.tags, 1)
        .await
        .unwrap();
    ecs::create_cluster(&c.ecs, &n.ecs_cluster, &p.tags)
        .await
        .unwrap();
    let td = ecs::register_task_definition(&c.ecs, p, "arn:aws:iam::123456789012:role/x")
        .await
        .unwrap();
    Provisioned {
        cache_security_groups: vec![],
        task_security_groups: vec![],
        execution_role_arn: "arn:aws:iam::123456789012:role/x".into(),
        task_definition_arn: td,
        endpoint: "cache.example".into(),
        member_clusters: vec![],
    }
}
