//! The AWS behaviours moto hides, each reproduced by the project's double behind a switch
//! (tests/support/moto_server.py; the Fargate emulator for image pulls) and each handled by the
//! tool: one test per behaviour (each fails without its handling), then whole runs with every
//! switch on, which must give the same results as without them and leave nothing behind.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use crate::common_aws;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common_aws::fargate::{fargate, fargate_with, hold_tasks_until_stopped, Mode};
use common_aws::inventory::inventory;
use common_aws::plan::{fast, plan_for};
use common_aws::run::{run_aws, task_side};
use common_aws::Moto;
use elasticache_perf::aws::ledger::{replay, Ledger, ResourceKind};
use elasticache_perf::aws::{self, ecs, leaks, load, logs, tasks, Clients, Provisioned};
use elasticache_perf::client::TaskStatus;
use elasticache_perf::plan::RunPlan;
use tokio_util::sync::CancellationToken;

/// Teardown from the ledger, then nothing of the run may be left: by the leak scan, and by type,
/// name and tag (log groups included).
async fn teardown_and_check(c: &Clients, p: &RunPlan, dir: &Path, ledger: &Mutex<Ledger>) {
    let resources = replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap());
    let rep = aws::teardown(c, ledger, &resources, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "teardown errors: {:?}", rep.errors);
    let again = replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap());
    let left = leaks::leak_scan(c, &p.run_id, &again, Some(&p.network.vpc_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "the leak scan found: {left:?}");
    let left = inventory(c, &p.run_id, &p.network.vpc_id).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Provision `p` against `moto`'s switches; returns what was made and the ledger.
async fn provision(c: &Clients, p: &RunPlan, dir: &Path) -> (Provisioned, Mutex<Ledger>) {
    let ledger = Mutex::new(Ledger::open(dir, &p.run_id, "us-east-1").unwrap());
    aws::preflight(&mut c.clone(), p).await.unwrap();
    let got = aws::provision(c, p, &ledger, None, &fast()).await;
    let got = match got {
        Ok(g) => g,
        Err(e) => panic!("provisioning failed: {e:#}"),
    };
    (got, ledger)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_security_group_is_retried_until_ec2_shows_it() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_EC2_LAG_SECONDS", "2")]);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-st-ec2", &["--transit-encryption", "false"]).await;
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (got, ledger) = provision(&c, &p, dir.path()).await;
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "no lag was waited out"
    );
    let g = c
        .ec2
        .describe_security_groups()
        .group_ids(&got.cache_security_groups[0])
        .send()
        .await
        .unwrap();
    let pairs = g.security_groups()[0].ip_permissions()[0].user_id_group_pairs();
    assert_eq!(
        pairs[0].group_id(),
        Some(got.task_security_groups[0].as_str())
    );
    teardown_and_check(&c, &p, dir.path(), &ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_role_is_retried_until_iam_has_propagated_it() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_IAM_LAG_SECONDS", "3")]);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-st-iam", &["--transit-encryption", "false"]).await;
    assert!(
        p.dead_mans_switch.is_some() && p.tasks.creates_execution_role,
        "both roles are new"
    );
    let dir = tempfile::tempdir().unwrap();
    let (got, ledger) = provision(&c, &p, dir.path()).await;
    assert!(got.task_definition_arn.contains(&p.names.task_family));
    assert!(
        aws::scheduler::schedule_exists(&c.scheduler, &p.names.expiry_schedule)
            .await
            .unwrap()
    );
    teardown_and_check(&c, &p, dir.path(), &ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_mode_gets_the_cluster_enabled_parameter_group() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_CLUSTER_MODE_STRICT", "1")]);
    let c = moto.clients().await;
    let p = plan_for(
        &c,
        "ecp-st-shards",
        &[
            "--num-shards",
            "2",
            "--engine-type",
            "valkey",
            "--engine-version",
            "8.0",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (_, ledger) = provision(&c, &p, dir.path()).await;
    let family = aws::elasticache::parameter_group_family(&c.elasticache, "valkey", Some("8.0"))
        .await
        .unwrap();
    assert_eq!(family, "valkey8");
    teardown_and_check(&c, &p, dir.path(), &ledger).await;
}

/// Run the load of `p` with Fargate emulated in `mode`; returns the outcome and the ledger's folder.
async fn load_with(
    moto: &Moto,
    c: &Clients,
    p: &RunPlan,
    mode: Mode,
    t: &aws::Timeouts,
) -> (load::LoadOutcome, tempfile::TempDir) {
    hold_tasks_until_stopped(&moto.endpoint);
    let prov = task_side(c, p).await;
    let dir = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate_with(
        c.clone(),
        p.names.ecs_cluster.clone(),
        dir.path().join("fargate"),
        stop.clone(),
        mode,
    ));
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    let out = load::run_load(c, p, &prov, &ledger, None, t, &CancellationToken::new()).await;
    stop.cancel();
    emulator.await.unwrap();
    (out.unwrap(), dir)
}

fn ledger_tasks(dir: &Path) -> usize {
    replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap())
        .iter()
        .filter(|r| r.kind == ResourceKind::EcsTask)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_fargate_had_no_capacity_for_are_started_again() {
    // The first two RunTask calls start half their tasks: 1 of 3, then 1 of 2, then the last.
    let moto = Moto::start_with(false, &[("ECP_MOTO_CAPACITY_FAILURES", "2")]);
    let c = moto.clients().await;
    let p = plan_for(
        &c,
        "ecp-st-cap",
        &["--loadgen-task-count", "3", "--transit-encryption", "false"],
    )
    .await;
    let (out, dir) = load_with(&moto, &c, &p, Mode::Run, &fast()).await;
    assert_eq!(out.tasks.len(), 3, "{:?}", out.tasks);
    assert!(
        out.judged.iter().all(|j| j.status == TaskStatus::Ok),
        "{:?}",
        out.judged
    );
    assert_eq!(ledger_tasks(dir.path()), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_that_never_comes_ends_within_the_budget_and_says_so() {
    let moto = Moto::start_with(false, &[("ECP_MOTO_CAPACITY_FAILURES", "1000")]);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-st-nocap", &["--transit-encryption", "false"]).await;
    let mut t = fast();
    t.retry.capacity = t.retry.capacity.with_budget(Duration::from_secs(2));
    hold_tasks_until_stopped(&moto.endpoint);
    let prov = task_side(&c, &p).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    let start = Instant::now();
    let err = load::run_load(&c, &p, &prov, &ledger, None, &t, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    let msg = format!("{err:#}");
    assert!(
        msg.contains("Capacity is unavailable") && msg.contains("within the 2 s budget"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_log_tails_are_read_to_their_end() {
    let moto = Moto::start_with(false, &[("ECP_MOTO_LOG_LAG_SECONDS", "3")]);
    let c = moto.clients().await;
    let p = plan_for(
        &c,
        "ecp-st-tail",
        &["--loadgen-task-count", "2", "--transit-encryption", "false"],
    )
    .await;
    let (out, _dir) = load_with(&moto, &c, &p, Mode::Run, &fast()).await;
    assert_eq!(out.tasks.len(), 2);
    for (t, j) in out.tasks.iter().zip(&out.judged) {
        assert!(t.shipped.complete, "{:?}", t.shipped.problems);
        assert_eq!(j.status, TaskStatus::Ok, "{:?}", j.reasons);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_slow_to_stop_costs_the_others_nothing() {
    let moto = Moto::start_with(false, &[("ECP_MOTO_SLOW_STOP_TASKS", "1")]);
    let c = moto.clients().await;
    let mut p = plan_for(
        &c,
        "ecp-st-slow",
        &["--loadgen-task-count", "2", "--transit-encryption", "false"],
    )
    .await;
    p.tasks.stop_after_secs = 4;
    let mut t = fast();
    t.stop_grace = Duration::from_secs(2);
    // The first task runs and ships; the second hangs, is stopped, and never reaches STOPPED.
    let (out, _dir) = load_with(&moto, &c, &p, Mode::RunFirst(1), &t).await;
    assert_eq!(out.tasks.len(), 2);
    let ok: Vec<&str> = out
        .judged
        .iter()
        .map(|j| match j.status {
            TaskStatus::Ok => "ok",
            TaskStatus::Degraded => "degraded",
            TaskStatus::Failed => "failed",
        })
        .collect();
    assert!(ok.contains(&"ok") && ok.contains(&"failed"), "{ok:?}");
    let slow = out.tasks.iter().find(|t| t.never_stopped).unwrap();
    let j = out.judged.iter().find(|j| j.result.id == slow.id).unwrap();
    assert!(
        j.reasons.join("; ").contains("still not STOPPED"),
        "{:?}",
        j.reasons
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_of_a_deleted_cluster_are_not_running() {
    let moto = Moto::start_with(false, &[("ECP_MOTO_CLUSTER_GONE", "1")]);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-st-gone", &["--transit-encryption", "false"]).await;
    let (out, dir) = load_with(&moto, &c, &p, Mode::Run, &fast()).await;
    let arn = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap())
        .into_iter()
        .find(|r| r.kind == ResourceKind::EcsTask)
        .and_then(|r| r.id)
        .unwrap();
    assert_eq!(out.tasks.len(), 1);
    ecs::delete_cluster(&c.ecs, &p.names.ecs_cluster)
        .await
        .unwrap();
    // The double answers as AWS does for an INACTIVE cluster…
    let e = c
        .ecs
        .describe_tasks()
        .cluster(&p.names.ecs_cluster)
        .tasks(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{e:?}").contains("ClusterNotFoundException"),
        "{e:?}"
    );
    // …and the tool takes it for "not running", in the leak scan and in a second StopTask.
    assert!(!tasks::task_running(&c.ecs, &arn).await.unwrap());
    let ledger = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    // (A scan that cannot tell would fail here; the task definition is not this test's.)
    let left: Vec<String> = leaks::leak_scan(&c, &p.run_id, &ledger, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.contains(arn.as_str()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_insights_log_group_is_gone_after_teardown() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_INSIGHTS_RECREATE", "1")]);
    let c = moto.clients().await;
    let p = plan_for(
        &c,
        "ecp-st-insights",
        &["--transit-encryption", "false", "--prefill", "false"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (prov, ledger) = provision(&c, &p, dir.path()).await;
    hold_tasks_until_stopped(&moto.endpoint);
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate(
        c.clone(),
        p.names.ecs_cluster.clone(),
        dir.path().join("fargate"),
        stop.clone(),
    ));
    let out = load::run_load(
        &c,
        &p,
        &prov,
        &ledger,
        None,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    stop.cancel();
    emulator.await.unwrap();
    assert_eq!(out.tasks.len(), 1);
    let group = ecs::insights_log_group(&p.names.ecs_cluster);
    assert!(
        logs::log_group_exists(&c.logs, &group).await.unwrap(),
        "the double makes Container Insights' group when a task runs"
    );
    teardown_and_check(&c, &p, dir.path(), &ledger).await;
    assert!(!logs::log_group_exists(&c.logs, &group).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_bucket_in_another_region_is_used_there() {
    let moto = Moto::start_with(false, &[("ECP_MOTO_S3_REGION_REDIRECT", "1")]);
    let c = moto.clients().await;
    let eu = Clients::for_endpoint("eu-west-1", &moto.endpoint).await;
    eu.s3
        .create_bucket()
        .bucket("ecp-st-eu-exports")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut p = plan_for(&c, "ecp-st-region", &[]).await;
    p.export.bucket = "ecp-st-eu-exports".into();
    // The double answers a us-east-1 client as S3 does: 301 and the bucket's region.
    let e =
        c.s3.head_bucket()
            .bucket("ecp-st-eu-exports")
            .send()
            .await
            .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 301);
    let mut run = c.clone();
    aws::preflight(&mut run, &p).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("results.json"), b"{}").unwrap();
    let rep = aws::export::upload_dir(&c, &p.export.bucket, &p.export.prefix, dir.path()).await;
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    let listed = eu
        .s3
        .list_objects_v2()
        .bucket("ecp-st-eu-exports")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(keys.iter().any(|k| k.ends_with("results.json")), "{keys:?}");
    assert!(keys.iter().any(|k| k.ends_with("plan.json")), "{keys:?}");
}

/// A short wait for CloudWatch: long enough to show whether it is waited for at all.
const METRICS_WAIT: &[&str] = &["--aws-metrics-wait-seconds", "3"];

/// The client numbers of a run: what must not change when AWS is slow to agree with itself.
fn numbers(r: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "tasks": r["tasks"].as_array().map(|t| t.iter().map(|x| (x["status"].clone(), x["total"].clone())).collect::<Vec<_>>()),
        "whole_run": r["whole_run"],
        "status": r["status"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_every_switch_on_matches_one_without() {
    let lenient = Moto::start(true);
    let plain = run_aws(&lenient, "ecp-st-plain", Mode::Run, METRICS_WAIT).await;
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);

    let strict = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let run = run_aws(&strict, "ecp-st-all", Mode::Run, METRICS_WAIT).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Each behaviour showed up and was handled (logged at info as it happened).
    for seen in [
        "EC2 eventual consistency",
        "IAM propagation",
        "Fargate capacity",
        "no end marker yet",
        "the end of its log stream arrived",
    ] {
        assert!(
            run.stderr.contains(seen),
            "'{seen}' not in:\n{}",
            run.stderr
        );
    }
    let (a, b) = (plain.results.unwrap(), run.results.unwrap());
    assert_eq!(numbers(&a), numbers(&b));
    assert_eq!(b["tasks"].as_array().map(Vec::len), Some(2));
    let c = strict.clients().await;
    let left = inventory(&c, "ecp-st-all", &run.vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}\n{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_that_cannot_pull_their_image_fail_fast_and_say_why() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let start = Instant::now();
    // A prefill, so that the timed tasks are never started once its pull failed.
    let run = run_aws(
        &moto,
        "ecp-st-pull",
        Mode::PullFails,
        &["--prefill", "true", "--aws-metrics-wait-seconds", "3"],
    )
    .await;
    let took = start.elapsed();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    // Well within a minute of the tasks stopping (they stop at once here).
    assert!(
        took < Duration::from_secs(60),
        "took {took:?}\n{}",
        run.stderr
    );
    let results = run.results.expect("results.json is written");
    let first = results["notes"][0].as_str().unwrap_or_default().to_string();
    assert!(
        first.contains("could not pull their image")
            && first.contains("toomanyrequests")
            && first.contains("ECR pull-through cache")
            && first.contains("loadgen_repository_credentials"),
        "{first}"
    );
    assert!(
        run.stderr.contains("could not pull their image"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("for CloudWatch to publish"),
        "no CloudWatch wait without results:\n{}",
        run.stderr
    );
    let c = moto.clients().await;
    let left = inventory(&c, "ecp-st-pull", &run.vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
