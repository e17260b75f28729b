//! `analyze` at the command line: bad input gets a clear error naming the path (exit 2), other
//! output forms (stdout only, combined log, single files) are read, and secrets never leak.

#![allow(clippy::unwrap_used)]

use crate::common;
use common::*;

#[test]
fn missing_path_is_named() {
    let (code, _, stderr, r) = analyze(&[fixtures().join("no-such-folder")]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no-such-folder") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(r.is_none());
}

#[test]
fn empty_folder_is_named() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, stderr, _) = analyze(&[d.path().to_path_buf()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&d.path().display().to_string())
            && stderr.contains("holds no memtier output"),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_memtier_output_is_named() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("notes.txt");
    std::fs::write(&f, "hello\nworld\n").unwrap();
    let (code, _, stderr, _) = analyze(std::slice::from_ref(&f));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not memtier output"),
        "{stderr}"
    );

    let j = d.path().join("other.json");
    std::fs::write(&j, r#"{"hello": 1}"#).unwrap();
    let (code, _, stderr, _) = analyze(&[j]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("other.json") && stderr.contains("not memtier output"),
        "{stderr}"
    );
}

#[test]
fn single_files_are_tasks() {
    let (code, _, stderr, r) = analyze(&[
        fixtures().join("multi/task-1/memtier.json"),
        fixtures().join("multi/task-2/memtier.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let r = r.unwrap();
    let ids: Vec<&str> = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["task-1/memtier.json", "task-2/memtier.json"]);
}

#[test]
fn stdout_only_falls_back_to_the_table() {
    let (code, _, _, r) = analyze(&[fixtures().join("single/stdout.txt")]);
    assert_eq!(code, 0);
    let r = r.unwrap();
    assert_valid(&r);
    let mj = memtier_json(&fixtures().join("single"));
    let total = &r["whole_run"]["total"];
    assert_eq!(total["ops_per_sec"], mj["ALL STATS"]["Totals"]["Ops/sec"]);
    // The table's own percentiles, to its 5 printed decimals.
    assert_eq!(total["latency_ms"]["p99"], 6.143);
    assert_eq!(r["tasks"][0]["source"], "memtier_stdout");
    assert_eq!(r["whole_run"]["latency_exact"], false);
}

#[test]
fn combined_container_log_is_read() {
    let (code, _, _, r) = analyze(&[fixtures().join("single-combined")]);
    assert_eq!(code, 0);
    let r = r.unwrap();
    assert_valid(&r);
    let combined =
        std::fs::read_to_string(fixtures().join("single-combined/combined.txt")).unwrap();
    let totals = combined.lines().find(|l| l.starts_with("Totals")).unwrap();
    let ops: f64 = totals.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(
        r["whole_run"]["total"]["ops_per_sec"].as_f64().unwrap(),
        ops
    );
    assert!(
        !r["series"].as_array().unwrap().is_empty() || r["tasks"][0]["source"] == "memtier_stdout"
    );
}

#[test]
fn passwords_never_reach_any_output() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("analyze")
        .arg(fixtures().join("tls-or-auth"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    for secret in ["s3cretpw", "tlspw123"] {
        assert!(!results.contains(secret), "results.json leaks {secret}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains(secret));
        assert!(!String::from_utf8_lossy(&o.stderr).contains(secret));
    }
    let r: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(r["run"]["workload"]["authenticated"], true);
}

#[test]
fn a_parent_of_several_task_folders_is_expanded() {
    let (code, _, _, r) = analyze(&[fixtures().join("tls-or-auth")]);
    assert_eq!(code, 0);
    let r = r.unwrap();
    let ids: Vec<&str> = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["auth", "tls-auth"]);
}

#[test]
fn analyze_writes_reports_and_report_re_renders_them() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("analyze")
        .arg(fixtures().join("multi"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "results.json",
        "summary.md",
        "chart.png",
        "metrics/analyze-client.csv",
    ] {
        assert!(out.path().join(f).exists(), "{f}");
    }
    let again = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("report")
        .arg("--results")
        .arg(out.path().join("results.json"))
        .arg("--out")
        .arg(again.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    let b = std::fs::read_to_string(again.path().join("summary.md")).unwrap();
    assert_eq!(a, b, "re-rendering gives the same summary");
    assert!(again.path().join("chart.png").exists());

    let bad = again.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let o = bin()
        .arg("report")
        .arg("--results")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.json"));
}
