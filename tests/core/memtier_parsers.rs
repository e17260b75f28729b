//! The pure parsers against the real fixtures: HDR interval logs equal the JSON histograms, the
//! stdout table equals the JSON numbers, and the stderr progress and error lines are read.

#![allow(clippy::unwrap_used)]

use elasticache_perf::memtier::{hdr, log, table};

use crate::common;
use common::*;

#[test]
fn hgrm_interval_logs_hold_the_json_histograms() {
    let mut checked = 0;
    for dir in finished_json_dirs() {
        let mj = memtier_json(&dir);
        for (file, type_name) in [
            ("memtier_hdr_FULL_RUN_1.hgrm", "Totals"),
            ("memtier_hdr_GET_command_run_1.hgrm", "Gets"),
            ("memtier_hdr_SET_command_run_1.hgrm", "Sets"),
        ] {
            let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                continue;
            };
            let intervals = hdr::parse_hgrm(&text).unwrap();
            assert_eq!(
                intervals.len(),
                1,
                "{}: memtier writes one interval",
                dir.display()
            );
            let iv = &intervals[0];
            let rt = &mj["ALL STATS"]["Runtime"];
            assert!(close(
                iv.start_secs * 1000.0,
                rt["Start time"].as_f64().unwrap(),
                1.0
            ));
            assert!(
                close(
                    iv.end_secs * 1000.0,
                    rt["Finish time"].as_f64().unwrap(),
                    1.0
                ),
                "end is absolute"
            );
            let json_h = decode(
                mj["ALL STATS"][type_name]["Percentile Latencies"]["Histogram log format"]
                    ["Compressed Histogram"]
                    .as_str()
                    .unwrap(),
            );
            assert_eq!(iv.histogram.len(), json_h.len());
            for p in [50.0, 99.0, 99.99] {
                assert_eq!(c_pct_ms(&iv.histogram, p), c_pct_ms(&json_h, p));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn stdout_table_equals_the_json() {
    for dir in finished_json_dirs() {
        let Ok(text) = std::fs::read_to_string(dir.join("stdout.txt")) else {
            continue;
        };
        let s = table::parse(&text);
        let mj = memtier_json(&dir);
        let t = s
            .tables
            .iter()
            .find(|t| t.title == "ALL STATS")
            .expect("ALL STATS table");
        assert_eq!(s.threads, mj["run information"]["Threads"].as_u64());
        for row in &t.rows {
            let obj = &mj["ALL STATS"][&row.name];
            assert!(
                close(row.ops_per_sec, obj["Ops/sec"].as_f64().unwrap(), 0.005),
                "{} {}",
                dir.display(),
                row.name
            );
            if obj["Count"].as_u64().unwrap() > 0 {
                for (p, v) in &row.percentiles {
                    let key = format!("p{p:.3}");
                    let want = obj["Percentile Latencies"][&key[..6]].as_f64().unwrap();
                    assert!(
                        close(*v, want, 0.0005),
                        "{} {} p{p}",
                        dir.display(),
                        row.name
                    );
                }
            }
        }
    }
}

#[test]
fn progress_lines_are_read_from_one_long_physical_line() {
    let text = std::fs::read_to_string(fixtures().join("long/stderr.txt")).unwrap();
    let s = log::parse(&text);
    assert!(s.progress.len() >= 58, "{}", s.progress.len());
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let last = s.progress.last().unwrap();
    assert_eq!(last.threads, 0, "the last update reads 0 threads");
    let mj = memtier_json(&fixtures().join("long"));
    assert!(last.ops >= mj["ALL STATS"]["Totals"]["Count"].as_u64().unwrap());
}

#[test]
fn error_lines_are_counted_by_kind() {
    let text = std::fs::read_to_string(fixtures().join("failure/noauth/stderr.txt")).unwrap();
    let s = log::parse(&text);
    let noauth = s.errors.iter().find(|e| e.kind == "noauth").unwrap();
    assert_eq!(noauth.count, text.matches("-NOAUTH").count() as u64);
    let text =
        std::fs::read_to_string(fixtures().join("failure/wrong-password/stderr.txt")).unwrap();
    let s = log::parse(&text);
    assert!(s.errors.iter().any(|e| e.kind == "auth_failed"));
    assert!(
        s.progress.iter().any(|p| p.percent > 100),
        "memtier hangs past 100 %"
    );
}
