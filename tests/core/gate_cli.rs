//! `compare` end to end through the binary: exit codes (0 pass, 1 regression, 2 bad input or
//! profile mismatch), baselines from a file, a folder and a local history (with corrupt and
//! foreign objects), the JSON/markdown outputs and the chart and trend pictures.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use elasticache_perf::history::{read_runs, store_run, Buckets, LocalDirStore};
use elasticache_perf::results::RunResult;
use serde_json::{json, Value};

use crate::gate_support;
use gate_support::{outcome, run, write, QUIET};

/// A folder of six quiet baseline runs.
fn history_folder(dir: &Path) -> PathBuf {
    let h = dir.join("history");
    for (i, ops) in QUIET.iter().enumerate() {
        write(
            &h,
            &format!("{i}/results.json"),
            &run(&format!("base-{i}"), i as u32, *ops, 1.0, 30),
        );
    }
    h
}

fn compare(current: &Path, baseline: &Path) -> Command {
    let mut c = Command::cargo_bin("elasticache-perf").unwrap();
    // The history's default branch comes from these: a test sets what it means.
    for v in ["GITHUB_BASE_REF", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"] {
        c.env_remove(v);
    }
    c.env_remove("RUST_LOG")
        .arg("compare")
        .arg("--current")
        .arg(current)
        .arg("--baseline")
        .arg(baseline);
    c
}

fn fails_with(c: &mut Command, needle: &str) {
    let (code, _, stderr) = outcome(c);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

#[test]
fn a_regression_exits_1_unless_told_not_to_fail() {
    let d = tempfile::tempdir().unwrap();
    let base = history_folder(d.path());
    let cur = write(d.path(), "cur.json", &run("cur", 30, 8_000.0, 1.0, 30));
    let out = compare(&cur, &base)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("gate: REGRESSED: regressed: total ops/s -20.2 %"),
        "{text}"
    );
    assert!(text.contains("baseline: median of 6 runs from"), "{text}");
    compare(&cur, &base)
        .args(["--fail-on-regression", "false"])
        .assert()
        .code(0);
}

#[test]
fn a_run_like_its_baseline_passes_and_writes_its_outputs() {
    let d = tempfile::tempdir().unwrap();
    let base = history_folder(d.path());
    let cur = write(d.path(), "cur.json", &run("cur", 30, 10_010.0, 1.0, 30));
    let (j, m) = (d.path().join("out/gate.json"), d.path().join("out/gate.md"));
    compare(&cur, &base)
        .arg("--json-out")
        .arg(&j)
        .arg("--markdown-out")
        .arg(&m)
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert_eq!(v["verdict"], "no_change");
    assert_eq!(v["baseline"]["runs"], 6);
    let md = std::fs::read_to_string(&m).unwrap();
    assert!(
        md.starts_with("### Regression gate\n\n✅ **no change**"),
        "{md}"
    );
}

#[test]
fn pictures_are_drawn_where_asked() {
    let d = tempfile::tempdir().unwrap();
    let base = history_folder(d.path());
    let cur = write(d.path(), "cur.json", &run("cur", 30, 8_000.0, 1.0, 30));
    let (chart, trend) = (
        d.path().join("pics/chart.png"),
        d.path().join("pics/trend.png"),
    );
    compare(&cur, &base)
        .args(["--fail-on-regression", "false", "--chart-out"])
        .arg(&chart)
        .arg("--trend-out")
        .arg(&trend)
        .assert()
        .code(0);
    let baseline = elasticache_perf::report::chart::BASELINE;
    let img = image::open(&chart).unwrap().to_rgb8();
    assert!(
        img.pixels()
            .filter(|p| p.0 == [baseline.0, baseline.1, baseline.2])
            .count()
            > 500,
        "the baseline is drawn over the chart"
    );
    let t = image::open(&trend).unwrap();
    assert_eq!(
        (t.width(), t.height()),
        elasticache_perf::report::trend_chart::DEFAULT_SIZE
    );
    // A pinned baseline has no trend: nothing is written, and stderr says why.
    let pinned = base.join("0/results.json");
    let lone = d.path().join("lone/trend.png");
    let (code, _, stderr) = outcome(
        compare(&cur, &pinned)
            .args(["--fail-on-regression", "false", "--trend-out"])
            .arg(&lone),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!lone.exists());
    assert!(stderr.contains("no trend to draw"), "{stderr}");
}

#[test]
fn history_runs_limits_the_baseline_to_the_newest() {
    let d = tempfile::tempdir().unwrap();
    let base = history_folder(d.path());
    let cur = write(d.path(), "cur.json", &run("cur", 30, 10_010.0, 1.0, 30));
    let out = compare(&cur, &base)
        .args(["--history-runs", "3", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["baseline"]["run_ids"],
        json!(["base-3", "base-4", "base-5"])
    );
}

#[test]
fn bad_input_exits_2_and_names_the_input() {
    let d = tempfile::tempdir().unwrap();
    let cur = write(d.path(), "cur.json", &run("cur", 30, 1.0, 1.0, 30));
    let missing = d.path().join("nope.json");
    fails_with(&mut compare(&missing, &cur), "input 'current': cannot read");
    fails_with(
        &mut compare(&cur, &missing),
        "input 'baseline': cannot read",
    );
    let corrupt = d.path().join("corrupt.json");
    std::fs::write(&corrupt, "{\"schema\": \"elasticache-perf/result/v1\"").unwrap();
    fails_with(
        &mut compare(&cur, &corrupt),
        "is not a readable results.json",
    );
    fails_with(
        &mut compare(&cur, Path::new("history")),
        "needs input 'metrics_export_s3_bucket'",
    );
    fails_with(
        compare(&cur, &cur).args(["--max-throughput-drop-pct", "lots"]),
        "input 'max_throughput_drop_pct'",
    );
}

#[test]
fn a_profile_mismatch_is_stated_and_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let mut other = run("base", 1, 10_000.0, 1.0, 30);
    other["run"]["workload"]["clients"] = json!(50);
    let base = write(d.path(), "base.json", &other);
    let cur = write(d.path(), "cur.json", &run("cur", 30, 5_000.0, 1.0, 30));
    let out = compare(&cur, &base)
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with(
            "gate: NOT COMPARED: not compared: the baseline's profile differs (workload"
        ),
        "{text}"
    );
    assert!(
        text.contains("profile: workload differs: baseline 'threads=1 clients=50"),
        "{text}"
    );
    // Asked to compare anyway: compared, and the mismatch is still stated.
    let out = compare(&cur, &base)
        .args(["--allow-profile-mismatch", "true"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("note: compared despite a profile mismatch"),
        "{text}"
    );
}

#[test]
fn a_folder_survives_corrupt_and_foreign_files() {
    let d = tempfile::tempdir().unwrap();
    let base = history_folder(d.path());
    std::fs::write(base.join("broken.json"), "not json at all").unwrap();
    write(&base, "other.json", &json!({"schema": "someone-else/v3"}));
    let cur = write(d.path(), "cur.json", &run("cur", 30, 10_010.0, 1.0, 30));
    let out = compare(&cur, &base)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["baseline"]["runs"], 6);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("broken.json' is not a readable results.json"),
        "{notes}"
    );
    assert!(notes.contains("has schema 'someone-else/v3'"), "{notes}");
}

#[test]
fn a_local_history_stores_lists_and_picks_the_baseline() {
    let d = tempfile::tempdir().unwrap();
    let store = LocalDirStore::new(d.path().join("store"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut prefix = String::new();
    for (i, ops) in QUIET.iter().enumerate() {
        let r: RunResult =
            serde_json::from_value(run(&format!("h-{i}"), i as u32, *ops, 1.0, 30)).unwrap();
        let key = rt.block_on(store_run(&store, &r, "main")).unwrap();
        assert!(
            key.starts_with("history/redis-redis_7.0.15_local_standalone_"),
            "{key}"
        );
        assert!(
            key.ends_with(&format!("/main/20231114T22{i:02}00.000Z-h-{i}.json")),
            "{key}"
        );
        prefix = key.rsplit_once('/').unwrap().0.to_string() + "/";
    }
    // A newer corrupt object and a foreign one: skipped with warnings, older runs fill in.
    std::fs::write(
        d.path()
            .join("store")
            .join(&prefix)
            .join("20991231T000000.000Z-x.json"),
        "{",
    )
    .unwrap();
    write(
        &d.path().join("store").join(&prefix),
        "20991231T000001.000Z-y.json",
        &json!({"schema": 1}),
    );
    let (runs, warnings) = rt.block_on(read_runs(&store, &prefix, 4)).unwrap();
    let ids: Vec<_> = runs.iter().map(|r| r.run.id.clone().unwrap()).collect();
    assert_eq!(ids, ["h-2", "h-3", "h-4", "h-5"]);
    assert_eq!(warnings.len(), 2, "{warnings:?}");

    let cur = write(d.path(), "cur.json", &run("cur", 30, 8_000.0, 1.0, 30));
    // A PR into main: the default branch of the history is the PR's base.
    let out = compare(&cur, Path::new("history"))
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_REF_NAME", "7/merge")
        .arg("--history-dir")
        .arg(d.path().join("store"))
        .args(["--history-runs", "5", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["baseline"]["runs"], 5);
    assert_eq!(
        v["baseline"]["run_ids"],
        json!(["h-1", "h-2", "h-3", "h-4", "h-5"])
    );
    // A nightly run on main (no base ref): main's own history; given outright, the same.
    let mut nightly = compare(&cur, Path::new("history"));
    nightly.env("GITHUB_REF_NAME", "main");
    let mut given = compare(&cur, Path::new("history"));
    given.args(["--history-branch", "main"]);
    for mut c in [nightly, given] {
        let (code, stdout, stderr) = outcome(
            c.arg("--history-dir")
                .arg(d.path().join("store"))
                .args(["--fail-on-regression", "false"]),
        );
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("regressed"), "{stdout}");
    }
    // Outside Actions the default is `local`, where such runs are stored: nothing there here.
    let (code, stdout, _) = outcome(
        compare(&cur, Path::new("history"))
            .arg("--history-dir")
            .arg(d.path().join("store")),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("no usable baseline run"), "{stdout}");
    assert!(stdout.contains("/local/"), "{stdout}");
    // Another branch has no history: inconclusive, exit 0.
    let (code, stdout, _) = outcome(
        compare(&cur, Path::new("history"))
            .arg("--history-dir")
            .arg(d.path().join("store"))
            .args(["--history-branch", "release/1.x"]),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("no usable baseline run"), "{stdout}");
}

/// No bucket backend at all: a history that opens a bucket here is a bug.
struct NoBuckets;

impl Buckets for NoBuckets {
    type Store = LocalDirStore;

    async fn open(&self, bucket: &str) -> LocalDirStore {
        panic!("no bucket is configured, yet bucket '{bucket}' was opened")
    }
}

/// A bucket backend over local folders (one per bucket name): the history uses whatever backend
/// its caller hands it.
struct DirBuckets(PathBuf);

impl Buckets for DirBuckets {
    type Store = LocalDirStore;

    async fn open(&self, bucket: &str) -> LocalDirStore {
        LocalDirStore::new(self.0.join(bucket))
    }
}

#[test]
fn run_records_itself_and_gates_against_the_local_history() {
    use elasticache_perf::gate::{GateConfig, Verdict};
    use elasticache_perf::history::{gate_run, record_run, HistoryLocation};
    let d = tempfile::tempdir().unwrap();
    let location = HistoryLocation {
        bucket: None,
        dir: Some(d.path().join("store")),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (i, ops) in QUIET.iter().enumerate() {
        let r: RunResult =
            serde_json::from_value(run(&format!("r-{i}"), i as u32, *ops, 1.0, 30)).unwrap();
        let at = rt
            .block_on(record_run(&r, "main", &location, &NoBuckets))
            .unwrap()
            .unwrap();
        assert!(at.ends_with(&format!("-r-{i}.json")), "{at}");
    }
    let cur: RunResult = serde_json::from_value(run("cur", 30, 8_000.0, 1.0, 30)).unwrap();
    // No baseline asked for: no gate.
    let none = rt
        .block_on(gate_run(
            &cur,
            &GateConfig::default(),
            &location,
            &NoBuckets,
        ))
        .unwrap();
    assert!(none.is_none());
    let cfg = GateConfig {
        baseline: Some("history".into()),
        history_branch: Some("main".into()),
        ..GateConfig::default()
    };
    // Recording the current run first (as `run` may) does not make it its own baseline.
    rt.block_on(record_run(&cur, "main", &location, &NoBuckets))
        .unwrap();
    let c = rt
        .block_on(gate_run(&cur, &cfg, &location, &NoBuckets))
        .unwrap()
        .unwrap();
    assert_eq!(c.verdict, Verdict::Regressed);
    assert_eq!(c.baseline.runs, 6);
    assert!(c.notes.iter().any(|n| n.contains("current run itself")));
    // Nowhere to record: nothing happens.
    let nowhere = HistoryLocation::default();
    assert!(rt
        .block_on(record_run(&cur, "main", &nowhere, &NoBuckets))
        .unwrap()
        .is_none());
}

#[test]
fn a_bucket_history_goes_through_the_callers_backend() {
    use elasticache_perf::gate::{GateConfig, Verdict};
    use elasticache_perf::history::{gate_run, record_run, HistoryLocation};
    let d = tempfile::tempdir().unwrap();
    let buckets = DirBuckets(d.path().to_path_buf());
    let location = HistoryLocation {
        bucket: Some("perf-bucket".into()),
        // Ignored when a bucket is given.
        dir: Some(d.path().join("unused")),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (i, ops) in QUIET.iter().enumerate() {
        let r: RunResult =
            serde_json::from_value(run(&format!("r-{i}"), i as u32, *ops, 1.0, 30)).unwrap();
        let at = rt
            .block_on(record_run(&r, "main", &location, &buckets))
            .unwrap()
            .unwrap();
        let key = at.strip_prefix("s3://perf-bucket/").expect(&at);
        assert!(d.path().join("perf-bucket").join(key).is_file(), "{at}");
    }
    assert!(!d.path().join("unused").exists());
    let cur: RunResult = serde_json::from_value(run("cur", 30, 8_000.0, 1.0, 30)).unwrap();
    let cfg = GateConfig {
        baseline: Some("history".into()),
        history_branch: Some("main".into()),
        ..GateConfig::default()
    };
    let c = rt
        .block_on(gate_run(&cur, &cfg, &location, &buckets))
        .unwrap()
        .unwrap();
    assert_eq!(c.verdict, Verdict::Regressed);
    assert_eq!(c.baseline.runs, QUIET.len());
    assert!(
        c.baseline.source.contains("perf-bucket"),
        "{}",
        c.baseline.source
    );
}
