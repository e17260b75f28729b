//! The local target end to end against real redis-servers: outputs, agreement with the server's own
//! count, prefill, a wrong password, a server that dies mid-run, and Ctrl-C.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::common;
use common::*;

fn run_cmd(out: &std::path::Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("run")
        .arg("--target")
        .arg("local")
        .arg("--loadgen")
        .arg("builtin")
        .arg("--out")
        .arg(out)
        .args(args);
    c.env_remove("RUST_LOG").timeout(Duration::from_secs(120));
    c
}

fn spawn_cmd(out: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"));
    c.arg("run")
        .arg("--target")
        .arg("local")
        .arg("--loadgen")
        .arg("builtin")
        .arg("--out")
        .arg(out)
        .args(args);
    c.env_remove("RUST_LOG");
    c
}

fn results(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

#[test]
fn a_local_run_writes_every_output_and_agrees_with_the_server() {
    let out = tempfile::tempdir().unwrap();
    let o = run_cmd(
        out.path(),
        &[
            "--test-duration-seconds",
            "8",
            "--threads",
            "2",
            "--clients",
            "4",
            "--run-id",
            "ecp-test-1",
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let r = results(out.path());
    assert_valid(&r);
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(r["run"]["target"], "local");
    assert_eq!(
        r["steady_state"]["latency_scope"], "window",
        "the built-in generator keeps per-second histograms"
    );
    for f in [
        "summary.md",
        "chart.png",
        "metrics/ecp-test-1.csv",
        "metrics/ecp-test-1-client.csv",
        "logs/ecp-test-1.txt",
    ] {
        let p = out.path().join(f);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    let agreement = r["run"]["details"]["client_vs_server_ops_pct"]
        .as_f64()
        .unwrap();
    assert!(
        agreement.abs() < 3.0,
        "clients and server disagree by {agreement} %"
    );
    let ops = r["steady_state"]["total"]["ops_per_sec"].as_f64().unwrap();
    assert!(ops > 1000.0, "{ops}");
    // The server it started is gone.
    let port = u16::try_from(r["run"]["workload"]["port"].as_u64().unwrap()).unwrap();
    assert!(
        !listening(port),
        "the started server still listens on {port}"
    );
    let phases: Vec<&str> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["validate", "provision server", "load", "stop server"] {
        assert!(phases.contains(&p), "{phases:?}");
    }
}

#[test]
fn prefill_writes_the_whole_key_range() {
    let redis = TestRedis::start(&[]);
    let out = tempfile::tempdir().unwrap();
    let ep = format!("redis://127.0.0.1:{}", redis.port);
    let o = run_cmd(
        out.path(),
        &[
            "--endpoint",
            &ep,
            "--prefill",
            "true",
            "--key-minimum",
            "1",
            "--key-maximum",
            "5000",
            "--ratio",
            "0:1",
            "--test-duration-seconds",
            "3",
            "--threads",
            "1",
            "--clients",
            "3",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(redis.cli(&["DBSIZE"]), "5000");
    let r = results(out.path());
    // Every GET of the timed run hits a prefilled key.
    let get = &r["whole_run"]["commands"]["get"];
    assert_eq!(get["misses_per_sec"].as_f64().unwrap(), 0.0, "{get}");
    assert!(get["hits_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_wrong_password_is_a_clear_error_quickly() {
    let redis = TestRedis::start(&["--requirepass", "right-password"]);
    let out = tempfile::tempdir().unwrap();
    let ep = format!("redis://:wrong-password@127.0.0.1:{}", redis.port);
    let started = Instant::now();
    let o = run_cmd(
        out.path(),
        &["--endpoint", &ep, "--test-duration-seconds", "30"],
    )
    .output()
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'endpoint'") && stderr.contains("refused"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-password")
            && !String::from_utf8_lossy(&o.stdout).contains("wrong-password")
    );
}

#[test]
fn the_right_password_works() {
    let redis = TestRedis::start(&["--requirepass", "s3cret-pw"]);
    let out = tempfile::tempdir().unwrap();
    let ep = format!("redis://:s3cret-pw@127.0.0.1:{}", redis.port);
    let o = run_cmd(
        out.path(),
        &[
            "--endpoint",
            &ep,
            "--test-duration-seconds",
            "3",
            "--threads",
            "1",
            "--clients",
            "2",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for entry in walk(out.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(
            !text.contains("s3cret-pw"),
            "{} leaks the password",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_server_that_dies_mid_run_fails_the_run_and_keeps_the_measurements() {
    let mut redis = TestRedis::start(&[]);
    let out = tempfile::tempdir().unwrap();
    let ep = format!("redis://127.0.0.1:{}", redis.port);
    let child = spawn_cmd(
        out.path(),
        &[
            "--endpoint",
            &ep,
            "--test-duration-seconds",
            "30",
            "--threads",
            "1",
            "--clients",
            "4",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run did not stop soon after the server died"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    let r = results(out.path());
    assert_valid(&r);
    assert_eq!(r["status"], "failed");
    assert!(
        r["notes"][0].as_str().unwrap().contains("run failed"),
        "{}",
        r["notes"]
    );
    let measured: u64 = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["total"]["count"].as_u64().unwrap())
        .sum();
    assert!(
        measured > 0,
        "what was measured before the server died is kept"
    );
}

#[test]
fn ctrl_c_stops_the_run_keeps_results_and_stops_the_server() {
    let out = tempfile::tempdir().unwrap();
    let mut child = spawn_cmd(
        out.path(),
        &[
            "--test-duration-seconds",
            "60",
            "--threads",
            "1",
            "--clients",
            "2",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?} to stop",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let r = results(out.path());
    let port = u16::try_from(r["run"]["workload"]["port"].as_u64().unwrap()).unwrap();
    assert!(
        !listening(port),
        "the started server still runs after Ctrl-C"
    );
    assert!(r["tasks"][0]["total"]["count"].as_u64().unwrap() > 0);
}
