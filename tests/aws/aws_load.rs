//! The load phase's edges against moto: tasks still running after their deadline are stopped by
//! the tool and judged failed from their (missing) results, not from ECS's exit code; and an
//! export to a bucket that is gone is reported per object, never silently dropped.

#![allow(clippy::unwrap_used)]

use crate::common_aws;

use std::sync::Mutex;
use std::time::Duration;

use common_aws::fargate::hold_tasks_until_stopped;
use common_aws::plan::plan_for;
use common_aws::run::task_side;
use common_aws::{bucket, Moto};
use elasticache_perf::aws::ledger::{replay, Ledger, ResourceKind};
use elasticache_perf::aws::{self, load, Timeouts};
use elasticache_perf::client::TaskStatus;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stragglers_are_stopped_after_their_deadline_and_judged_by_their_results() {
    let moto = Moto::start(false);
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let mut p = plan_for(
        &c,
        "ecp-load-1",
        &["--loadgen-task-count", "2", "--transit-encryption", "false"],
    )
    .await;
    // A deadline of one second: the tasks (held RUNNING, never finishing) become stragglers.
    p.tasks.stop_after_secs = 1;
    let prov = task_side(&c, &p).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    let t = Timeouts::with_poll(Duration::from_millis(100));
    let out = load::run_load(&c, &p, &prov, &ledger, None, &t, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.tasks.len(), 2);
    assert!(
        out.tasks.iter().all(|t| t.stopped_by_tool),
        "{:?}",
        out.tasks
    );
    for j in &out.judged {
        assert_eq!(j.status, TaskStatus::Failed);
        let why = j.reasons.join("; ");
        assert!(
            why.contains("stopped by the tool") && why.contains("no memtier results"),
            "{why}"
        );
    }
    let tasks = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    assert_eq!(
        tasks
            .iter()
            .filter(|r| r.kind == ResourceKind::EcsTask)
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_is_reported_per_object() {
    let moto = Moto::start(false);
    let c = moto.clients().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("metrics")).unwrap();
    std::fs::write(dir.path().join("results.json"), b"{}").unwrap();
    std::fs::write(dir.path().join("metrics/x.csv"), b"t\n").unwrap();
    bucket(&c, "ecp-up-ok").await;
    let ok = aws::export::upload_dir(&c, "ecp-up-ok", "bench/exports/T/", dir.path()).await;
    assert!(ok.failed.is_empty(), "{:?}", ok.failed);
    assert_eq!(
        ok.uploaded,
        [
            "s3://ecp-up-ok/bench/exports/T/metrics/x.csv",
            "s3://ecp-up-ok/bench/exports/T/results.json"
        ]
    );
    let bad = aws::export::upload_dir(&c, "ecp-up-gone", "bench/exports/T/", dir.path()).await;
    assert!(bad.uploaded.is_empty());
    assert_eq!(bad.failed.len(), 2, "{:?}", bad.failed);
    assert!(
        bad.failed[0].contains("s3://ecp-up-gone/bench/exports/T/metrics/x.csv"),
        "{:?}",
        bad.failed
    );
    assert!(
        dir.path().join("results.json").exists(),
        "the local copy stays"
    );
}
