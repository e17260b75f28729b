//! The local target's memtier path, with a stand-in `memtier_benchmark` on PATH that replays a real
//! memtier run's outputs (memtier is not packaged for Debian): the command line it is given, its
//! outputs read back like any memtier outputs, and the hard timeout around a memtier that hangs.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use crate::common;
use common::*;

/// A stand-in that records its arguments, writes the `single/` fixture's JSON and HDR logs where it
/// is told to, prints the fixture's stdout and stderr, and — in `hang` mode — never finishes, even
/// after SIGINT (like memtier on a wrong password).
fn standin(dir: &std::path::Path, mode: &str) -> std::path::PathBuf {
    let fx = fixtures().join("single");
    let script = format!(
        r#"#!/bin/sh
[ "$1" = "--version" ] && {{ echo "memtier_benchmark v=2.3.0 (stand-in)"; exit 0; }}
echo "$@" >> "{log}"
json=""; prefix=""
for a in "$@"; do
  case "$a" in
    --json-out-file=*) json="${{a#--json-out-file=}}" ;;
    --hdr-file-prefix=*) prefix="${{a#--hdr-file-prefix=}}" ;;
  esac
done
if [ "{mode}" = "hang" ]; then
  trap '' INT
  cat "{fx}/stderr.txt" >&2
  while :; do sleep 1; done
fi
cp "{fx}/memtier.json" "$json"
for k in FULL_RUN_1 GET_command_run_1 SET_command_run_1; do cp "{fx}/memtier_hdr_$k.hgrm" "${{prefix}}_$k.hgrm"; done
cat "{fx}/stderr.txt" >&2
cat "{fx}/stdout.txt"
exit 0
"#,
        log = dir.join("argv.log").display(),
        fx = fx.display(),
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join("memtier_benchmark");
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn run_with(bin: &std::path::Path, out: &std::path::Path, args: &[&str]) -> std::process::Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"));
    c.args(["run", "--target", "local", "--out"])
        .arg(out)
        .args(args)
        .env("PATH", path);
    c.output().unwrap()
}

#[test]
fn memtier_runs_as_the_ecs_tasks_will_and_its_outputs_are_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = standin(tmp.path(), "ok");
    let out = tmp.path().join("out");
    let o = run_with(
        &bin,
        &out,
        &[
            "--loadgen",
            "auto",
            "--loadgen-task-count",
            "2",
            "--test-duration-seconds",
            "3",
            "--prefill",
            "true",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let argv = std::fs::read_to_string(tmp.path().join("argv.log")).unwrap();
    let lines: Vec<&str> = argv.lines().collect();
    assert_eq!(lines.len(), 3, "one prefill and two timed runs: {argv}");
    assert!(
        lines[0].contains("--ratio=1:0")
            && lines[0].contains("--requests=allkeys")
            && lines[0].contains("--key-pattern=P:P")
    );
    for l in &lines[1..] {
        for want in [
            "--test-time=3",
            "--distinct-client-seed",
            "--print-percentiles=50,90,99,99.9,99.99",
            "--json-out-file=",
            "--hdr-file-prefix=",
            "--ratio=1:10",
        ] {
            assert!(l.contains(want), "{want} missing in {l}");
        }
    }
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_valid(&r);
    assert_eq!(r["run"]["details"]["load_generator"], "memtier_benchmark");
    // Two replays of one real run: twice its rate, and its own percentiles (the same histogram twice).
    let mj = memtier_json(&fixtures().join("single"));
    let want = 2.0 * mj["ALL STATS"]["Totals"]["Ops/sec"].as_f64().unwrap();
    assert!(close(
        r["whole_run"]["total"]["ops_per_sec"].as_f64().unwrap(),
        want,
        0.01
    ));
    assert_eq!(
        r["whole_run"]["total"]["latency_ms"]["p99"],
        mj["ALL STATS"]["Totals"]["Percentile Latencies"]["p99.00"]
    );
    assert!(
        out.join("raw/task-1/memtier.json").exists()
            && out.join("raw/task-2/exit_code.txt").exists()
    );
}

#[test]
fn a_memtier_that_hangs_is_stopped_and_judged_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = standin(tmp.path(), "hang");
    let out = tmp.path().join("out");
    let started = Instant::now();
    let o = run_with(
        &bin,
        &out,
        &["--loadgen", "memtier", "--test-duration-seconds", "1"],
    );
    // 1 s test + 10 s grace + 5 s between SIGINT and SIGKILL, and some slack.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let task = &r["tasks"][0];
    assert_eq!(task["status"], "failed");
    assert!(
        task["reason"]
            .as_str()
            .unwrap()
            .contains("killed (exit 137)"),
        "{task}"
    );
}
