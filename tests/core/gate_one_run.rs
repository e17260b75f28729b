//! The gate against a one-run baseline on real runs: two runs of one configuration whose
//! throughput differs by about 20 % by chance are *inconclusive*, not *regressed* — their latency
//! moved with their throughput, as a closed loop must (docs/gate.md, "Latency against one run") —
//! on the built-in generator (`tests/fixtures/gate-one-run/`) and on memtier (`multi/`: concurrent
//! generators of one command line, each analysed as its own run); and a real slowdown (replies
//! held 1 ms longer: −35 % throughput) against one of those runs is still *regressed*.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use elasticache_perf::gate::{
    compare, Baseline, Comparison, GateConfig, Metric, NoiseMethod, Verdict,
};
use elasticache_perf::results::RunResult;

use crate::gate_support;
use gate_support::outcome;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(p: &Path) -> RunResult {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn pinned(r: RunResult) -> Baseline {
    Baseline {
        source: "pinned".into(),
        runs: vec![r],
        notes: Vec::new(),
    }
}

fn total(c: &Comparison, m: Metric) -> &elasticache_perf::gate::MetricComparison {
    c.metrics
        .iter()
        .find(|x| x.scope == "total" && x.metric == m)
        .unwrap()
}

/// `compare` exits 0 and says inconclusive; no metric regressed; the latency intervals are at
/// least as wide as the throughput's and name their noise source.
fn assert_inconclusive(c: &Comparison) {
    let all = serde_json::to_string_pretty(c).unwrap();
    assert_eq!(c.verdict, Verdict::Inconclusive, "{all}");
    assert!(
        c.metrics.iter().all(|m| m.verdict != Verdict::Regressed),
        "{all}"
    );
    let width = |m: Metric| {
        let i = total(c, m).interval.unwrap();
        (1.0 + i.high_pct / 100.0).ln() - (1.0 + i.low_pct / 100.0).ln()
    };
    for m in [Metric::LatencyP50, Metric::LatencyP99, Metric::LatencyP999] {
        assert!(
            width(m) >= width(Metric::Throughput) - 1e-12,
            "{m:?}: {all}"
        );
        assert!(
            matches!(
                total(c, m).method,
                NoiseMethod::BatchMeans | NoiseMethod::MeanLatency | NoiseMethod::ClosedLoop
            ),
            "{m:?}: {all}"
        );
    }
}

#[test]
fn two_real_builtin_runs_twenty_percent_apart_are_inconclusive() {
    let dir = fixtures().join("gate-one-run");
    let (a, b) = (
        dir.join("run-2/results.json"),
        dir.join("run-4/results.json"),
    );
    let c = compare(&load(&b), &pinned(load(&a)), &GateConfig::default());
    let t = total(&c, Metric::Throughput).change_pct.unwrap();
    assert!((-25.0..=-15.0).contains(&t), "throughput {t:+.1} %");
    // The latency moved against the throughput (a closed loop): p50 rose by more than 15 %.
    let p50 = total(&c, Metric::LatencyP50).change_pct.unwrap();
    assert!(p50 > 15.0, "p50 {p50:+.1} %");
    assert_inconclusive(&c);

    // The same through the binary: exit 0 (no regression), and the noise source is named.
    let mut cmd = Command::cargo_bin("elasticache-perf").unwrap();
    cmd.env_remove("RUST_LOG")
        .args(["compare", "--current"])
        .arg(&b)
        .arg("--baseline")
        .arg(&a);
    let (code, stdout, stderr) = outcome(&mut cmd);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("gate: INCONCLUSIVE"), "{stdout}");
    assert!(stdout.contains("noise from"), "{stdout}");
}

#[test]
fn a_real_slowdown_against_one_real_run_is_regressed() {
    let dir = fixtures().join("gate-one-run");
    let c = compare(
        &load(&dir.join("slowed/results.json")),
        &pinned(load(&dir.join("run-2/results.json"))),
        &GateConfig::default(),
    );
    let all = elasticache_perf::gate::text(&c);
    assert_eq!(c.verdict, Verdict::Regressed, "{all}");
    let t = total(&c, Metric::Throughput);
    assert!(t.change_pct.unwrap() < -30.0, "{all}");
    assert_eq!(t.verdict, Verdict::Regressed, "{all}");
    assert_eq!(
        total(&c, Metric::LatencyP50).verdict,
        Verdict::Regressed,
        "{all}"
    );
}

/// memtier's `multi/` tasks analysed one by one: three runs of one command line.
fn memtier_run(task: u32, out: &Path) -> RunResult {
    let o = out.join(format!("task-{task}"));
    let mut cmd = Command::cargo_bin("elasticache-perf").unwrap();
    cmd.env_remove("RUST_LOG")
        .arg("analyze")
        .arg(fixtures().join(format!("memtier/multi/task-{task}")))
        .arg("--out")
        .arg(&o)
        .arg("--no-reports");
    let (code, stdout, stderr) = outcome(&mut cmd);
    assert_eq!(code, 0, "{stdout}{stderr}");
    load(&o.join("results.json"))
}

#[test]
fn two_real_memtier_runs_far_apart_by_chance_are_inconclusive() {
    let d = tempfile::tempdir().unwrap();
    let (slow, fast) = (memtier_run(1, d.path()), memtier_run(2, d.path()));
    let c = compare(&slow, &pinned(fast), &GateConfig::default());
    let t = total(&c, Metric::Throughput).change_pct.unwrap();
    assert!(t < -20.0, "throughput {t:+.1} %");
    // memtier has no per-second percentiles: the mean latency or the throughput carries the noise.
    for m in [Metric::LatencyP50, Metric::LatencyP99] {
        assert!(
            matches!(
                total(&c, m).method,
                NoiseMethod::MeanLatency | NoiseMethod::ClosedLoop
            ),
            "{m:?}: {:?}",
            total(&c, m)
        );
    }
    assert_eq!(
        c.verdict,
        Verdict::Inconclusive,
        "{}",
        elasticache_perf::gate::text(&c)
    );
    assert!(c.metrics.iter().all(|m| m.verdict != Verdict::Regressed));
}
