//! Synthetic `results.json` documents for the gate's unit tests (compiled in tests only).

// Synthetic rates are small positive numbers; truncating them to whole ops is the point.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use serde_json::json;

use crate::results::RunResult;

/// First series second of a synthetic run.
pub(crate) const T0: u64 = 1_000_000;

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// A local builtin run whose steady state is exactly the given per-second total throughput and
/// p99 (ms). p50 is p99 / 4 and p99.9 is p99 · 2, each second and overall; GET:SET is 10:1 and
/// both commands have the total's latency. The window covers every second.
pub(crate) fn run_with(ops: &[f64], p99: &[f64]) -> RunResult {
    let n = ops.len() as u64;
    let series: Vec<_> = ops
        .iter()
        .zip(p99.iter().chain(std::iter::repeat(&p99[p99.len() - 1])))
        .enumerate()
        .map(|(i, (&o, &l))| {
            let get = (o * 10.0 / 11.0).round();
            json!({
                "t": T0 + i as u64, "ops_per_sec": o as u64,
                "commands": {"get": get as u64, "set": (o - get) as u64},
                "kb_per_sec": 0.0, "mean_latency_ms": l / 3.0, "max_latency_ms": l * 4.0,
                "p50_ms": l / 4.0, "p99_ms": l, "p99_9_ms": l * 2.0, "tasks": 1
            })
        })
        .collect();
    let (o, l) = (mean(ops), mean(p99));
    let stats = |ops: f64| {
        json!({
            "count": (ops * n as f64) as u64, "ops_per_sec": ops, "hits_per_sec": null,
            "misses_per_sec": null, "kb_per_sec": null,
            "latency_ms": {"mean": l / 3.0, "p50": l / 4.0, "p90": l / 2.0, "p99": l,
                           "p99_9": l * 2.0, "p99_99": l * 3.0, "max": l * 4.0}
        })
    };
    let doc = json!({
        "schema": "elasticache-perf/result/v1",
        "tool": {"name": "elasticache-perf", "version": "0.1.0"},
        "status": "ok",
        "run": {
            "id": "synthetic", "target": "local", "load_generator": "elasticache-perf builtin 0.1.0",
            "task_count": 1, "started_at": "2001-09-09T01:46:40.000Z",
            "workload": {"clients": 4, "data_size": 32, "key_maximum": 100000, "key_minimum": 0,
                         "key_pattern": "R:R", "pipeline": 1, "port": 40327, "protocol": "resp2",
                         "ratio": "1:10", "server": "127.0.0.1", "test_time_secs": 12, "threads": 1, "tls": false},
            "details": {"engine": "redis", "engine_version": "redis 7.0.15", "load_generator": "builtin"}
        },
        "whole_run": {"total": stats(o), "commands": {}, "latency_exact": true},
        "steady_state": {
            "window": {"start": null, "end": null, "start_unix_ms": T0 * 1000,
                       "end_unix_ms": (T0 + n) * 1000, "duration_secs": n as f64,
                       "warmup_secs": 0, "rampdown_secs": 0, "method": "synthetic"},
            "latency_scope": "window",
            "total": stats(o),
            "commands": {"get": stats(o * 10.0 / 11.0), "set": stats(o / 11.0)}
        },
        "series": series, "tasks": [], "histograms": {}, "notes": []
    });
    serde_json::from_value(doc).expect("synthetic run")
}

/// [`run_with`] with a run id and a start time `i` minutes after the first.
pub(crate) fn nth_run(i: usize, ops: &[f64], p99: &[f64]) -> RunResult {
    let mut r = run_with(ops, p99);
    r.run.id = Some(format!("run-{i:03}"));
    r.run.started_at = Some(format!(
        "2001-09-09T{:02}:{:02}:00.000Z",
        2 + i / 60,
        i % 60
    ));
    r
}

/// A constant run: `secs` seconds of `ops` ops/s at `p99` ms, with a tiny deterministic ripple so
/// that batch means have a non-zero, known spread (±`ripple` relative, alternating by second).
pub(crate) fn steady(ops: f64, p99: f64, secs: usize, ripple: f64) -> RunResult {
    let sign = |i: usize| if i.is_multiple_of(2) { 1.0 } else { -1.0 };
    let o: Vec<f64> = (0..secs).map(|i| ops * (1.0 + ripple * sign(i))).collect();
    let l: Vec<f64> = (0..secs).map(|i| p99 * (1.0 + ripple * sign(i))).collect();
    run_with(&o, &l)
}
