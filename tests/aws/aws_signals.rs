//! Teardown that survives signals, against moto: for each phase of a run (provisioning, the cache
//! still creating, the load, collecting, teardown) the tool gets SIGINT, SIGTERM, or SIGKILL, and
//! is then finished by the action's post step (from the saved state), `cleanup --run-id` (tags
//! only) or `cleanup --out` (the ledger). SIGINT and SIGTERM must end the process with 130 within
//! seconds; every scenario must end with nothing of the run left, listed by type and by tag.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common_aws;

use std::io::BufRead as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common_aws::fargate::{fargate, hold_tasks_until_stopped};
use common_aws::inventory::inventory;
use common_aws::{bucket, default_vpc, Moto};
use nix::sys::signal::Signal;
use tokio_util::sync::CancellationToken;

/// How the run is ended, and what finishes its teardown.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// SIGINT, then the action's post step with the saved state.
    IntThenPost,
    /// SIGTERM, then `cleanup --run-id` with no ledger (tags only).
    TermThenCleanupByRunId,
    /// SIGKILL (no chance to react), then `cleanup --out` from the ledger file.
    KillThenCleanupFromLedger,
    /// SIGKILL, then the action's post step with the saved state (a runner that died).
    KillThenPost,
}

const ENDINGS: [Ending; 3] = [
    Ending::IntThenPost,
    Ending::TermThenCleanupByRunId,
    Ending::KillThenCleanupFromLedger,
];

/// A run of the tool in the background, its stderr collected as it comes.
struct Bg {
    child: Child,
    stderr: Arc<Mutex<String>>,
    out_dir: PathBuf,
    state: PathBuf,
}

impl Bg {
    fn ledger(&self) -> String {
        std::fs::read_to_string(self.out_dir.join("ledger.jsonl")).unwrap_or_default()
    }
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("elasticache-perf")
}

fn start(
    moto: &Moto,
    run_id: &str,
    vpc: &str,
    subnets: &[String],
    work: &Path,
    extra: &[&str],
) -> Bg {
    let out_dir = work.join(run_id);
    let state = work.join(format!("{run_id}.state"));
    std::fs::write(&state, "").unwrap();
    let mut cmd = Command::new(bin());
    cmd.args([
        "run", "--target", "aws", "--run-id", run_id, "--vpc-id", vpc,
    ])
    .args([
        "--subnet-ids",
        &subnets.join(","),
        "--metrics-export-s3-bucket",
        "ecp-sig",
    ])
    .args(["--aws-poll-seconds", "0.2"])
    .args(extra)
    .arg("--out")
    .arg(&out_dir)
    .envs(moto.env())
    .env("GITHUB_ACTIONS", "true")
    .env("GITHUB_STATE", &state)
    .env("ELASTICACHE_PERF_LOG", "info")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    Bg {
        child,
        stderr,
        out_dir,
        state,
    }
}

async fn wait_until(bg: &Bg, what: &str, cond: impl Fn(&Bg) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cond(bg) {
        assert!(
            Instant::now() < deadline,
            "never reached {what}\nstderr:\n{}",
            bg.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The runner's `KEY=value` / `KEY<<DELIM` file as `STATE_KEY` variables.
fn state_env(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((k, delim)) = l.split_once("<<") {
            let body: Vec<&str> = lines.by_ref().take_while(|x| *x != delim).collect();
            out.push((format!("STATE_{k}"), body.join("\n")));
        } else if let Some((k, v)) = l.split_once('=') {
            out.push((format!("STATE_{k}"), v.to_string()));
        }
    }
    out
}

/// End the run as `ending` says, finish the teardown, and return what is left.
async fn end_and_finish(moto: &Moto, bg: Bg, run_id: &str, ending: Ending, work: &Path) -> String {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(bg.child.id()).unwrap());
    let sig = match ending {
        Ending::IntThenPost => Signal::SIGINT,
        Ending::TermThenCleanupByRunId => Signal::SIGTERM,
        Ending::KillThenCleanupFromLedger | Ending::KillThenPost => Signal::SIGKILL,
    };
    let signalled = Instant::now();
    nix::sys::signal::kill(pid, sig).unwrap();
    let mut child = bg.child;
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = signalled.elapsed();
    let log = bg.stderr.lock().unwrap().clone();
    if sig != Signal::SIGKILL {
        assert_eq!(status.code(), Some(130), "{run_id} after {sig}:\n{log}");
        // A cancelled job's container gets about ten seconds in all.
        assert!(
            took < Duration::from_secs(8),
            "{run_id}: exited {took:?} after {sig}\n{log}"
        );
    }
    let mut cmd = Command::new(bin());
    cmd.envs(moto.env()).env("ELASTICACHE_PERF_LOG", "info");
    match ending {
        Ending::IntThenPost | Ending::KillThenPost => {
            cmd.arg0("elasticache-perf-post")
                .envs(state_env(&bg.state))
                .env("GITHUB_ACTIONS", "true")
                .env("ELASTICACHE_PERF_POST_POLL_SECONDS", "0.2");
        }
        Ending::TermThenCleanupByRunId => {
            cmd.args(["cleanup", "--run-id", run_id, "--aws-region", "us-east-1"])
                .args(["--poll-seconds", "0.2", "--out"])
                .arg(work.join(format!("{run_id}-cleanup")));
        }
        Ending::KillThenCleanupFromLedger => {
            cmd.args(["cleanup", "--poll-seconds", "0.2", "--out"])
                .arg(&bg.out_dir);
        }
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let finish_log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{run_id}: finishing after {sig} failed\nrun:\n{log}\nfinish:\n{finish_log}"
    );
    format!("run:\n{log}\nfinish:\n{finish_log}")
}

/// One phase: start a run per ending, wait for the phase, end it, finish, and list what is left.
async fn phase(
    name: &str,
    endings: &[Ending],
    moto_env: &[(&str, &str)],
    extra: &[&str],
    emulate: bool,
    reached: fn(&Bg) -> bool,
) {
    let moto = Moto::start_with(true, moto_env);
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    bucket(&c, "ecp-sig").await;
    let work = tempfile::tempdir().unwrap();
    for (i, &ending) in endings.iter().enumerate() {
        let run_id = format!("ecp-sig-{name}-{i}");
        let stop = CancellationToken::new();
        let emulator = emulate.then(|| {
            tokio::spawn(fargate(
                c.clone(),
                run_id.clone(),
                work.path().join(format!("fargate-{i}")),
                stop.clone(),
            ))
        });
        let bg = start(&moto, &run_id, &vpc, &subnets, work.path(), extra);
        wait_until(&bg, name, reached).await;
        let logs = end_and_finish(&moto, bg, &run_id, ending, work.path()).await;
        stop.cancel();
        if let Some(e) = emulator {
            e.await.unwrap();
        }
        let left = inventory(&c, &run_id, &vpc).await;
        eprintln!("{name} / {ending:?}: left {left:?}");
        assert!(
            left.is_empty(),
            "{name} / {ending:?}: left {left:?}\n{logs}"
        );
    }
}

fn has(bg: &Bg, kind: &str, event: &str) -> bool {
    bg.ledger().lines().any(|l| {
        l.contains(&format!("\"kind\":\"{kind}\"")) && l.contains(&format!("\"event\":\"{event}\""))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_provisioning() {
    phase(
        "prov",
        &ENDINGS,
        &[],
        &["--test-duration-minutes", "30"],
        false,
        |bg| !bg.ledger().is_empty(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_cache_is_creating() {
    phase(
        "creating",
        &ENDINGS,
        &[("ECP_MOTO_RG_CREATING_SECONDS", "6")],
        &["--test-duration-minutes", "30"],
        false,
        |bg| has(bg, "replication_group", "created"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_the_load() {
    // The fourth ending is the action's post-step promise: a main step killed after provisioning.
    let endings = [ENDINGS[0], ENDINGS[1], ENDINGS[2], Ending::KillThenPost];
    phase(
        "load",
        &endings,
        &[],
        &["--test-duration-minutes", "30"],
        false,
        |bg| has(bg, "ecs_task", "created"),
    )
    .await;
}

/// The same with every strict switch of the AWS double on (eventual consistency, capacity, clusters
/// that are gone, Container Insights' log group, late logs): still nothing left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_the_load_with_every_strict_switch_on() {
    phase(
        "load-strict",
        &[Ending::TermThenCleanupByRunId, Ending::IntThenPost],
        &[("ECP_MOTO_STRICT", "1")],
        &["--test-duration-minutes", "30", "--prefill", "false"],
        false,
        |bg| has(bg, "ecs_task", "created"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_collecting() {
    phase(
        "collect",
        &ENDINGS,
        &[],
        &[
            "--test-duration-seconds",
            "2",
            "--aws-metrics-wait-seconds",
            "120",
        ],
        true,
        |bg| bg.stderr().contains("for CloudWatch to publish"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_teardown() {
    phase(
        "teardown",
        &ENDINGS,
        &[("ECP_MOTO_RG_DELETING_SECONDS", "8")],
        &[
            "--test-duration-seconds",
            "2",
            "--aws-metrics-wait-seconds",
            "0",
        ],
        true,
        |bg| bg.ledger().contains("\"event\":\"deleted\""),
    )
    .await;
}
