//! Three concurrent tasks (`multi/`): merged percentiles are those of the three histograms added
//! together (memtier's way), whole-run ops/s is the sum of the tasks' ops/s, and steady-state ops/s
//! is measured over the aligned window in which all three ran.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

use crate::common;
use common::*;

fn tasks() -> Vec<Value> {
    (1..=3)
        .map(|i| memtier_json(&fixtures().join(format!("multi/task-{i}"))))
        .collect()
}

#[test]
fn merged_percentiles_are_those_of_the_summed_histograms() {
    let (code, stdout, _, r) = analyze(&[fixtures().join("multi")]);
    assert_eq!(code, 0);
    let r = r.unwrap();
    assert_valid(&r);
    assert_eq!(r["tasks"].as_array().unwrap().len(), 3);
    assert!(stdout.contains("status: ok"), "{stdout}");
    for (type_name, key) in [
        ("Totals", None),
        ("Gets", Some("get")),
        ("Sets", Some("set")),
    ] {
        let mut sum: Option<hdrhistogram::Histogram<u64>> = None;
        for t in tasks() {
            let h = decode(
                t["ALL STATS"][type_name]["Percentile Latencies"]["Histogram log format"]
                    ["Compressed Histogram"]
                    .as_str()
                    .unwrap(),
            );
            match &mut sum {
                None => sum = Some(h),
                Some(s) => s.add(&h).unwrap(),
            }
        }
        let sum = sum.unwrap();
        let ours = match key {
            None => &r["whole_run"]["total"],
            Some(k) => &r["whole_run"]["commands"][k],
        };
        for (field, p) in [
            ("p50", 50.0),
            ("p90", 90.0),
            ("p99", 99.0),
            ("p99_9", 99.9),
            ("p99_99", 99.99),
        ] {
            assert_eq!(
                ours["latency_ms"][field].as_f64().unwrap(),
                c_pct_ms(&sum, p),
                "{type_name} {field}"
            );
        }
        assert_eq!(
            ours["latency_ms"]["max"].as_f64().unwrap(),
            sum.max() as f64 / 1000.0
        );
    }
    // The figures worked out by hand when the formats were documented.
    let total = &r["whole_run"]["total"]["latency_ms"];
    assert_eq!(total["p50"], 0.151);
    assert_eq!(total["p99"], 6.719);
    assert_eq!(total["p99_9"], 12.351);
    assert_eq!(total["max"], 22.527);
}

#[test]
fn whole_run_rates_are_the_sums_of_the_tasks_own_rates() {
    let (_, _, _, r) = analyze(&[fixtures().join("multi")]);
    let r = r.unwrap();
    let ts = tasks();
    for (type_name, field, path) in [
        ("Totals", "Ops/sec", "ops_per_sec"),
        ("Totals", "Hits/sec", "hits_per_sec"),
        ("Totals", "Misses/sec", "misses_per_sec"),
        ("Totals", "KB/sec", "kb_per_sec"),
    ] {
        let want: f64 = ts
            .iter()
            .map(|t| t["ALL STATS"][type_name][field].as_f64().unwrap())
            .sum();
        let got = r["whole_run"]["total"][path].as_f64().unwrap();
        assert!(close(got, want, 0.005), "{field}: {got} vs Σ {want}");
    }
    let count: u64 = ts
        .iter()
        .map(|t| t["ALL STATS"]["Totals"]["Count"].as_u64().unwrap())
        .sum();
    assert_eq!(r["whole_run"]["total"]["count"].as_u64().unwrap(), count);
}

#[test]
fn steady_state_is_measured_over_the_window_where_all_three_ran() {
    let (_, _, _, r) = analyze(&[fixtures().join("multi")]);
    let r = r.unwrap();
    let w = &r["steady_state"]["window"];
    let (w0, w1) = (
        w["start_unix_ms"].as_u64().unwrap(),
        w["end_unix_ms"].as_u64().unwrap(),
    );
    assert!(w1 > w0 + 2000, "window too short: {w}");
    let mut expected = 0.0;
    for t in tasks() {
        let rt = &t["ALL STATS"]["Runtime"];
        let start = rt["Start time"].as_u64().unwrap();
        let end = rt["Finish time"].as_u64().unwrap();
        assert!(
            start <= w0 && w1 <= end,
            "window [{w0},{w1}] not inside task run [{start},{end}]"
        );
        // Whole seconds of this task inside the window; a second missing from Time-Serie counts 0.
        let series = t["ALL STATS"]["Totals"]["Time-Serie"].as_object().unwrap();
        let ks: Vec<u64> = (0..100)
            .filter(|k| start + 1000 * k >= w0 && start + 1000 * (k + 1) <= w1)
            .collect();
        assert!(!ks.is_empty());
        let n: u64 = ks
            .iter()
            .filter_map(|k| series.get(&k.to_string()))
            .map(|s| s["Count"].as_u64().unwrap())
            .sum();
        expected += n as f64 / ks.len() as f64;
    }
    let got = r["steady_state"]["total"]["ops_per_sec"].as_f64().unwrap();
    assert!(
        close(got, expected, 0.01),
        "steady-state ops/s {got} vs {expected}"
    );
    // The first task started ~0.8 s before the last: the window starts after the last start.
    let last_start = tasks()
        .iter()
        .map(|t| t["ALL STATS"]["Runtime"]["Start time"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        w0 >= last_start + 1000,
        "warm-up must be trimmed after the last task started"
    );
    assert!(!w["method"].as_str().unwrap().is_empty());
    assert_eq!(r["steady_state"]["latency_scope"], "whole_run");
}

#[test]
fn series_are_aligned_on_wall_clock_seconds() {
    let (_, _, _, r) = analyze(&[fixtures().join("multi")]);
    let r = r.unwrap();
    let series = r["series"].as_array().unwrap();
    let total: u64 = series
        .iter()
        .map(|p| p["ops_per_sec"].as_u64().unwrap())
        .sum();
    assert_eq!(total, r["whole_run"]["total"]["count"].as_u64().unwrap());
    let mut expected = std::collections::BTreeMap::<u64, u64>::new();
    for t in tasks() {
        let start = t["ALL STATS"]["Runtime"]["Start time"].as_u64().unwrap();
        for (k, s) in t["ALL STATS"]["Totals"]["Time-Serie"].as_object().unwrap() {
            let k: u64 = k.parse().unwrap();
            *expected.entry((start + 1000 * k) / 1000).or_default() += s["Count"].as_u64().unwrap();
        }
    }
    for p in series {
        assert_eq!(
            p["ops_per_sec"].as_u64().unwrap(),
            expected[&p["t"].as_u64().unwrap()]
        );
        assert!(
            p["p99_ms"].is_null(),
            "memtier's per-second percentiles are approximations: left out"
        );
    }
}
