//! `summary.md`: the verdict first, then the numbers table, the window, the load generators, the
//! server's view and the notes, as GitHub markdown small enough for a PR comment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::headline::Headline;
use super::md_escape::escape;
use super::server_stats::{self, Agg, NodeStats};
use super::{human, Exporter};
use crate::client::TaskStatus;
use crate::results::{RunResult, StatsJson, COMMAND_KEY};

/// GitHub rejects comments and step summaries longer than this many characters.
pub const GITHUB_COMMENT_MAX_CHARS: usize = 65_536;

/// Beyond this many load generators the task table folds into a `<details>` block.
pub const TASK_TABLE_FOLD_AFTER: usize = 10;

/// Output budgets for untrusted strings (escaped characters), chosen so that 64 hostile tasks,
/// 16 commands, 32 nodes, 12 run details and 20 notes stay well under [`GITHUB_COMMENT_MAX_CHARS`]; `tests/core/report.rs` checks it.
const MAX_ID_CHARS: usize = 64;
const MAX_REASON_CHARS: usize = 240;
const MAX_NOTE_CHARS: usize = 600;
const MAX_NOTES: usize = 20;
const MAX_NODES: usize = 32;
const MAX_COMMANDS: usize = 16;
const MAX_DETAILS: usize = 12;
const MAX_DETAIL_CHARS: usize = 80;

/// Renders `summary.md`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>> {
        Ok(render(r).into_bytes())
    }
}

/// The summary of a run as GitHub markdown.
pub fn render(r: &RunResult) -> String {
    let mut out = String::with_capacity(8 * 1024);
    headline(&mut out, r);
    if r.whole_run.total.count == 0 && r.whole_run.total.ops_per_sec.is_none() {
        out.push_str("No load generator produced results: the reasons are below.\n\n");
    } else {
        numbers_table(&mut out, r);
        window(&mut out, r);
    }
    tasks(&mut out, r);
    server(&mut out, r);
    notes(&mut out, r);
    run_details(&mut out, r);
    timeline(&mut out, r);
    while out.ends_with("\n\n") {
        out.pop();
    }
    let _ = writeln!(
        out,
        "\n<sub>{} {} · {}</sub>",
        escape(&r.tool.name, MAX_DETAIL_CHARS),
        escape(&r.tool.version, MAX_DETAIL_CHARS),
        escape(&r.schema, MAX_DETAIL_CHARS)
    );
    out
}

fn headline(out: &mut String, r: &RunResult) {
    let h = Headline::of(r);
    let _ = writeln!(
        out,
        "### elasticache-perf: {}\n",
        escape(&h.status.as_str().to_uppercase(), 16)
    );
    let mut parts = Vec::with_capacity(3);
    if h.ops_per_sec.is_some() {
        parts.push(format!("**{}** {}", h.ops_phrase(), h.ops_scope()));
    } else {
        parts.push(format!("**{}**", h.ops_phrase()));
    }
    parts.extend(h.p99_phrase());
    parts.push(h.tasks.phrase());
    let _ = writeln!(out, "{}\n", parts.join(" · "));
    let context = run_context(r);
    if !context.is_empty() {
        let _ = writeln!(out, "{}\n", context.join(" · "));
    }
}

/// What was run: generator, workload shape, target, time span and details a target added.
fn run_context(r: &RunResult) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(g) = &r.run.load_generator {
        parts.push(escape(g, MAX_DETAIL_CHARS));
    }
    if let Some(w) = r.run.workload.as_ref().and_then(|w| w.as_object()) {
        let get = |k: &str| w.get(k).map(value_text);
        let num = |k: &str| w.get(k).and_then(serde_json::Value::as_u64);
        if let (Some(t), Some(c)) = (num("threads"), num("clients")) {
            parts.push(format!(
                "{} × {} per load generator",
                human::plural(
                    usize::try_from(t).unwrap_or(usize::MAX),
                    "thread",
                    "threads"
                ),
                human::plural(
                    usize::try_from(c).unwrap_or(usize::MAX),
                    "client",
                    "clients"
                ),
            ));
        }
        for (key, label) in [("pipeline", "pipeline"), ("ratio", "set:get")] {
            if let Some(v) = get(key) {
                parts.push(format!("{label} {v}"));
            }
        }
        if let Some(v) = get("data_size") {
            parts.push(format!("{v} B values"));
        }
        if w.get("tls").and_then(serde_json::Value::as_bool) == Some(true) {
            parts.push("TLS".to_string());
        }
    }
    parts.push(format!(
        "target {}",
        escape(&r.run.target, MAX_DETAIL_CHARS)
    ));
    if let Some(id) = &r.run.id {
        parts.push(format!("run {}", escape(id, MAX_DETAIL_CHARS)));
    }
    let d = &r.run.details;
    if let Some(v) = d.engine_version.as_deref().or(d.engine.as_deref()) {
        parts.push(escape(v, MAX_DETAIL_CHARS));
    }
    if let (Some(a), Some(b)) = (&r.run.started_at, &r.run.finished_at) {
        parts.push(format!(
            "{} – {}",
            escape(a, MAX_DETAIL_CHARS),
            escape(b, MAX_DETAIL_CHARS)
        ));
    }
    parts
}

/// Everything a target recorded about the run, folded: the exact load-generator command in a code
/// block, the other details as a list.
fn run_details(out: &mut String, r: &RunResult) {
    if r.run.details.is_empty() {
        return;
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str("<details><summary>Run details</summary>\n\n");
    // Every detail, known or not, sorted by key as in `results.json`; the command goes below.
    let mut listed = r.run.details.to_map();
    listed.remove(COMMAND_KEY);
    for (k, v) in listed.iter().take(MAX_DETAILS) {
        let _ = writeln!(out, "- {}: {}", escape(k, MAX_DETAIL_CHARS), value_text(v));
    }
    if let Some(cmd) = &r.run.details.command {
        // A fenced block shows the command verbatim; backticks are the only way out of it.
        let cmd: String = cmd
            .chars()
            .filter(|c| *c != '`' && !c.is_control())
            .take(2000)
            .collect();
        let _ = writeln!(out, "\nload generator command:\n\n```\n{cmd}\n```");
    }
    out.push_str("\n</details>\n\n");
}

/// Most phases the timeline table shows.
const MAX_PHASES: usize = 24;

/// The run's phases, folded: when each started and ended (seconds from the first) and how long it
/// took; phases that ran side by side overlap.
fn timeline(out: &mut String, r: &RunResult) {
    let at = |s: &str| {
        humantime::parse_rfc3339(s)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    };
    let Some(t0) = r.timeline.first().and_then(|p| at(&p.started_at)) else {
        return;
    };
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str("<details><summary>Timeline</summary>\n\n| phase | from | to | took |\n|---|---:|---:|---:|\n");
    for p in r.timeline.iter().take(MAX_PHASES) {
        let (Some(s), Some(e)) = (at(&p.started_at), at(&p.ended_at)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {} | {:.1} s | {:.1} s | {:.1} s |",
            escape(&p.name, MAX_DETAIL_CHARS),
            s - t0,
            e - t0,
            p.duration_secs
        );
    }
    out.push_str("\n</details>\n\n");
}

/// A JSON value as escaped text, strings without quotes.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => escape(s, MAX_DETAIL_CHARS),
        other => escape(&other.to_string(), MAX_DETAIL_CHARS),
    }
}

fn numbers_table(out: &mut String, r: &RunResult) {
    let _ = writeln!(
        out,
        "| | command | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | p99.99 ms |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let steady = if r.steady_state.window.start_unix_ms.is_some() {
        "**steady state**"
    } else {
        "**steady state** (= whole run)"
    };
    view_rows(
        out,
        steady,
        &r.steady_state.total,
        &r.steady_state.commands,
        true,
    );
    view_rows(
        out,
        "whole run",
        &r.whole_run.total,
        &r.whole_run.commands,
        false,
    );
    out.push('\n');
    let has_window = r.steady_state.window.start_unix_ms.is_some();
    if has_window && r.steady_state.latency_scope != "window" {
        out.push_str(
            "Latency percentiles in both views cover the **whole run**: the load generator keeps no \
             per-second histograms, so latency cannot be cut to the steady-state window. Only ops/s \
             differ between the two views.\n\n",
        );
    }
    if !r.whole_run.latency_exact && r.whole_run.total.count > 0 {
        out.push_str(
            "Latency percentiles are **approximate**: some load generators left no histogram.\n\n",
        );
    }
}

fn view_rows(
    out: &mut String,
    view: &str,
    total: &StatsJson,
    commands: &BTreeMap<String, StatsJson>,
    bold_total: bool,
) {
    let ops = human::rate(total.ops_per_sec);
    let ops = if bold_total && total.ops_per_sec.is_some() {
        format!("**{ops}**")
    } else {
        ops
    };
    let _ = writeln!(out, "| {view} | total | {ops} | {} |", latencies(total));
    for (name, s) in commands.iter().take(MAX_COMMANDS) {
        let _ = writeln!(
            out,
            "| | {} | {} | {} |",
            escape(name, MAX_ID_CHARS),
            human::rate(s.ops_per_sec),
            latencies(s)
        );
    }
    if commands.len() > MAX_COMMANDS {
        let _ = writeln!(
            out,
            "| | {} more commands: see `results.json` | | | | | | |",
            commands.len() - MAX_COMMANDS
        );
    }
}

fn latencies(s: &StatsJson) -> String {
    let l = &s.latency_ms;
    [l.p50, l.p90, l.p99, l.p99_9, l.p99_99]
        .map(human::ms)
        .join(" | ")
}

fn window(out: &mut String, r: &RunResult) {
    let w = &r.steady_state.window;
    out.push_str("#### Steady-state window\n\n");
    match (&w.start, &w.end) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                out,
                "- **{} – {}** ({}); warm-up {} s and ramp-down {} s dropped",
                escape(a, MAX_DETAIL_CHARS),
                escape(b, MAX_DETAIL_CHARS),
                human::secs(w.duration_secs),
                w.warmup_secs,
                w.rampdown_secs
            );
        }
        _ => out.push_str("- none: the steady-state numbers repeat the whole run\n"),
    }
    let _ = writeln!(out, "- method: {}", escape(&w.method, MAX_NOTE_CHARS));
    let scope = if r.steady_state.latency_scope == "window" && w.start.is_some() {
        "latency percentiles: exact over the window"
    } else {
        "latency percentiles: whole run (not narrowed to the window)"
    };
    let _ = writeln!(out, "- {scope}\n");
}

fn task_rows<'a>(out: &mut String, tasks: impl Iterator<Item = &'a crate::results::TaskJson>) {
    out.push_str(
        "| task | status | ops/s | p99 ms | reason |\n| --- | --- | ---: | ---: | --- |\n",
    );
    for t in tasks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            escape(&t.id, MAX_ID_CHARS),
            escape(t.status.as_str(), 16),
            human::rate(t.total.ops_per_sec),
            human::ms(t.total.latency_ms.p99),
            t.reason
                .as_deref()
                .map_or_else(String::new, |s| escape(s, MAX_REASON_CHARS)),
        );
    }
}

fn tasks(out: &mut String, r: &RunResult) {
    out.push_str("#### Load generators\n\n");
    if r.tasks.is_empty() {
        out.push_str("No load generator reported.\n\n");
        return;
    }
    if r.tasks.len() <= TASK_TABLE_FOLD_AFTER {
        task_rows(out, r.tasks.iter());
        out.push('\n');
        return;
    }
    // Many tasks: the ones needing attention stay visible, the full table folds away.
    let troubled: Vec<_> = r
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Ok)
        .collect();
    if !troubled.is_empty() {
        task_rows(out, troubled.iter().take(TASK_TABLE_FOLD_AFTER).copied());
        if troubled.len() > TASK_TABLE_FOLD_AFTER {
            let _ = writeln!(
                out,
                "\n{} more not ok: see the full table below.",
                troubled.len() - TASK_TABLE_FOLD_AFTER
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<details><summary>All {}</summary>\n",
        super::headline::TaskCounts::of(r).phrase()
    );
    task_rows(out, r.tasks.iter());
    out.push_str("\n</details>\n\n");
}

fn server(out: &mut String, r: &RunResult) {
    let Some(m) = &r.server else { return };
    out.push_str("#### Server\n\n");
    let view = server_stats::observe(m, &r.steady_state.window);
    if view.nodes.is_empty() {
        out.push_str("No server samples were collected.\n\n");
        return;
    }
    let _ = writeln!(
        out,
        "Sampled from {} every {} s; {}.\n",
        escape(&m.source, MAX_DETAIL_CHARS),
        m.interval_secs,
        view.scope.describe()
    );
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| view.nodes.iter().any(|n| (c.pick)(n).peak.is_some()))
        .collect();
    out.push_str("| node |");
    for c in &columns {
        let _ = write!(out, " {} |", c.title);
    }
    out.push_str("\n| --- |");
    out.push_str(&" ---: |".repeat(columns.len()));
    out.push('\n');
    for n in view.nodes.iter().take(MAX_NODES) {
        let _ = write!(out, "| {} |", escape(&n.node, MAX_ID_CHARS));
        for c in &columns {
            let _ = write!(out, " {} |", (c.cell)((c.pick)(n)));
        }
        out.push('\n');
    }
    if view.nodes.len() > MAX_NODES {
        let _ = writeln!(
            out,
            "\n{} more nodes: see the metrics CSV.",
            view.nodes.len() - MAX_NODES
        );
    }
    if let (Some(server_ops), server_stats::Scope::Window { .. }) =
        (view.total_mean_ops_per_sec(), view.scope)
    {
        let _ = writeln!(
            out,
            "\nOver the window the server counted **{} ops/s** (mean, summed over nodes) and the \
             load generators measured {} ops/s.",
            human::rate(Some(server_ops)),
            human::rate(r.steady_state.total.ops_per_sec)
        );
    }
    out.push('\n');
}

/// A column of the server table: which aggregate, and how to show it.
struct Column {
    title: &'static str,
    pick: fn(&NodeStats) -> Agg,
    cell: fn(Agg) -> String,
}

const COLUMNS: [Column; 4] = [
    Column {
        title: "CPU % mean / peak",
        pick: |n| n.cpu,
        cell: |a| format!("{} / {}", human::percent(a.mean), human::percent(a.peak)),
    },
    Column {
        title: "engine CPU % mean / peak",
        pick: |n| n.engine_cpu,
        cell: |a| format!("{} / {}", human::percent(a.mean), human::percent(a.peak)),
    },
    Column {
        title: "clients peak",
        pick: |n| n.clients,
        cell: |a| human::count(a.peak),
    },
    Column {
        title: "ops/s mean / peak",
        pick: |n| n.ops,
        cell: |a| format!("{} / {}", human::rate(a.mean), human::rate(a.peak)),
    },
];

fn notes(out: &mut String, r: &RunResult) {
    if r.notes.is_empty() {
        return;
    }
    out.push_str("#### Notes\n\n");
    for n in r.notes.iter().take(MAX_NOTES) {
        let _ = writeln!(out, "- {}", escape(n, MAX_NOTE_CHARS));
    }
    if r.notes.len() > MAX_NOTES {
        let _ = writeln!(
            out,
            "- {} more notes in `results.json`",
            r.notes.len() - MAX_NOTES
        );
    }
}
