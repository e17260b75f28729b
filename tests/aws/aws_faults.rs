//! `run --target aws` against moto behind a proxy that fails ~30 % of the calls with the
//! protocol's throttling or 5xx error: the run either succeeds or fails cleanly (exit 3, an error
//! naming what failed, no panic, no hang), and — checked against moto directly — nothing of it is
//! left. Fargate is emulated (tests/aws/common_aws/fargate.rs) and talks to moto directly.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common_aws;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use common_aws::fargate::{fargate, hold_tasks_until_stopped};
use common_aws::faults::{FaultCounts, FaultProxy, Protocol};
use common_aws::inventory::inventory;
use common_aws::{bucket, default_vpc, Moto};
use elasticache_perf::aws::ledger::{replay, Ledger};
use elasticache_perf::aws::{leaks, Clients, Error};
use tokio_util::sync::CancellationToken;

/// Share of calls the proxy fails (`ECP_FAULT_RATE` overrides it, to explore harsher weather).
const FAULT_RATE: f64 = 0.3;

fn fault_rate() -> f64 {
    std::env::var("ECP_FAULT_RATE")
        .ok()
        .map_or(FAULT_RATE, |s| {
            s.trim().parse().expect("ECP_FAULT_RATE: a number")
        })
}

/// Every service the tool calls answers an injected fault in its own protocol, and the SDK takes it
/// for retryable: with every call failing, each call is tried exactly as often as allowed and ends
/// in an error the product classifies as transient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_are_retryable_in_every_protocol() {
    const ATTEMPTS: u32 = 3;
    let moto = Moto::start(false);
    let proxy = FaultProxy::start(&moto.endpoint, 1.0, 7).await;
    let base = Clients::for_endpoint("us-east-1", &proxy.endpoint).await;
    let conf = base
        .sdk_config
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let mut errors: Vec<(Protocol, Error)> = Vec::new();
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let e = ecs.list_clusters().send().await.unwrap_err();
    errors.push((Protocol::AwsJson, Error::from_sdk("ListClusters", "-", e)));
    let tagging = aws_sdk_resourcegroupstagging::Client::new(&conf);
    let e = tagging.get_resources().send().await.unwrap_err();
    errors.push((Protocol::AwsJson, Error::from_sdk("GetResources", "-", e)));
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let e = ec2.describe_vpcs().send().await.unwrap_err();
    errors.push((Protocol::Ec2Query, Error::from_sdk("DescribeVpcs", "-", e)));
    let ec = aws_sdk_elasticache::Client::new(&conf);
    let e = ec.describe_replication_groups().send().await.unwrap_err();
    errors.push((Protocol::AwsQuery, Error::from_sdk("DescribeRG", "-", e)));
    let iam = aws_sdk_iam::Client::new(&conf);
    let e = iam.list_roles().send().await.unwrap_err();
    errors.push((Protocol::AwsQuery, Error::from_sdk("ListRoles", "-", e)));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let e = s3.list_objects_v2().bucket("b").send().await.unwrap_err();
    errors.push((Protocol::S3, Error::from_sdk("ListObjectsV2", "-", e)));
    let e = s3.head_bucket().bucket("b").send().await.unwrap_err();
    errors.push((Protocol::S3, Error::from_sdk("HeadBucket", "-", e)));

    for (p, e) in &errors {
        assert!(e.is_transient(), "{p:?}: {e}");
        let want: &[&str] = match p {
            Protocol::AwsJson => &[
                "ThrottlingException",
                "InternalFailure",
                "ServiceUnavailable",
            ],
            Protocol::Ec2Query => &["RequestLimitExceeded", "InternalError"],
            Protocol::AwsQuery => &["Throttling", "InternalFailure", "ServiceUnavailable"],
            // HeadBucket has no body: the status is all there is.
            Protocol::S3 => &["SlowDown", "InternalError", "HTTP 500", "HTTP 503"],
        };
        assert!(want.contains(&e.code().unwrap_or("")), "{p:?}: {e}");
    }
    let n = proxy.counts();
    assert_eq!(
        n.requests,
        u64::from(ATTEMPTS) * errors.len() as u64,
        "{n:?}"
    );
    assert_eq!(n.total_injected(), n.requests, "{n:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_under_faults_ends_cleanly_and_leaks_nothing_seed_1() {
    under_faults("ecp-fault-1", 0x5EED_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_under_faults_ends_cleanly_and_leaks_nothing_seed_2() {
    under_faults("ecp-fault-2", 0x5EED_0002).await;
}

/// The leak scan's own call fails for good (after the SDK's retries): the run fails (nothing is
/// confirmed gone), but says so next to any other error and keeps the load's results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_leak_scan_fails_the_run_but_keeps_its_results() {
    let run = run_through_proxy("ecp-fault-scan", 0.0, 3, Some("GetResources")).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("scanning for resources of run 'ecp-fault-scan' left behind")
            && run.stderr.contains("GetResources"),
        "{}",
        run.stderr
    );
    let results = run.results.expect("results.json is written");
    assert_eq!(
        results["tasks"].as_array().map(Vec::len),
        Some(2),
        "{results}"
    );
    assert!(
        results["notes"].to_string().contains("GetResources"),
        "{}",
        results["notes"]
    );
}

async fn under_faults(run_id: &str, seed: u64) {
    let run = run_through_proxy(run_id, fault_rate(), seed, None).await;
    let n = &run.counts;
    assert!(
        run.code == Some(0) || run.code == Some(3),
        "exit {:?}\n{}",
        run.code,
        run.stderr
    );
    if run.code == Some(3) {
        let last = run
            .stderr
            .lines()
            .rev()
            .find(|l| l.contains("error"))
            .unwrap_or("");
        assert!(
            last.contains('\'') && last.contains(run_id),
            "the error names no resource of the run: {last}\n{}",
            run.stderr
        );
    }
    // The faults were real: many, and in every protocol the run used much.
    assert!(n.total_injected() >= 20, "{n:?}");
    for (p, seen) in &n.seen {
        if *seen >= 10 {
            assert!(n.injected_for(*p) > 0, "no fault for {p:?}: {n:?}");
        }
    }
}

/// How a run through the proxy ended.
struct Finished {
    code: Option<i32>,
    stderr: String,
    results: Option<serde_json::Value>,
    counts: FaultCounts,
}

/// The command line of a run under faults: a short run with a prefill and two tasks, quick polls
/// and no wait for CloudWatch.
fn run_args(
    run_id: &str,
    vpc: &str,
    subnets: &[String],
    exports: &str,
    out_dir: &std::path::Path,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--target",
        "aws",
        "--run-id",
        run_id,
        "--vpc-id",
        vpc,
        "--subnet-ids",
        &subnets.join(","),
        "--metrics-export-s3-bucket",
        exports,
        "--test-duration-seconds",
        "8",
        "--loadgen-task-count",
        "2",
        "--prefill",
        "true",
        "--aws-poll-seconds",
        "0.2",
        "--aws-metrics-wait-seconds",
        "0",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out_dir.display().to_string());
    args
}

/// Run `run --target aws` with its endpoint on a fault proxy (rate `rate`, seed `seed`, and every
/// request matching `always_fail` failing), Fargate emulated against moto directly. Checks what
/// every such run must do: end by itself without a panic, and leave nothing behind (asked of moto
/// directly, by the replayed ledger, by tag and by IAM path).
async fn run_through_proxy(
    run_id: &str,
    rate: f64,
    seed: u64,
    always_fail: Option<&str>,
) -> Finished {
    let moto = Moto::start(true);
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    let exports = format!("{run_id}-exports");
    bucket(&c, &exports).await;
    let proxy = FaultProxy::start(&moto.endpoint, rate, seed).await;
    if let Some(needle) = always_fail {
        proxy.always_fail(needle);
    }
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("out");
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate(
        c.clone(),
        run_id.to_string(),
        work.path().join("fargate"),
        stop.clone(),
    ));
    let mut env = moto.env();
    for (k, v) in &mut env {
        if *k == "AWS_ENDPOINT_URL" {
            v.clone_from(&proxy.endpoint);
        }
    }
    let args = run_args(run_id, &vpc, &subnets, &exports, &out_dir);
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("elasticache-perf")
            .unwrap()
            .args(&args)
            .envs(env)
            .env("ELASTICACHE_PERF_LOG", "info")
            .timeout(Duration::from_secs(600))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    stop.cancel();
    emulator.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let counts = proxy.counts();
    eprintln!(
        "{run_id}, seed {}: exit {:?} after {} s; {} requests, {} faults injected: {:?}; seen {:?}",
        proxy.seed,
        out.status.code(),
        started.elapsed().as_secs(),
        counts.requests,
        counts.total_injected(),
        counts.injected,
        counts.seen
    );
    if out.status.code() != Some(0) {
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        eprintln!("{run_id}: the run's last words:\n{tail}");
    }
    // It ended by itself: a timeout or a signal leaves no exit code.
    assert!(
        out.status.code().is_some(),
        "no exit code: {:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Nothing is left — asked of moto directly, not through the proxy.
    let ledger = replay(&Ledger::read(&out_dir.join("ledger.jsonl")).unwrap());
    let left = leaks::leak_scan(&c, run_id, &ledger, Some(&vpc))
        .await
        .unwrap();
    let live = inventory(&c, run_id, &vpc).await;
    eprintln!("{run_id}: still there, by type and tag: {live:?}");
    assert!(left.is_empty(), "leaked: {left:?}\n{stderr}");
    assert!(live.is_empty(), "leaked: {live:?}\n{stderr}");
    assert!(ledger.iter().all(|r| r.deleted), "{ledger:?}");
    let results = std::fs::read_to_string(out_dir.join("results.json"))
        .ok()
        .map(|s| serde_json::from_str(&s).unwrap());
    Finished {
        code: out.status.code(),
        stderr,
        results,
        counts,
    }
}
