//! Reports rendered from real `results.json` documents (built from the committed memtier fixtures)
//! and from hostile or degenerate ones: markdown numbers, escaping and size, CSV shape, PNG charts.
//!
//! Set `ECP_REPORT_OUT=/some/dir` to also write every rendered report there, to look at them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use elasticache_perf::analyze::judge_all;
use elasticache_perf::client::TaskStatus;
use elasticache_perf::report::{self, markdown, timeline::Timeline, ExportFormat};
use elasticache_perf::results::server::{names, NodeMetrics, Sample, ServerMetrics};
use elasticache_perf::results::{build, BuildOptions, RunResult, RunStatus, StatsJson};
use elasticache_perf::stats::window::WindowSpec;

fn fixture(rel: &str) -> RunResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/memtier")
        .join(rel);
    let judged = judge_all(&[path]).unwrap();
    build(
        &judged,
        &BuildOptions {
            target: "analyze".into(),
            run_id: None,
            window: WindowSpec::default(),
        },
    )
}

/// A realistic `redis-info` sampling of one local node: idle before the load, busy during it.
fn with_server(mut r: RunResult) -> RunResult {
    let first = r.series.first().map_or(1_800_000_000, |p| p.t);
    let mut samples = Vec::new();
    for t in (first - 2)..(first + r.series.len() as u64 + 3) {
        let ops = r
            .series
            .iter()
            .find(|p| p.t + 1 == t)
            .map_or(1.0, |p| p.ops_per_sec as f64 + 1.0);
        let busy = ops > 100.0;
        samples.push(Sample {
            t,
            t_ms: None,
            values: BTreeMap::from([
                (names::OPS_PER_SEC.to_string(), ops),
                (names::CPU_PERCENT.to_string(), 0.4 + ops / 310.0),
                (names::CPU_USER_PERCENT.to_string(), 0.3 + ops / 480.0),
                (names::CPU_SYS_PERCENT.to_string(), 0.1 + ops / 880.0),
                (
                    names::CONNECTED_CLIENTS.to_string(),
                    if busy { 13.0 } else { 1.0 },
                ),
                (
                    names::USED_MEMORY_BYTES.to_string(),
                    1_048_576.0 + (t + 2 - first) as f64 * 4096.0,
                ),
                ("rejected_connections".to_string(), 0.0),
            ]),
        });
    }
    r.server = Some(ServerMetrics {
        source: "redis-info".into(),
        interval_secs: 1,
        nodes: vec![NodeMetrics {
            node: "127.0.0.1:6379".into(),
            samples,
        }],
    });
    r
}

const HOSTILE_ID: &str = "evil|id`<script>alert(1)</script>\n| forged | row |";
const HOSTILE_REASON: &str =
    "boom | `rm -rf /` <img src=x onerror=alert(1)>\r\n@octo-org/everyone [click](http://x) **bold**";

fn hostile(mut r: RunResult) -> RunResult {
    let mut t = r.tasks[0].clone();
    t.id = HOSTILE_ID.into();
    t.status = TaskStatus::Failed;
    t.reason = Some(HOSTILE_REASON.into());
    t.total = StatsJson::default();
    r.tasks.push(t);
    r.notes
        .push("- note with\n# heading and <b>html</b> | pipe".into());
    r
}

fn dump(name: &str, files: &[(PathBuf, Vec<u8>)]) {
    let Some(dir) = std::env::var_os("ECP_REPORT_OUT") else {
        return;
    };
    for (path, bytes) in files {
        let p = Path::new(&dir).join(name).join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn render(name: &str, r: &RunResult) -> BTreeMap<String, Vec<u8>> {
    let files = report::render_all(r, "perf-test").unwrap();
    dump(name, &files);
    files
        .into_iter()
        .map(|(p, b)| (p.to_string_lossy().replace('\\', "/"), b))
        .collect()
}

fn md_for(r: &RunResult) -> String {
    String::from_utf8(ExportFormat::Markdown.exporter().render(r).unwrap()).unwrap()
}

/// A number as a report prints it: `27,728`, `**27,728**`, `6.72`; `None` for `n/a`.
fn parse_number(cell: &str) -> Option<f64> {
    let c = cell.replace([',', '*'], "");
    (c != "n/a").then(|| {
        c.parse()
            .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
    })
}

fn close(printed: Option<f64>, actual: Option<f64>, what: &str) {
    match (printed, actual) {
        (None, None) => {}
        (Some(p), Some(a)) => {
            // Rates print whole from 100 up; latency to ~3 significant digits.
            let tolerance = if a.abs() >= 100.0 {
                0.5
            } else {
                a.abs() * 0.005 + 0.0005
            };
            assert!(
                (p - a).abs() <= tolerance,
                "{what}: printed {p}, result has {a}"
            );
        }
        _ => panic!("{what}: printed {printed:?}, result has {actual:?}"),
    }
}

/// The rows of the numbers table: (view, command, cells after the command).
fn numbers_table(md: &str) -> Vec<(String, String, Vec<String>)> {
    let mut view = String::new();
    md.lines()
        .skip_while(|l| !l.starts_with("| | command |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<String> = l.split('|').map(|c| c.trim().to_string()).collect();
            let cells = &cells[1..cells.len() - 1];
            if !cells[0].is_empty() {
                view = cells[0].replace("**", "").replace(" (= whole run)", "");
            }
            (view.clone(), cells[1].clone(), cells[2..].to_vec())
        })
        .collect()
}

/// Task-table rows: lines after a `| task |` header.
fn task_rows(md: &str) -> Vec<&str> {
    let lines: Vec<&str> = md.lines().collect();
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with("| task |") {
            i += 2;
            while i < lines.len() && lines[i].starts_with('|') {
                rows.push(lines[i]);
                i += 1;
            }
        }
        i += 1;
    }
    rows
}

/// `|` not escaped with a backslash.
fn cell_separators(row: &str) -> usize {
    let b = row.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

#[test]
fn markdown_numbers_are_the_results_numbers() {
    let r = fixture("multi");
    let md = md_for(&r);
    let rows = numbers_table(&md);
    let mut seen = 0;
    for (view_name, view_total, commands) in [
        (
            "steady state",
            &r.steady_state.total,
            &r.steady_state.commands,
        ),
        ("whole run", &r.whole_run.total, &r.whole_run.commands),
    ] {
        let expected = std::iter::once(("total", view_total))
            .chain(commands.iter().map(|(k, v)| (k.as_str(), v)));
        for (command, stats) in expected {
            let (_, _, cells) = rows
                .iter()
                .find(|(v, c, _)| v == view_name && c == command)
                .unwrap_or_else(|| panic!("no row for {view_name}/{command} in\n{md}"));
            let what = format!("{view_name}/{command}");
            let l = &stats.latency_ms;
            close(
                parse_number(&cells[0]),
                stats.ops_per_sec,
                &format!("{what} ops/s"),
            );
            for (i, (name, v)) in [
                ("p50", l.p50),
                ("p90", l.p90),
                ("p99", l.p99),
                ("p99.9", l.p99_9),
                ("p99.99", l.p99_99),
            ]
            .into_iter()
            .enumerate()
            {
                close(parse_number(&cells[1 + i]), v, &format!("{what} {name}"));
            }
            seen += 1;
        }
    }
    assert_eq!(seen, rows.len(), "unexpected rows in\n{md}");

    // The headline: status, steady-state ops/s and p99, load generators.
    let head = md.lines().find(|l| l.contains("ops/s**")).unwrap();
    let re = regex::Regex::new(r"^\*\*([\d,.]+) ops/s\*\* steady state · p99 ([\d.]+) ms \(whole run\) · 3 load generators, all ok$").unwrap();
    let caps = re
        .captures(head)
        .unwrap_or_else(|| panic!("headline: {head}"));
    close(
        parse_number(&caps[1]),
        r.steady_state.total.ops_per_sec,
        "headline ops/s",
    );
    close(
        parse_number(&caps[2]),
        r.steady_state.total.latency_ms.p99,
        "headline p99",
    );
    assert!(md.starts_with("### elasticache-perf: OK\n"), "{md}");

    // The window, stated with its scope.
    let w = &r.steady_state.window;
    assert!(md.contains(w.start.as_deref().unwrap()) && md.contains(w.end.as_deref().unwrap()));
    assert!(md.contains(&w.method));
    assert_eq!(r.steady_state.latency_scope, "whole_run");
    assert!(md.contains("Latency percentiles in both views cover the **whole run**"));

    // One task row per load generator with its own ops/s and p99.
    let rows = task_rows(&md);
    assert_eq!(rows.len(), r.tasks.len());
    for (row, t) in rows.iter().zip(&r.tasks) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[1], t.id);
        assert_eq!(cells[2], t.status.as_str());
        close(parse_number(cells[3]), t.total.ops_per_sec, "task ops/s");
        close(parse_number(cells[4]), t.total.latency_ms.p99, "task p99");
    }
    assert!(!md.contains("<details>") && !md.contains("#### Server"));
}

#[test]
fn markdown_of_a_failed_run_leads_with_the_reason() {
    let r = fixture("failure/conn-refused");
    let md = md_for(&r);
    assert!(
        md.starts_with("### elasticache-perf: FAILED\n\n**no results** · 1 load generator, failed"),
        "{md}"
    );
    assert!(md.contains("connection refused"));
    assert!(numbers_table(&md).is_empty(), "no table of n/a: {md}");

    let degraded = md_for(&fixture("failure/interrupted-sigint"));
    assert!(
        degraded.starts_with("### elasticache-perf: DEGRADED\n"),
        "{degraded}"
    );
    assert!(degraded.contains("interrupted after 4.0 s"));
}

#[test]
fn markdown_escapes_hostile_task_ids_reasons_and_notes() {
    let r = hostile(fixture("multi"));
    let md = md_for(&r);
    let rows = task_rows(&md);
    assert_eq!(rows.len(), r.tasks.len(), "a row was forged or lost:\n{md}");
    for row in &rows {
        assert_eq!(cell_separators(row), 6, "row split into extra cells: {row}");
    }
    assert!(!md.lines().any(|l| l.starts_with("| forged")));
    for raw in [
        "<script",
        "<img",
        "</b>",
        "@octo-org",
        "[click](",
        "**bold**",
    ] {
        assert!(!md.contains(raw), "{raw} survived:\n{md}");
    }
    assert_eq!(
        md.matches('`').count(),
        md.matches("\\`").count(),
        "a code span can open"
    );
    assert!(md.contains("@&#8203;octo-org"));
    let note = md.lines().find(|l| l.contains("note with")).unwrap();
    assert!(
        note.starts_with("- \\- note with # heading and &lt;b&gt;"),
        "{note}"
    );
}

/// 64 load generators with hostile, very long ids and reasons, 100 long notes, 64 nodes, 100
/// commands and 100 run details.
fn huge() -> RunResult {
    let mut r = with_server(fixture("multi"));
    let template = r.tasks[0].clone();
    r.tasks = (0..64)
        .map(|i| {
            let mut t = template.clone();
            t.id = format!("{i}-{}{HOSTILE_ID}", "@<|".repeat(3000));
            if i % 3 == 0 {
                t.status = TaskStatus::Failed;
                t.reason = Some(format!("{}{HOSTILE_REASON}", "<@|`\n".repeat(5000)));
            }
            t
        })
        .collect();
    r.notes = (0..100)
        .map(|i| format!("{i} {}", "<&@|".repeat(4000)))
        .collect();
    let stats = r.whole_run.total.clone();
    let commands: BTreeMap<String, StatsJson> = (0..100)
        .map(|i| (format!("{i}{}", "<|".repeat(500)), stats.clone()))
        .collect();
    r.whole_run.commands = commands.clone();
    r.steady_state.commands = commands;
    r.run.details = (0..100)
        .map(|i| (format!("{i}{}", "<".repeat(500)), "@|`".repeat(500).into()))
        .collect();
    let node = r.server.as_ref().unwrap().nodes[0].clone();
    r.server.as_mut().unwrap().nodes = (0..64)
        .map(|i| NodeMetrics {
            node: format!("{i}{}", "<|".repeat(500)),
            ..node.clone()
        })
        .collect();
    r
}

#[test]
fn markdown_stays_under_githubs_comment_limit_with_64_hostile_tasks() {
    let r = huge();
    let md = md_for(&r);
    let chars = md.chars().count();
    assert!(chars < markdown::GITHUB_COMMENT_MAX_CHARS, "{chars} chars");
    assert!(
        chars < 50_000,
        "{chars} chars: keep a margin for the caller's own lines"
    );
    // The folded task table and the folded run details.
    assert_eq!(md.matches("<details>").count(), 2);
    assert_eq!(md.matches("</details>").count(), 2);
    // Troubled tasks first, visible (at most 10), then all 64 in the fold.
    let rows = task_rows(&md);
    assert_eq!(rows.len(), markdown::TASK_TABLE_FOLD_AFTER + 64);
    let before_fold = &md[..md.find("<details>").unwrap()];
    assert_eq!(
        task_rows(before_fold).len(),
        markdown::TASK_TABLE_FOLD_AFTER
    );
    assert!(rows.iter().all(|row| cell_separators(row) == 6));
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    // No quoted fields in these documents: a plain split is exact.
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn client_csv_has_one_row_per_second() {
    let r = fixture("multi");
    let rows = csv_rows(&ExportFormat::ClientCsv.exporter().render(&r).unwrap());
    assert_eq!(
        rows[0].join(","),
        "timestamp,unix_time,ops_per_sec,get_ops_per_sec,set_ops_per_sec,kb_per_sec,\
         mean_latency_ms,max_latency_ms,p50_ms,p99_ms,p99_9_ms,tasks"
    );
    assert_eq!(rows.len(), r.series.len() + 1);
    for (row, p) in rows[1..].iter().zip(&r.series) {
        assert_eq!(row.len(), rows[0].len());
        let t = humantime::parse_rfc3339(&row[0]).unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            p.t
        );
        assert_eq!(row[1], p.t.to_string());
        assert_eq!(row[2], p.ops_per_sec.to_string());
        assert_eq!(row[3], p.commands["get"].to_string());
        assert_eq!(row[6].parse::<f64>().ok(), p.mean_latency_ms);
        // memtier's per-second percentiles are not exact: null in the result, empty here.
        assert_eq!(&row[8..11], ["", "", ""]);
        assert_eq!(row[11], p.tasks.to_string());
    }
    let failed = ExportFormat::ClientCsv
        .exporter()
        .render(&fixture("failure/conn-refused"))
        .unwrap();
    assert_eq!(csv_rows(&failed).len(), 1, "header only");
}

#[test]
fn server_csv_has_one_row_per_node_per_sample() {
    let r = with_server(fixture("multi"));
    let rows = csv_rows(&ExportFormat::ServerCsv.exporter().render(&r).unwrap());
    assert_eq!(
        rows[0].join(","),
        "timestamp,unix_time,node,ops_per_sec,cpu_percent,cpu_user_percent,cpu_sys_percent,\
         connected_clients,used_memory_bytes,rejected_connections"
    );
    let m = r.server.as_ref().unwrap();
    assert_eq!(rows.len(), m.nodes[0].samples.len() + 1);
    for (row, s) in rows[1..].iter().zip(&m.nodes[0].samples) {
        assert_eq!(row[1], s.t.to_string());
        assert_eq!(row[2], "127.0.0.1:6379");
        assert_eq!(row[4].parse::<f64>().unwrap(), s.values[names::CPU_PERCENT]);
        assert_eq!(
            row[7].parse::<f64>().unwrap(),
            s.values[names::CONNECTED_CLIENTS]
        );
    }

    // Two nodes, one with a name that needs quoting and a metric the other lacks.
    let mut two = r.clone();
    let mut b = m.nodes[0].clone();
    b.node = "replica \"b\", az-2".into();
    for s in &mut b.samples {
        s.values.insert(names::ENGINE_CPU_PERCENT.into(), 12.5);
    }
    two.server.as_mut().unwrap().nodes.push(b);
    let text = String::from_utf8(ExportFormat::ServerCsv.exporter().render(&two).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains(",cpu_sys_percent,engine_cpu_percent,connected_clients,"));
    assert_eq!(lines.len(), 2 * m.nodes[0].samples.len() + 1);
    assert!(lines[1].contains(",127.0.0.1:6379,"));
    assert!(
        lines[2].contains(",\"replica \"\"b\"\", az-2\","),
        "{}",
        lines[2]
    );
    assert!(
        lines[1].split(',').nth(7) == Some(""),
        "missing metric is an empty cell"
    );

    let none = ExportFormat::ServerCsv
        .exporter()
        .render(&fixture("multi"))
        .unwrap();
    assert_eq!(none, b"timestamp,unix_time,node\n");
}

#[test]
fn render_all_lists_the_report_files() {
    let names_of = |r: &RunResult| -> Vec<String> {
        report::render_all(r, "perf-test")
            .unwrap()
            .into_iter()
            .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
            .collect()
    };
    assert_eq!(
        names_of(&fixture("multi")),
        ["summary.md", "chart.png", "metrics/perf-test-client.csv"]
    );
    assert_eq!(
        names_of(&with_server(fixture("multi"))),
        [
            "summary.md",
            "chart.png",
            "metrics/perf-test.csv",
            "metrics/perf-test-client.csv"
        ]
    );
    let r = fixture("multi");
    for bad in ["", ".", "..", "a/b", "a\\b", "x\ny"] {
        assert!(report::render_all(&r, bad).is_err(), "{bad:?}");
    }
    let files = report::render_all(&r, "perf-test").unwrap();
    assert_eq!(
        files[0].1,
        ExportFormat::Markdown.exporter().render(&r).unwrap()
    );
}

/// Decode a PNG and check it is a real, non-blank chart (a "no data" chart has less ink).
fn check_png(name: &str, bytes: &[u8], (min_ink, min_colours): (f64, usize)) -> image::RgbImage {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{name}: not a PNG: {e}"))
        .to_rgb8();
    assert_eq!(img.width(), 1200, "{name}");
    assert_eq!(img.height(), 900, "{name}");
    let ink = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 200))
        .count();
    let share = ink as f64 / f64::from(img.width() * img.height());
    assert!(
        share > min_ink,
        "{name}: only {share:.4} of the pixels are drawn"
    );
    // Distinct colours at 4 bits per channel (a HashSet of pixels is slow in debug builds).
    let mut seen = [false; 4096];
    for p in img.pixels() {
        let [r, g, b] = p.0.map(|c| usize::from(c >> 4));
        seen[r << 8 | g << 4 | b] = true;
    }
    let colours = seen.iter().filter(|s| **s).count();
    assert!(colours > min_colours, "{name}: {colours} colours");
    img
}

fn chart(name: &str, r: &RunResult) -> image::RgbImage {
    let bytes = ExportFormat::Chart.exporter().render(r).unwrap();
    dump(name, &[(PathBuf::from("chart.png"), bytes.clone())]);
    let (min_ink, min_colours) = if r.series.is_empty() {
        (0.003, 5)
    } else {
        (0.02, 20)
    };
    check_png(name, &bytes, (min_ink, min_colours))
}

#[test]
fn charts_render_for_real_runs() {
    chart("multi", &fixture("multi"));
    chart("long", &fixture("long"));
    chart("failed", &fixture("failure/conn-refused"));
    chart("interrupted", &fixture("failure/interrupted-sigint"));
    let with = chart("multi-server", &with_server(fixture("multi")));
    let without = chart("multi-no-server", &fixture("multi"));
    assert_ne!(with, without, "the CPU panel shows");
}

#[test]
fn charts_survive_degenerate_results() {
    let base = fixture("multi");
    let mut empty = base.clone();
    empty.series.clear();
    chart("empty-series", &empty);

    let mut one = base.clone();
    one.series.truncate(1);
    chart("single-point", &one);

    let mut no_latency = base.clone();
    for p in &mut no_latency.series {
        p.mean_latency_ms = None;
        p.max_latency_ms = None;
    }
    no_latency.steady_state.total.latency_ms = Default::default();
    chart("no-latency", &no_latency);

    let mut gaps = base.clone();
    for (i, p) in gaps.series.iter_mut().enumerate() {
        p.mean_latency_ms = p.mean_latency_ms.filter(|_| i % 2 == 0);
        p.p99_ms = Some(1.0 + i as f64);
        p.p50_ms = Some(0.1);
        p.ops_per_sec = 0;
    }
    chart("gaps-and-zeros", &gaps);

    let mut failed_watched = with_server(fixture("multi"));
    failed_watched.series.clear();
    failed_watched.status = RunStatus::Failed;
    chart("failed-with-server", &failed_watched);

    let mut nan = with_server(fixture("long"));
    for n in &mut nan.server.as_mut().unwrap().nodes {
        for s in &mut n.samples {
            s.values.insert(names::CPU_PERCENT.into(), f64::NAN);
        }
    }
    chart("nan-cpu", &nan);

    // An hour of seconds switches the axis to minutes.
    let mut hour = fixture("long");
    let first = hour.series[0].clone();
    hour.series = (0..3600)
        .map(|i| {
            let mut p = first.clone();
            p.t += i;
            p
        })
        .collect();
    hour.steady_state.window.start_unix_ms = Some((first.t + 60) * 1000);
    hour.steady_state.window.end_unix_ms = Some((first.t + 3500) * 1000);
    chart("hour", &hour);

    let small = elasticache_perf::report::chart::render_png(&base, (200, 200)).unwrap();
    assert!(!small.is_empty());
    assert!(elasticache_perf::report::chart::render_png(&base, (10, 10)).is_err());
}

#[test]
fn timeline_puts_everything_on_one_axis() {
    let r = with_server(fixture("multi"));
    let tl = Timeline::of(&r);
    let first = r.series[0].t;
    let server_first = r.server.as_ref().unwrap().nodes[0].samples[0].t;
    assert_eq!(tl.origin_unix_s, first.min(server_first - 1));
    let (a, b) = tl.window.unwrap();
    let w = &r.steady_state.window;
    let o = tl.origin_unix_s as f64;
    assert!((a - (w.start_unix_ms.unwrap() as f64 / 1000.0 - o)).abs() < 1e-6);
    assert!((b - (w.end_unix_ms.unwrap() as f64 / 1000.0 - o)).abs() < 1e-6);
    let labels: Vec<&str> = tl.throughput.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["total ops/s", "get ops/s", "set ops/s"]);
    assert_eq!(tl.throughput[0].points().count(), r.series.len());
    let lat: Vec<&str> = tl.latency.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(
        lat,
        ["max", "mean"],
        "memtier's per-second percentiles are not drawn"
    );
    assert!(!tl.has_percentiles);
    assert_eq!(tl.cpu.len(), 1);
    assert!(!tl.server_ops.is_empty());

    let mut exact = fixture("multi");
    for (i, p) in exact.series.iter_mut().enumerate() {
        p.p99_ms = (i != 2).then_some(1.5);
    }
    let tl = Timeline::of(&exact);
    assert!(tl.has_percentiles);
    let p99 = tl.latency.iter().find(|l| l.label == "p99").unwrap();
    assert_eq!(p99.segments.len(), 2, "a null breaks the line");
    assert!(tl.cpu.is_empty() && !tl.has_server);
}

#[test]
fn writes_every_report_when_asked() {
    for (name, r) in [
        ("multi", fixture("multi")),
        ("long", fixture("long")),
        ("conn-refused", fixture("failure/conn-refused")),
        ("interrupted", fixture("failure/interrupted-sigint")),
        ("multi-server", with_server(fixture("multi"))),
        ("long-server", with_server(fixture("long"))),
        ("hostile", hostile(fixture("multi"))),
        ("huge", huge()),
    ] {
        let files = render(name, &r);
        assert!(files.contains_key("summary.md") && files.contains_key("chart.png"));
    }
}

/// A small, hand-written result from the built-in load generator (exact per-second percentiles,
/// latency scoped to the window), so that the snapshots below pin the formats and nothing else.
fn synthetic() -> RunResult {
    let stats = |ops: f64, p99: f64| {
        serde_json::json!({
            "count": 1000, "ops_per_sec": ops, "hits_per_sec": null, "misses_per_sec": null,
            "kb_per_sec": 12.5,
            "latency_ms": {"mean": 0.21, "p50": 0.183, "p90": 0.35, "p99": p99, "p99_9": 2.047,
                           "p99_99": 10.239, "max": 12.2}
        })
    };
    let point = |t: u64, ops: u64, p99: Option<f64>| {
        serde_json::json!({
            "t": t, "ops_per_sec": ops, "commands": {"get": ops - ops / 10, "set": ops / 10},
            "kb_per_sec": 100.25, "mean_latency_ms": 0.2, "max_latency_ms": 3.5,
            "p50_ms": 0.18, "p99_ms": p99, "p99_9_ms": 2.0, "tasks": 2
        })
    };
    let sample = |t: u64, cpu: f64| {
        serde_json::json!({"t": t, "values": {"cpu_percent": cpu, "connected_clients": 9,
                                               "ops_per_sec": 20001}})
    };
    serde_json::from_value(serde_json::json!({
        "schema": "elasticache-perf/result/v1",
        "tool": {"name": "elasticache-perf", "version": "0.0.0-test"},
        "status": "degraded",
        "run": {"target": "local", "load_generator": "builtin", "task_count": 2,
                "started_at": "2026-01-02T03:04:05.000Z", "finished_at": "2026-01-02T03:04:09.000Z",
                "workload": {"threads": 2, "clients": 4, "pipeline": 1, "ratio": "1:10",
                             "data_size": 32},
                "details": {"engine": "valkey 8.0"}},
        "whole_run": {"total": stats(19_000.0, 1.215), "commands": {"get": stats(17_100.0, 1.215),
                      "set": stats(1_900.0, 1.3)}, "latency_exact": true},
        "steady_state": {
            "window": {"start": "2026-01-02T03:04:06.000Z", "end": "2026-01-02T03:04:08.000Z",
                       "start_unix_ms": 1_767_323_046_000_u64, "end_unix_ms": 1_767_323_048_000_u64,
                       "duration_secs": 2.0, "warmup_secs": 1, "rampdown_secs": 1,
                       "method": "all 2 load generators running"},
            "latency_scope": "window",
            "total": stats(20_000.0, 1.1), "commands": {"get": stats(18_000.0, 1.1),
                                                        "set": stats(2_000.0, 1.2)}},
        "series": [point(1_767_323_045, 15_000, Some(1.5)), point(1_767_323_046, 20_000, None),
                   point(1_767_323_047, 20_000, Some(1.1))],
        "tasks": [
            {"id": "lg-1", "status": "ok", "reason": null, "source": "builtin",
             "started_at": null, "duration_secs": 4.0, "exit_code": 0,
             "total": stats(10_000.0, 1.0), "commands": {}, "errors": [], "notes": []},
            {"id": "lg-2", "status": "degraded", "reason": "3 connection resets", "source": "builtin",
             "started_at": null, "duration_secs": 4.0, "exit_code": 0,
             "total": stats(9_000.0, 1.4), "commands": {}, "errors": [], "notes": []}
        ],
        "histograms": {},
        "server": {"source": "redis-info", "interval_secs": 1, "nodes": [
            {"node": "127.0.0.1:6379", "samples": [sample(1_767_323_046, 61.5),
                                                   sample(1_767_323_047, 70.25),
                                                   sample(1_767_323_048, 68.0)]}]},
        "notes": ["1 of 2 load generators reported connection resets"]
    }))
    .unwrap()
}

/// The "Run details" block lists every detail sorted by key (typed ones, unknown ones and known
/// keys of another JSON type alike) and the command below; the text is what the summary said when
/// the details were a free-form map.
#[test]
fn run_details_of_every_kind_render_as_before() {
    let mut r = synthetic();
    r.run.details = serde_json::from_value(serde_json::json!({
        "command": "memtier_benchmark --test-time=3 `x`", "engine": null,
        "engine_version": "redis 7.0.15", "load_generator": "builtin", "prefill": false,
        "test_duration_secs": 3, "num_shards": 2, "transit_encryption": true,
        "cost_estimate_usd": 0.0123, "topology": "2 shards", "_nested": {"b": [1, 2], "a": null},
        "zzz": "<b>x</b>", "workload_name": "reads", "server_ops_per_sec_in_window": 15712.63
    }))
    .unwrap();
    let md = md_for(&r);
    assert!(md.contains(" · target local · redis 7.0.15 · "), "{md}");
    let block = &md[md.find("<details><summary>Run details").unwrap()..];
    let block = &block[..block.find("</details>").unwrap() + "</details>".len()];
    insta::assert_snapshot!(block, @r#"
    <details><summary>Run details</summary>

    - \_nested: {"a":null,"b":\[1,2\]}
    - cost_estimate_usd: 0.0123
    - engine: null
    - engine_version: redis 7.0.15
    - load_generator: builtin
    - num_shards: 2
    - prefill: false
    - server_ops_per_sec_in_window: 15712.63
    - test_duration_secs: 3
    - topology: 2 shards
    - transit_encryption: true
    - workload_name: reads

    load generator command:

    ```
    memtier_benchmark --test-time=3 x
    ```

    </details>
    "#);
    r.run.details.engine_version = None;
    r.run.details.engine = Some("valkey".into());
    assert!(md_for(&r).contains(" · target local · valkey · "));
}

#[test]
fn snapshot_of_a_small_result() {
    let r = synthetic();
    let md = md_for(&r);
    insta::assert_snapshot!(md, @r#"
    ### elasticache-perf: DEGRADED

    **20,000 ops/s** steady state · p99 1.10 ms · 2 load generators: 1 ok, 1 degraded

    builtin · 2 threads × 4 clients per load generator · pipeline 1 · set:get 1:10 · 32 B values · target local · valkey 8.0 · 2026-01-02T03:04:05.000Z – 2026-01-02T03:04:09.000Z

    | | command | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | p99.99 ms |
    | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
    | **steady state** | total | **20,000** | 0.183 | 0.350 | 1.10 | 2.05 | 10.2 |
    | | get | 18,000 | 0.183 | 0.350 | 1.10 | 2.05 | 10.2 |
    | | set | 2,000 | 0.183 | 0.350 | 1.20 | 2.05 | 10.2 |
    | whole run | total | 19,000 | 0.183 | 0.350 | 1.22 | 2.05 | 10.2 |
    | | get | 17,100 | 0.183 | 0.350 | 1.22 | 2.05 | 10.2 |
    | | set | 1,900 | 0.183 | 0.350 | 1.30 | 2.05 | 10.2 |

    #### Steady-state window

    - **2026-01-02T03:04:06.000Z – 2026-01-02T03:04:08.000Z** (2.0 s); warm-up 1 s and ramp-down 1 s dropped
    - method: all 2 load generators running
    - latency percentiles: exact over the window

    #### Load generators

    | task | status | ops/s | p99 ms | reason |
    | --- | --- | ---: | ---: | --- |
    | lg-1 | ok | 10,000 | 1.00 |  |
    | lg-2 | degraded | 9,000 | 1.40 | 3 connection resets |

    #### Server

    Sampled from redis-info every 1 s; means and peaks over the steady-state window (2 samples per node).

    | node | CPU % mean / peak | clients peak | ops/s mean / peak |
    | --- | ---: | ---: | ---: |
    | 127.0.0.1:6379 | 69.1 % / 70.2 % | 9 | 20,001 / 20,001 |

    Over the window the server counted **20,001 ops/s** (mean, summed over nodes) and the load generators measured 20,000 ops/s.

    #### Notes

    - 1 of 2 load generators reported connection resets

    <details><summary>Run details</summary>

    - engine: valkey 8.0

    </details>

    <sub>elasticache-perf 0.0.0-test · elasticache-perf/result/v1</sub>
    "#);
    let client = ExportFormat::ClientCsv.exporter().render(&r).unwrap();
    insta::assert_snapshot!(String::from_utf8(client).unwrap(), @r#"
    timestamp,unix_time,ops_per_sec,get_ops_per_sec,set_ops_per_sec,kb_per_sec,mean_latency_ms,max_latency_ms,p50_ms,p99_ms,p99_9_ms,tasks
    2026-01-02T03:04:05Z,1767323045,15000,13500,1500,100.25,0.2,3.5,0.18,1.5,2,2
    2026-01-02T03:04:06Z,1767323046,20000,18000,2000,100.25,0.2,3.5,0.18,,2,2
    2026-01-02T03:04:07Z,1767323047,20000,18000,2000,100.25,0.2,3.5,0.18,1.1,2,2
    "#);
    let server = ExportFormat::ServerCsv.exporter().render(&r).unwrap();
    insta::assert_snapshot!(String::from_utf8(server).unwrap(), @r#"
    timestamp,unix_time,node,ops_per_sec,cpu_percent,connected_clients
    2026-01-02T03:04:06Z,1767323046,127.0.0.1:6379,20001,61.5,9
    2026-01-02T03:04:07Z,1767323047,127.0.0.1:6379,20001,70.25,9
    2026-01-02T03:04:08Z,1767323048,127.0.0.1:6379,20001,68,9
    "#);
    chart("synthetic", &r);
}

/// Pixels of exactly this colour, per row.
fn rows_of(img: &image::RgbImage, rgb: [u8; 3]) -> Vec<usize> {
    (0..img.height())
        .map(|y| {
            (0..img.width())
                .filter(|x| img.get_pixel(*x, y).0 == rgb)
                .count()
        })
        .collect()
}

#[test]
fn the_gates_baseline_is_drawn_over_the_chart() {
    use elasticache_perf::report::chart::{
        render_png_with_baseline, BaselineOverlay, BASELINE, DEFAULT_SIZE,
    };
    let r = fixture("multi");
    let ops = r.steady_state.total.ops_per_sec.unwrap();
    let p99 = r.steady_state.total.latency_ms.p99.unwrap();
    let plain = render_png_with_baseline(&r, DEFAULT_SIZE, None).unwrap();
    assert_eq!(
        plain,
        ExportFormat::Chart.exporter().render(&r).unwrap(),
        "no baseline: the plain chart"
    );
    // A baseline 40 % faster than this run (above every point of it) and with half its p99.
    let overlay = BaselineOverlay {
        label: "median of 10 runs".into(),
        ops_per_sec: Some(ops * 1.4),
        p99_ms: Some(p99 / 2.0),
    };
    let bytes = render_png_with_baseline(&r, DEFAULT_SIZE, Some(&overlay)).unwrap();
    dump(
        "baseline-overlay",
        &[(PathBuf::from("chart.png"), bytes.clone())],
    );
    let img = check_png("baseline-overlay", &bytes, (0.02, 20));
    let plain = check_png("plain", &plain, (0.02, 20));
    let magenta = [BASELINE.0, BASELINE.1, BASELINE.2];
    assert!(
        rows_of(&plain, magenta).iter().all(|n| *n == 0),
        "the baseline's colour is its alone"
    );
    // One dashed level per panel: rows with long runs of magenta in the plot, not the legend.
    let rows = rows_of(&img, magenta);
    let levels: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, n)| **n >= 200)
        .map(|(y, _)| y)
        .collect();
    assert!(!levels.is_empty(), "no baseline level drawn");
    let h = img.height() as usize;
    // Throughput panel (upper third, under the title) and latency panel (middle third).
    assert!(levels.iter().any(|y| *y < h * 40 / 100), "{levels:?}");
    assert!(
        levels
            .iter()
            .any(|y| *y > h * 40 / 100 && *y < h * 75 / 100),
        "{levels:?}"
    );
    // The throughput level lies above the run's own steady-state mean: the y axis grew to show it.
    let top_level = *levels.iter().min().unwrap();
    let mean_rows: Vec<usize> = rows_of(&img, [40, 40, 40])
        .iter()
        .enumerate()
        .filter(|(y, n)| **n >= 200 && *y < h * 40 / 100 && *y > 80)
        .map(|(y, _)| y)
        .collect();
    let mean_y = *mean_rows.first().expect("the steady-state mean is drawn");
    assert!(
        top_level < mean_y,
        "baseline at {top_level}, mean at {mean_y}"
    );
}

#[test]
fn the_trend_chart_marks_the_current_run_and_change_points() {
    use elasticache_perf::gate::trend::{ChangePoint, Trend, TrendPoint};
    use elasticache_perf::report::trend_chart::{render_png, DEFAULT_SIZE};
    let point = |i: usize, ops: f64, p99: f64| TrendPoint {
        run_id: Some(format!("run-{i}")),
        ops_per_sec: Some(ops),
        p99_ms: Some(p99),
    };
    let mut runs: Vec<TrendPoint> = (0..6)
        .map(|i| point(i, 10_000.0 + i as f64 * 20.0, 1.0))
        .collect();
    runs.extend((6..10).map(|i| point(i, 8_500.0, 1.0)));
    let stepped = Trend {
        runs: runs.clone(),
        change_points: vec![ChangePoint {
            metric: "throughput".into(),
            index: 6,
            run_id: Some("run-6".into()),
            change_pct: -15.1,
        }],
    };
    let quiet = Trend {
        runs,
        change_points: Vec::new(),
    };
    let decode = |name: &str, t: &Trend| {
        let bytes = render_png(t, "redis 7 · local", DEFAULT_SIZE).unwrap();
        dump(name, &[(PathBuf::from("trend.png"), bytes.clone())]);
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .unwrap()
            .to_rgb8();
        assert_eq!((img.width(), img.height()), DEFAULT_SIZE);
        img
    };
    let count = |img: &image::RgbImage, rgb: [u8; 3]| rows_of(img, rgb).iter().sum::<usize>();
    let red = [214, 39, 40];
    let orange = [255, 127, 14];
    let blue = [31, 119, 180];
    let with = decode("trend-step", &stepped);
    let without = decode("trend-quiet", &quiet);
    // The current run is a red dot in both panels; earlier runs are blue.
    assert!(count(&with, red) > 100 && count(&without, red) > 100);
    assert!(count(&with, blue) > 1000);
    // The change point is an orange vertical line with its step, only where there is one.
    assert!(count(&with, orange) > 100, "no change point drawn");
    assert_eq!(count(&without, orange), 0);
    let columns_with_orange = (0..with.width())
        .filter(|x| {
            (0..with.height())
                .filter(|y| with.get_pixel(*x, *y).0 == orange)
                .count()
                > 100
        })
        .count();
    assert!(
        columns_with_orange >= 1,
        "the change point is a vertical line"
    );

    // Too few runs, or too small a picture, is an error, not a blank image.
    let one = Trend {
        runs: quiet.runs[..1].to_vec(),
        change_points: Vec::new(),
    };
    assert!(render_png(&one, "x", DEFAULT_SIZE).is_err());
    assert!(render_png(&quiet, "x", (100, 100)).is_err());
}

#[test]
fn markdown_folds_the_timeline_with_overlapping_phases() {
    use elasticache_perf::results::{rfc3339_ms, Phase};
    let mut r = fixture("single");
    assert!(!md_for(&r).contains("<summary>Timeline</summary>"));
    let t0 = 1_795_723_200_000_u64;
    let phase = |name: &str, from: u64, to: u64| Phase {
        name: name.into(),
        started_at: rfc3339_ms(t0 + from),
        ended_at: rfc3339_ms(t0 + to),
        duration_secs: (to - from) as f64 / 1000.0,
    };
    r.timeline = vec![
        phase("load", 0, 20_000),
        phase("teardown", 20_000, 230_000),
        phase("collect", 20_100, 95_000),
    ];
    let md = md_for(&r);
    assert!(md.contains("<summary>Timeline</summary>"), "{md}");
    assert!(
        md.contains("| teardown | 20.0 s | 230.0 s | 210.0 s |"),
        "{md}"
    );
    assert!(
        md.contains("| collect | 20.1 s | 95.0 s | 74.9 s |"),
        "{md}"
    );
}
