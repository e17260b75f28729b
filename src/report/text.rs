//! The short human summary printed at the end of `analyze` and `run`.

use std::fmt::Write as _;

use crate::client::TaskStatus;
use crate::results::{RunResult, StatsJson};

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.decimals$}"))
}

fn row(out: &mut String, name: &str, s: &StatsJson) {
    let l = &s.latency_ms;
    let _ = writeln!(
        out,
        "  {name:<8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        num(s.ops_per_sec, 2),
        num(l.p50, 3),
        num(l.p90, 3),
        num(l.p99, 3),
        num(l.p99_9, 3),
        num(l.p99_99, 3),
    );
}

/// Render the summary as plain text.
pub fn render(r: &RunResult) -> String {
    let mut out = String::new();
    let ok = r
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Ok)
        .count();
    let _ = writeln!(
        out,
        "status: {} ({} of {} load generators ok)",
        r.status.as_str(),
        ok,
        r.tasks.len()
    );
    let w = &r.steady_state.window;
    let _ = writeln!(
        out,
        "steady state: {} s window ({}); latency scope: {}",
        num(w.duration_secs, 1),
        w.method,
        r.steady_state.latency_scope
    );
    let header = format!(
        "  {:<8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "p99.99 ms"
    );
    for (title, total, commands) in [
        (
            "steady state",
            &r.steady_state.total,
            &r.steady_state.commands,
        ),
        ("whole run", &r.whole_run.total, &r.whole_run.commands),
    ] {
        let _ = writeln!(out, "{title}:");
        let _ = writeln!(out, "{header}");
        for (k, s) in commands {
            row(&mut out, k, s);
        }
        row(&mut out, "total", total);
    }
    for t in r.tasks.iter().filter(|t| t.status != TaskStatus::Ok) {
        let _ = writeln!(
            out,
            "task {}: {}: {}",
            t.id,
            t.status.as_str(),
            t.reason.as_deref().unwrap_or("")
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
