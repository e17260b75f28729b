//! `run --target aws` end to end against moto, with Fargate emulated: each task the tool starts
//! is run here for real — its container command (`sh -c <script>` from the task definition) with
//! its environment from RunTask, and a stand-in `memtier_benchmark` that replays committed fixture
//! outputs — its stdout is shipped into the task's awslogs stream, and the task is stopped. The
//! test then checks the results, the exports in S3, that the AUTH token never left the tasks, and
//! that nothing of the run is left.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use crate::common_aws;

use std::path::{Path, PathBuf};

use common_aws::fargate::Mode;
use common_aws::run::run_aws;
use common_aws::Moto;
use elasticache_perf::aws::leaks;
use elasticache_perf::aws::ledger::{replay, Ledger};

const RUN_ID: &str = "ecp-e2e-1";
const EXPORTS: &str = "ecp-e2e-1-exports";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_aws_end_to_end() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let run = run_aws(
        &moto,
        RUN_ID,
        Mode::Run,
        &[
            "--s3-prefix",
            "bench",
            "--prefill",
            "true",
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let (stdout, stderr, envs) = (&run.stdout, &run.stderr, &run.envs);
    let (out_dir, vpc) = (run.out_dir.clone(), run.vpc.clone());
    let work = run.work.path();
    assert_eq!(run.code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let token = token_reached_memtier_only(envs, work, stdout, stderr);
    let (local_files, ledger) = local_outputs(&out_dir, &token);
    exported_to_s3(&c, &local_files).await;

    // Nothing of the run is left.
    let left = leaks::leak_scan(&c, RUN_ID, &ledger, Some(&vpc))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// One prefill task, then two timed tasks, with the cache host and the token in their
/// environment; memtier got the token as one argument, and it is in neither stdout nor stderr.
/// Returns the token.
fn token_reached_memtier_only(
    envs: &[std::collections::BTreeMap<String, String>],
    work: &Path,
    stdout: &str,
    stderr: &str,
) -> String {
    // One prefill task, then two timed tasks, with the cache host and the token in their env.
    assert_eq!(envs.len(), 3, "{envs:?}");
    assert_eq!(envs[0]["ECP_MODE"], "prefill");
    assert!(envs[1..].iter().all(|e| e["ECP_MODE"] == "timed"));
    let token = envs[0]["ECP_AUTH_TOKEN"].clone();
    assert_eq!(token.len(), 32);
    assert!(envs
        .iter()
        .all(|e| e["ECP_AUTH_TOKEN"] == token && e["ECP_HOST"].contains(RUN_ID)));
    // memtier got the token as one argument, and never anywhere else.
    let args_files: Vec<PathBuf> = std::fs::read_dir(work.join("fargate"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "args"))
        .collect();
    assert_eq!(args_files.len(), 3);
    for f in &args_files {
        let a = std::fs::read_to_string(f).unwrap();
        assert!(
            a.lines().any(|l| l == format!("--authenticate={token}")),
            "{a}"
        );
        assert!(a.lines().any(|l| l == "--tls") && a.lines().any(|l| l == "--tls-skip-verify"));
    }
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    token
}

/// The local outputs: results from both tasks with every phase, the reports, the raw outputs,
/// no token in any file, and the ledger all deleted. Returns the files and the ledger.
fn local_outputs(
    out_dir: &Path,
    token: &str,
) -> (Vec<String>, Vec<elasticache_perf::aws::ledger::Resource>) {
    // Local outputs: results from both tasks, their raw outputs, the ledger all deleted.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(results["status"], "ok", "{}", results["notes"]);
    assert_eq!(results["run"]["target"], "aws");
    assert_eq!(results["tasks"].as_array().unwrap().len(), 2);
    assert!(
        results["whole_run"]["total"]["ops_per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let phases: Vec<&str> = results["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for ph in [
        "plan",
        "preflight",
        "provision",
        "load",
        "collect",
        "teardown",
        "leak scan",
        "export",
    ] {
        assert!(phases.contains(&ph), "{ph} missing from {phases:?}");
    }
    let mut local_files = Vec::new();
    walk(out_dir, out_dir, &mut local_files);
    for f in &local_files {
        let bytes = std::fs::read(out_dir.join(f)).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the AUTH token leaked into {f}"
        );
    }
    for want in [
        "results.json",
        "summary.md",
        "chart.png",
        "ledger.jsonl",
        "logs/ecp-e2e-1.txt",
        "metrics/ecp-e2e-1.csv",
        "metrics/ecp-e2e-1-ecs.csv",
    ] {
        assert!(
            local_files.iter().any(|f| f == want),
            "{want} missing from {local_files:?}"
        );
    }
    assert_eq!(
        local_files
            .iter()
            .filter(|f| f.starts_with("raw/") && f.ends_with("/memtier.json"))
            .count(),
        3
    );
    let ledger = replay(&Ledger::read(&out_dir.join("ledger.jsonl")).unwrap());
    assert!(ledger.iter().all(|r| r.deleted), "{ledger:?}");
    assert_eq!(
        ledger
            .iter()
            .filter(|r| r.kind == elasticache_perf::aws::ledger::ResourceKind::EcsTask)
            .count(),
        3
    );
    (local_files, ledger)
}

/// S3: the plan (pre-flight write check) and every local file under bench/exports/<timestamp>/.
async fn exported_to_s3(c: &elasticache_perf::aws::Clients, local_files: &[String]) {
    // S3: the plan (pre-flight write check) and every local file under bench/exports/<timestamp>/.
    let listed = c.s3.list_objects_v2().bucket(EXPORTS).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let prefix = keys
        .iter()
        .find_map(|k| k.strip_suffix("plan.json"))
        .expect("plan.json exported")
        .to_string();
    assert!(
        prefix.starts_with("bench/exports/") && prefix.ends_with("Z/"),
        "{prefix}"
    );
    for f in local_files {
        assert!(
            keys.contains(&format!("{prefix}{f}").as_str()),
            "{f} not exported: {keys:?}"
        );
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}
