//! An AWS run's critical path, as the action runs it, against moto with every strict switch on,
//! the cache taking 20 s to create and 200 s to delete, CloudWatch publishing each minute late,
//! Fargate emulated and the GitHub API faked: the comment comes before the teardown ends (and is
//! updated after it), CloudWatch's wait runs beside the cache's deletion, progress lines appear
//! during the load, a load whose memtier hangs ends within about two minutes, and 50 load
//! generators run with their results merged exactly. Each run prints its phases' times.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::action_harness;
use crate::common_aws;
use crate::github_fake;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use action_harness::*;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use common_aws::fargate::{fargate_with, hold_tasks_until_stopped, Mode};
use common_aws::inventory::inventory;
use common_aws::{bucket, default_vpc, Moto};
use elasticache_perf::aws::Clients;
use github_fake::FakeGithub;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// How late the publisher below makes CloudWatch: a minute's datapoint appears this long after
/// the minute ended.
const PUBLISH_LAG_SECS: i64 = 20;

fn now_s() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// ElastiCache's publishing, emulated: every member cluster of every replication group seen gets
/// its `CPUUtilization` datapoint for each minute once that minute is [`PUBLISH_LAG_SECS`] old —
/// also while the group is being deleted (CloudWatch keeps what was published).
async fn publish_cache_metrics(c: Clients, stop: CancellationToken) {
    let mut members: BTreeMap<String, i64> = BTreeMap::new();
    let mut done: BTreeSet<(String, i64)> = BTreeSet::new();
    while !stop.is_cancelled() {
        if let Ok(groups) = c.elasticache.describe_replication_groups().send().await {
            for g in groups.replication_groups() {
                for m in g.member_clusters() {
                    members
                        .entry(m.clone())
                        .or_insert_with(|| now_s().div_euclid(60) * 60);
                }
            }
        }
        for (m, first) in &members {
            let mut minute = *first;
            while minute + 60 + PUBLISH_LAG_SECS <= now_s() {
                if done.insert((m.clone(), minute)) {
                    c.cloudwatch
                        .put_metric_data()
                        .namespace("AWS/ElastiCache")
                        .metric_data(
                            MetricDatum::builder()
                                .metric_name("CPUUtilization")
                                .dimensions(
                                    Dimension::builder().name("CacheClusterId").value(m).build(),
                                )
                                .timestamp(DateTime::from_secs(minute + 30))
                                .value(12.5)
                                .build(),
                        )
                        .send()
                        .await
                        .unwrap();
                }
                minute += 60;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// What one action run left.
struct Ran {
    code: Option<i32>,
    stderr: String,
    wall: Duration,
    results: Value,
    step: Step,
    emulated: usize,
}

/// Run the action on the AWS target with `inputs` (on top of the network, bucket and run id),
/// Fargate emulated in `mode`, CloudWatch's publishing emulated, and `gh` as GitHub.
async fn run_action(
    moto: &Moto,
    gh: &FakeGithub,
    run_id: &str,
    mode: Mode,
    inputs: &[(&str, &str)],
) -> Ran {
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    let bucket_name = format!("{run_id}-exports");
    bucket(&c, &bucket_name).await;
    let work = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate_with(
        c.clone(),
        run_id.to_string(),
        work.path().join("fargate"),
        stop.clone(),
        mode,
    ));
    let publisher = tokio::spawn(publish_cache_metrics(c.clone(), stop.clone()));
    let step = Step::new(
        "pull_request",
        &json!({"pull_request": {"number": 7, "head": {"sha": "0123abc"}}}),
    );
    let subnets = subnets.join(",");
    let mut all: Vec<(&str, &str)> = vec![
        ("target", "aws"),
        ("run_id", run_id),
        ("vpc_id", &vpc),
        ("subnet_ids", &subnets),
        ("metrics_export_s3_bucket", &bucket_name),
        ("engine_type", "valkey"),
    ];
    all.extend_from_slice(inputs);
    let mut cmd = step.main(&all, &gh.api_url(""));
    // The default CloudWatch bound (180 s) stays: its wait must hide behind the cache's deletion.
    cmd.envs(moto.env())
        .env("ELASTICACHE_PERF_AWS_POLL_SECONDS", "0.2")
        .env("ELASTICACHE_PERF_LOG", "info");
    let t0 = Instant::now();
    let o = run(cmd).await;
    let wall = t0.elapsed();
    stop.cancel();
    let emulated = emulator.await.unwrap().len();
    publisher.await.unwrap();
    let (_, stderr) = text(&o);
    let results = serde_json::from_str(&step.read(&step.out_dir().join("results.json")))
        .unwrap_or(Value::Null);
    let left = inventory(&c, run_id, &vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}\n{stderr}");
    Ran {
        code: o.status.code(),
        stderr,
        wall,
        results,
        step,
        emulated,
    }
}

/// The run's phases: name → (start, end), as Unix seconds.
fn phases(results: &Value) -> BTreeMap<String, (f64, f64)> {
    let at = |v: &Value| {
        let t = humantime::parse_rfc3339(v.as_str().unwrap()).unwrap();
        t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
    };
    results["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                (at(&p["started_at"]), at(&p["ended_at"])),
            )
        })
        .collect()
}

/// Print the phases (for docs/benchmarks.md).
fn print_phases(what: &str, wall: Duration, ph: &BTreeMap<String, (f64, f64)>) {
    let mut rows: Vec<(&String, &(f64, f64))> = ph.iter().collect();
    rows.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    let t0 = rows.first().map_or(0.0, |r| r.1 .0);
    eprintln!("{what}: wall {:.1} s", wall.as_secs_f64());
    for (name, (s, e)) in rows {
        eprintln!(
            "  {name:<14} {:>7.1} s → {:>7.1} s  ({:.1} s)",
            s - t0,
            e - t0,
            e - s
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_comment_comes_before_the_teardown_ends_and_cloudwatch_waits_beside_the_deletion() {
    let moto = Moto::start_with(
        true,
        &[
            ("ECP_MOTO_STRICT", "1"),
            ("ECP_MOTO_RG_CREATING_SECONDS", "20"),
            ("ECP_MOTO_RG_DELETING_SECONDS", "200"),
        ],
    );
    let gh = FakeGithub::start("").await;
    let r = run_action(
        &moto,
        &gh,
        "ecp-cp-1",
        Mode::Progress(20),
        &[("test_duration_seconds", "20"), ("loadgen_task_count", "2")],
    )
    .await;
    let ph = phases(&r.results);
    print_phases("20 s create, 20 s load, 200 s delete", r.wall, &ph);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.emulated, 2);
    // The critical path: creation, load, deletion, and little else.
    assert!(
        r.wall <= Duration::from_secs(20 + 20 + 200 + 45),
        "wall time {:?}\n{}",
        r.wall,
        r.stderr
    );

    // The comment was posted before the teardown ended, and updated after it.
    let teardown = ph["teardown"];
    let writes = gh.state.lock().unwrap().writes.clone();
    let at = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert_eq!(writes.first().map(|w| w.0), Some("create"), "{writes:?}");
    assert!(
        at(writes[0].1) < teardown.1 - 100.0,
        "comment at {}, teardown ended at {}",
        at(writes[0].1),
        teardown.1
    );
    let last = writes.last().unwrap();
    assert_eq!(last.0, "update", "{writes:?}");
    assert!(at(last.1) > teardown.1);
    let comments = gh.comments(7);
    assert_eq!(comments.len(), 1);
    // The final comment links the export, which only the update knows.
    assert!(
        comments[0].body.contains("s3/buckets/ecp-cp-1-exports"),
        "{}",
        comments[0].body
    );
    // The job summary holds the final report once.
    let summary = r.step.read(&r.step.summary);
    assert_eq!(
        summary.matches("s3/buckets/ecp-cp-1-exports").count(),
        1,
        "{summary}"
    );

    // CloudWatch was read beside the deletion, and ended when the last minute was published
    // (at most a minute and the lag after the load), not at its 180 s bound.
    let collect = ph["collect"];
    assert!(
        collect.0 >= teardown.0 - 1.0 && collect.1 < teardown.1,
        "{ph:?}"
    );
    assert!(collect.1 - collect.0 < f64::from(60 + 20 + 20), "{ph:?}");
    assert!(
        r.stderr
            .contains("CloudWatch has published the minute the load ended in"),
        "{}",
        r.stderr
    );
    let nodes = r.results["server"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    let cpu: Vec<f64> = nodes
        .iter()
        .flat_map(|n| n["samples"].as_array().unwrap())
        .filter_map(|s| s["values"]["cpu_percent"].as_f64())
        .collect();
    assert!(cpu.contains(&12.5), "{nodes:?}");

    // Progress during the load: states, live ops/s and mean latency from the tasks' streams.
    let progress: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains(" s / 20 s  tasks: 2 RUNNING  clients 10000 ops/s"))
        .collect();
    assert!(!progress.is_empty(), "{}", r.stderr);
    assert!(progress.iter().any(|l| l.contains("mean latency 0.500 ms")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_load_whose_memtier_hangs_ends_within_about_two_minutes() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let gh = FakeGithub::start("").await;
    let r = run_action(
        &moto,
        &gh,
        "ecp-cp-hang",
        Mode::Hang,
        &[
            ("test_duration_seconds", "600"),
            ("loadgen_task_count", "2"),
        ],
    )
    .await;
    let ph = phases(&r.results);
    print_phases("hung memtier, 600 s test", r.wall, &ph);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let load = ph["load"];
    assert!(
        (120.0..160.0).contains(&(load.1 - load.0)),
        "the load phase took {:.0} s\n{}",
        load.1 - load.0,
        r.stderr
    );
    assert!(r.wall < Duration::from_secs(240), "{:?}", r.wall);
    assert!(
        r.stderr
            .contains("no load generator made progress for 120 s (2 running task(s) stalled, 2 never printed progress)"),
        "{}",
        r.stderr
    );
    let notes = r.results["notes"].to_string();
    assert!(notes.contains("the load was cut short"), "{notes}");
    assert_eq!(r.results["status"], "failed");
    // Nothing to wait for in CloudWatch without results.
    assert!(!r.stderr.contains("waiting up to"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_load_generators_merge_exactly() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let gh = FakeGithub::start("").await;
    let r = run_action(
        &moto,
        &gh,
        "ecp-cp-50",
        Mode::Run,
        &[("test_duration_seconds", "8"), ("loadgen_task_count", "50")],
    )
    .await;
    let ph = phases(&r.results);
    print_phases("50 load generators", r.wall, &ph);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.emulated, 50);
    let tasks = r.results["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 50);
    assert!(tasks.iter().all(|t| t["status"] == "ok"), "{tasks:?}");
    // Every task replays the same memtier run: the whole run is exactly fifty of it.
    let one = tasks[0]["total"]["count"].as_u64().unwrap();
    assert!(one > 0);
    assert!(tasks
        .iter()
        .all(|t| t["total"]["count"].as_u64() == Some(one)));
    assert_eq!(
        r.results["whole_run"]["total"]["count"].as_u64(),
        Some(one * 50)
    );
    assert_eq!(r.results["run"]["task_count"], 50);
}
