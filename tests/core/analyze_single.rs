//! For every fixture with a finished JSON, a single task's whole-run result equals memtier's own
//! numbers: ops/s, hits/s, misses/s, KB/s, p50…p99.99 and max, for the total and every command.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

use crate::common;
use common::*;

fn pct_key(p: &str) -> f64 {
    p.trim_start_matches('p').parse().unwrap()
}

#[test]
fn single_task_results_equal_memtiers_own_numbers() {
    let dirs = finished_json_dirs();
    assert!(
        dirs.len() >= 8,
        "expected the fixture folders, found {dirs:?}"
    );
    let mut checked = 0;
    for dir in dirs {
        let mj = memtier_json(&dir);
        let section = &mj["ALL STATS"];
        let total_count = section["Totals"]["Count"].as_u64().unwrap();
        let (code, _out, err, results) = analyze(std::slice::from_ref(&dir));
        let r = results.unwrap_or_else(|| panic!("{}: no results.json ({err})", dir.display()));
        assert_valid(&r);
        if total_count == 0 {
            assert_eq!(code, 3, "{}: an empty run must fail", dir.display());
            continue;
        }
        let task = &r["tasks"][0];
        let name = dir.display().to_string();
        if task["status"] == "failed" {
            // Judged failed although memtier wrote numbers (e.g. every reply an error): those
            // numbers must not surface as results.
            assert_eq!(code, 3, "{name}");
            assert!(r["whole_run"]["total"]["ops_per_sec"].is_null(), "{name}");
            assert!(
                r["whole_run"]["total"]["latency_ms"]["p99"].is_null(),
                "{name}"
            );
            continue;
        }
        for (type_name, obj) in section.as_object().unwrap() {
            let Some(count) = obj.get("Count").and_then(Value::as_u64) else {
                continue;
            };
            let ours = if type_name == "Totals" {
                &r["whole_run"]["total"]
            } else {
                if count == 0 {
                    assert!(r["whole_run"]["commands"]
                        .get(command_key(type_name))
                        .is_none());
                    continue;
                }
                &r["whole_run"]["commands"][command_key(type_name)]
            };
            let ctx = format!("{name} {type_name}");
            assert_eq!(ours["count"].as_u64().unwrap(), count, "{ctx} count");
            assert_eq!(ours["ops_per_sec"], obj["Ops/sec"], "{ctx} ops/sec");
            let task_stats = if type_name == "Totals" {
                &task["total"]
            } else {
                &task["commands"][command_key(type_name)]
            };
            assert_eq!(
                ours, task_stats,
                "{ctx}: a single task's stats equal the whole run"
            );
            if type_name == "Gets" || type_name == "Totals" {
                assert_eq!(ours["hits_per_sec"], obj["Hits/sec"], "{ctx} hits/sec");
                assert_eq!(
                    ours["misses_per_sec"], obj["Misses/sec"],
                    "{ctx} misses/sec"
                );
            } else {
                assert!(
                    ours["hits_per_sec"].is_null(),
                    "{ctx}: hits/s not applicable"
                );
            }
            assert_eq!(ours["kb_per_sec"], obj["KB/sec"], "{ctx} KB/sec");
            let lat = &ours["latency_ms"];
            for (k, v) in obj["Percentile Latencies"].as_object().unwrap() {
                let Some(want) = v.as_f64() else { continue };
                let p = pct_key(k);
                let Some(field) = [
                    (50.0, "p50"),
                    (90.0, "p90"),
                    (99.0, "p99"),
                    (99.9, "p99_9"),
                    (99.99, "p99_99"),
                ]
                .iter()
                .find(|(want, _)| (p - want).abs() < 1e-9)
                .map(|(_, f)| *f) else {
                    continue;
                };
                assert_eq!(lat[field].as_f64().unwrap(), want, "{ctx} {field}");
                checked += 1;
            }
            assert_eq!(
                lat["max"].as_f64().unwrap(),
                obj["Max Latency"].as_f64().unwrap(),
                "{ctx} max"
            );
        }
    }
    assert!(checked > 100, "only {checked} percentiles checked");
}

/// The mean comes from the histogram, as memtier's table prints it (the JSON Totals mean is
/// truncated to whole milliseconds).
#[test]
fn mean_latency_matches_memtiers_table() {
    let dir = fixtures().join("single");
    let (_, _, _, r) = analyze(std::slice::from_ref(&dir));
    let r = r.unwrap();
    let stdout = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
    for (row, path) in [("Totals", "total"), ("Gets", "get"), ("Sets", "set")] {
        let line = stdout.lines().find(|l| l.starts_with(row)).unwrap();
        let avg: f64 = line.split_whitespace().nth(4).unwrap().parse().unwrap();
        let ours = if path == "total" {
            r["whole_run"]["total"]["latency_ms"]["mean"]
                .as_f64()
                .unwrap()
        } else {
            r["whole_run"]["commands"][path]["latency_ms"]["mean"]
                .as_f64()
                .unwrap()
        };
        assert!(
            close(ours, avg, 0.0006),
            "{row}: mean {ours} vs memtier's table {avg}"
        );
    }
}
