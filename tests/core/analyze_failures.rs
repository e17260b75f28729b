//! Every `failure/` fixture yields the right task status and a reason a person understands, and a
//! failed task never surfaces a plausible-looking number.

#![allow(clippy::unwrap_used)]

use crate::common;
use common::*;

fn run(case: &str) -> (i32, String, serde_json::Value) {
    let (code, stdout, stderr, r) = analyze(&[fixtures().join("failure").join(case)]);
    let r = r.unwrap_or_else(|| panic!("{case}: no results.json; stderr: {stderr}"));
    assert_valid(&r);
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    (code, stdout, r)
}

fn assert_failed(case: &str, words: &[&str]) {
    let (code, stdout, r) = run(case);
    assert_eq!(code, 3, "{case}: a run with no usable task exits 3");
    assert_eq!(r["status"], "failed", "{case}");
    let task = &r["tasks"][0];
    assert_eq!(task["status"], "failed", "{case}");
    let reason = task["reason"].as_str().unwrap();
    for w in words {
        assert!(
            reason.contains(w),
            "{case}: reason '{reason}' should mention '{w}'"
        );
    }
    for view in ["whole_run", "steady_state"] {
        let total = &r[view]["total"];
        assert!(
            total["ops_per_sec"].is_null(),
            "{case}: {view} ops/s must be null, got {total}"
        );
        for f in ["mean", "p50", "p99", "p99_9", "max"] {
            assert!(
                total["latency_ms"][f].is_null(),
                "{case}: {view} {f} must be null"
            );
        }
    }
    assert!(
        task["total"]["ops_per_sec"].is_null(),
        "{case}: a failed task shows no rate"
    );
    assert!(stdout.contains(reason), "{case}: the reason is printed");
    assert!(r["histograms"].as_object().unwrap().is_empty());
}

#[test]
fn connection_refused_fails() {
    assert_failed(
        "conn-refused",
        &["no operations completed", "connection refused"],
    );
}

#[test]
fn wrong_password_fails() {
    assert_failed(
        "wrong-password",
        &["authentication failed", "killed (exit 137)"],
    );
}

#[test]
fn noauth_fails_although_memtier_printed_normal_numbers() {
    assert_failed("noauth", &["20 of 20 replies were errors", "NOAUTH"]);
}

#[test]
fn sigterm_fails_and_mentions_the_lost_summary() {
    assert_failed("terminated-sigterm", &["SIGTERM (exit 143)", "truncated"]);
}

#[test]
fn server_killed_fails() {
    assert_failed("server-killed", &["no operations completed"]);
}

#[test]
fn interrupted_run_is_degraded_and_kept() {
    let (code, _, r) = run("interrupted-sigint");
    assert_eq!(code, 0);
    assert_eq!(r["status"], "degraded");
    let task = &r["tasks"][0];
    assert_eq!(task["status"], "degraded");
    let reason = task["reason"].as_str().unwrap();
    assert!(
        reason.contains("interrupted after 4.0 s of a 30 s run"),
        "{reason}"
    );
    // Its numbers are memtier's own.
    let mj = memtier_json(&fixtures().join("failure/interrupted-sigint"));
    assert_eq!(
        r["whole_run"]["total"]["ops_per_sec"],
        mj["ALL STATS"]["Totals"]["Ops/sec"]
    );
}

#[test]
fn reconnects_are_degraded_with_the_restart_explained() {
    let (code, _, r) = run("server-restarted-reconnect");
    assert_eq!(code, 0);
    let task = &r["tasks"][0];
    assert_eq!(task["status"], "degraded");
    let reason = task["reason"].as_str().unwrap();
    assert!(reason.contains("thread restart"), "{reason}");
    assert!(reason.contains("cover only part of the run"), "{reason}");
    let kinds: Vec<&str> = task["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"connection_dropped"), "{kinds:?}");
}

#[test]
fn one_failed_task_among_good_ones_is_left_out_of_the_merge() {
    let (code, stdout, _, r) = analyze(&[
        fixtures().join("multi/task-1"),
        fixtures().join("multi/task-2"),
        fixtures().join("failure/conn-refused"),
    ]);
    assert_eq!(code, 0, "{stdout}");
    let r = r.unwrap();
    assert_valid(&r);
    assert_eq!(r["status"], "degraded");
    let want: f64 = ["task-1", "task-2"]
        .iter()
        .map(|t| {
            memtier_json(&fixtures().join("multi").join(t))["ALL STATS"]["Totals"]["Ops/sec"]
                .as_f64()
                .unwrap()
        })
        .sum();
    assert!(close(
        r["whole_run"]["total"]["ops_per_sec"].as_f64().unwrap(),
        want,
        0.005
    ));
    assert!(r["notes"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .contains("1 of 3 load generators failed")));
}
