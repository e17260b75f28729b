//! The workspace as later steps see it. The runner starts a container action as root while the
//! job's other steps run as the runner's user (uid 1001): these tests run as root with a
//! workspace owned by uid 1001 and find everything the action wrote there owned by 1001, after a
//! success, an error, an interrupt and a second signal. Paths outside the workspace (lost with the container) are
//! refused before anything runs, and so is a local Valkey the image cannot start.

#![allow(clippy::unwrap_used)]

use crate::action_harness;

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use action_harness::*;
use serde_json::json;

const NO_API: &str = "http://127.0.0.1:9";
/// The runner's user on GitHub-hosted runners.
const RUNNER: u32 = 1001;

/// A step whose workspace belongs to the runner's user, as on a runner.
fn runner_step() -> Step {
    let step = Step::new("push", &json!({}));
    std::os::unix::fs::chown(&step.workspace, Some(RUNNER), Some(RUNNER))
        .expect("these tests run as root (the action's container does): chown failed");
    step
}

/// Every entry under `dir`, symbolic links not followed.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// Everything in the workspace belongs to the runner; returns how many entries there are.
fn assert_owned_by_runner(step: &Step) -> usize {
    let all = entries(&step.workspace);
    for p in &all {
        let m = std::fs::symlink_metadata(p).unwrap();
        assert_eq!(
            (m.uid(), m.gid()),
            (RUNNER, RUNNER),
            "'{}' is not the runner's",
            p.display()
        );
    }
    all.len()
}

#[test]
fn what_the_action_writes_belongs_to_the_workspace_owner() {
    let step = runner_step();
    let o = step
        .main(
            &Step::local_inputs(
                "ecp-own-1",
                &[("output_dir", "perf/nested"), ("history_dir", "hist")],
            ),
            NO_API,
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let out = step.workspace.join("perf/nested");
    assert!(out.join("results.json").is_file() && out.join("chart.png").is_file());
    assert!(!entries(&step.workspace.join("hist")).is_empty());
    let n = assert_owned_by_runner(&step);
    assert!(n > 8, "only {n} entries written");
    // The next step, as the runner's user, can write into the folder (the fork example's
    // `echo "$PR" > perf/pr_number`): the folder is its own, with the owner's write bit.
    let m = std::fs::metadata(step.workspace.join("perf")).unwrap();
    assert!(m.mode() & 0o200 != 0);
}

#[test]
fn after_an_error_too() {
    let step = runner_step();
    // Nothing listens on port 1: the run fails after it made its output folder.
    let o = step
        .main(
            &Step::local_inputs("ecp-own-2", &[("endpoint", "redis://127.0.0.1:1")]),
            NO_API,
        )
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(step.out_dir().is_dir(), "{}", text(&o).1);
    assert!(assert_owned_by_runner(&step) >= 1);
}

#[test]
fn after_an_interrupt_too() {
    let step = runner_step();
    let mut child = step
        .main(
            &Step::local_inputs("ecp-own-3", &[("test_duration_seconds", "60")]),
            NO_API,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !step.out_dir().is_dir() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(step.out_dir().join("results.json").is_file());
    assert_owned_by_runner(&step);
}

#[test]
fn after_a_second_signal_too() {
    // The second signal abandons the run at once; `main` still hands the workspace back.
    let step = runner_step();
    let log = step.dir.path().join("stderr.txt");
    let mut child = step
        .main(
            &Step::local_inputs("ecp-own-4", &[("test_duration_seconds", "60")]),
            NO_API,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let saw = |what: &str, secs: u64| {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(secs) {
            if step.read(&log).contains(what) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    assert!(saw("::group::load", 30), "{}", step.read(&log));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    assert!(saw("SIGINT received: stopping", 10), "{}", step.read(&log));
    // Another kind of signal: two of the same kind may be coalesced into one.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    let stderr = step.read(&log);
    assert!(
        stderr.contains("SIGTERM received again: exiting now"),
        "the second signal was not handled before the run ended:\n{stderr}"
    );
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(step.out_dir().is_dir());
    assert!(assert_owned_by_runner(&step) >= 1);
}

#[test]
fn paths_outside_the_workspace_are_refused_before_anything_runs() {
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("perf");
    let outside = outside.to_str().unwrap();
    for (input, value) in [
        ("output_dir", outside),
        ("history_dir", "../history"),
        ("baseline", outside),
    ] {
        let step = Step::new("push", &json!({}));
        let o = step
            .main(&Step::local_inputs("ecp-ws-1", &[(input, value)]), NO_API)
            .output()
            .unwrap();
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{input}: {stderr}");
        assert!(
            stderr.contains(&format!("input '{input}' is outside the workspace '"))
                && stderr.contains("lost when its container ends")
                && stderr.contains(&format!("got '{value}'")),
            "{stderr}"
        );
        assert!(!Path::new(outside).exists() && !step.out_dir().exists());
    }
    // The publish command's results.json too.
    let step = Step::new("push", &json!({}));
    let o = step
        .main(&[("command", "publish"), ("results_path", outside)], NO_API)
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input 'results_path' is outside the workspace"));
}

#[test]
fn a_local_valkey_without_valkey_server_is_refused_and_endpoint_is_named() {
    // A PATH like the image's: redis-server, no valkey-server.
    let bin = tempfile::tempdir().unwrap();
    let redis = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
        .expect("redis-server must be installed for the local-target tests");
    std::os::unix::fs::symlink(redis, bin.path().join("redis-server")).unwrap();
    let step = Step::new("push", &json!({}));
    let o = step
        .main(
            &Step::local_inputs("ecp-vk-1", &[("engine_type", "valkey")]),
            NO_API,
        )
        .env("PATH", bin.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("input 'engine_type' is 'valkey' on the local target")
            && stderr.contains("no valkey-server")
            && stderr.contains("input 'endpoint'"),
        "{stderr}"
    );
    assert!(!step.out_dir().exists());
}
