//! Shared by the gate's integration tests: synthetic results.json documents and command helpers.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

/// Run-to-run sd ≈ 0.55 %: quiet enough to resolve ±5 % at 95 % family-wise over 12 metrics.
pub const QUIET: [f64; 6] = [10_000.0, 10_080.0, 9_940.0, 10_050.0, 9_970.0, 10_060.0];

/// A synthetic builtin run: `secs` seconds at `ops` ops/s (±1 % alternating) and `p99` ms.
pub fn run(id: &str, minute: u32, ops: f64, p99: f64, secs: u64) -> Value {
    let t0 = 1_700_000_000 + u64::from(minute) * 60;
    let series: Vec<Value> = (0..secs)
        .map(|i| {
            let f = if i.is_multiple_of(2) { 1.01 } else { 0.99 };
            let o = ops * f;
            json!({"t": t0 + i, "ops_per_sec": o as u64,
                   "commands": {"get": (o * 10.0 / 11.0) as u64, "set": (o / 11.0) as u64},
                   "kb_per_sec": 0.0, "mean_latency_ms": p99 / 3.0, "max_latency_ms": p99 * 4.0,
                   "p50_ms": p99 * f / 4.0, "p99_ms": p99 * f, "p99_9_ms": p99 * f * 2.0, "tasks": 1})
        })
        .collect();
    let stats = |o: f64| {
        json!({"count": (o * secs as f64) as u64, "ops_per_sec": o, "hits_per_sec": null,
               "misses_per_sec": null, "kb_per_sec": null,
               "latency_ms": {"mean": p99 / 3.0, "p50": p99 / 4.0, "p90": p99 / 2.0, "p99": p99,
                              "p99_9": p99 * 2.0, "p99_99": p99 * 3.0, "max": p99 * 4.0}})
    };
    json!({
        "schema": "elasticache-perf/result/v1",
        "tool": {"name": "elasticache-perf", "version": "0.1.0"},
        "status": "ok",
        "run": {"id": id, "target": "local", "load_generator": "elasticache-perf builtin 0.1.0",
                "task_count": 1, "started_at": format!("2023-11-14T22:{minute:02}:00.000Z"),
                "workload": {"threads": 1, "clients": 4, "pipeline": 1, "ratio": "1:10",
                             "key_pattern": "R:R", "key_minimum": 0, "key_maximum": 100000,
                             "data_size": 32, "tls": false, "protocol": "resp2"},
                "details": {"engine": "redis", "engine_version": "redis 7.0.15", "load_generator": "builtin"}},
        "whole_run": {"total": stats(ops), "commands": {}, "latency_exact": true},
        "steady_state": {
            "window": {"start": null, "end": null, "start_unix_ms": t0 * 1000,
                       "end_unix_ms": (t0 + secs) * 1000, "duration_secs": secs as f64,
                       "warmup_secs": 0, "rampdown_secs": 0, "method": "synthetic"},
            "latency_scope": "window", "total": stats(ops),
            "commands": {"get": stats(ops * 10.0 / 11.0), "set": stats(ops / 11.0)}},
        "series": series, "tasks": [], "histograms": {}, "notes": []
    })
}

/// Write `v` as pretty JSON to `dir/name`, creating folders; returns the path.
pub fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

/// Exit code, stdout and stderr.
pub fn outcome(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}
