//! The metrics CSVs: `metrics/{cluster}.csv` (server metrics, one row per node per sample) and
//! `metrics/{cluster}-client.csv` (the merged per-second client series).
//!
//! RFC 4180 by hand (comma separator, CRLF-free `\n` rows, fields quoted only when they hold a comma,
//! quote or line break): the rules are short and this keeps the dependency tree as it is. Text
//! cells are not defused against spreadsheet formulas (`=…`): node and command names come from the
//! cache and the load generator, and rewriting them would corrupt the data for every other reader.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use super::Exporter;
use crate::results::server::names;
use crate::results::RunResult;

/// Renders `metrics/{cluster}.csv` from the server metrics (only a header when there are none).
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerCsvExporter;

impl Exporter for ServerCsvExporter {
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>> {
        Ok(server_csv(r).into_bytes())
    }
}

/// Renders `metrics/{cluster}-client.csv` from the per-second series.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientCsvExporter;

impl Exporter for ClientCsvExporter {
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>> {
        Ok(client_csv(r).into_bytes())
    }
}

/// One CSV field, quoted when it must be.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn push_row<I, S>(out: &mut String, cells: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(c.as_ref()));
    }
    out.push('\n');
}

/// A number as the shortest text that reads back to the same value; integers without `.0`;
/// empty for null, NaN or infinity.
fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        }
        _ => String::new(),
    }
}

/// RFC 3339 (seconds, UTC) of a Unix second.
fn timestamp(t: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string()
}

/// The server-metrics CSV: `timestamp, unix_time, node`, then the well-known metrics in
/// [`names::ORDER`] that appear, then any others sorted by name. Rows are in time order, nodes in
/// the order of `results.json` within a second.
pub fn server_csv(r: &RunResult) -> String {
    let nodes = r.server.as_ref().map_or(&[][..], |m| m.nodes.as_slice());
    let present: BTreeSet<&str> = nodes
        .iter()
        .flat_map(|n| n.samples.iter())
        .flat_map(|s| s.values.keys().map(String::as_str))
        .collect();
    let mut columns: Vec<&str> = names::ORDER
        .iter()
        .copied()
        .filter(|m| present.contains(m))
        .collect();
    columns.extend(present.iter().filter(|m| !names::ORDER.contains(m)));

    let mut rows: Vec<(u64, usize, &crate::results::server::Sample)> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.samples.iter().map(move |s| (s.t, i, s)))
        .collect();
    rows.sort_by_key(|(t, i, _)| (*t, *i));

    let mut out = String::with_capacity(64 * (rows.len() + 1));
    push_row(
        &mut out,
        ["timestamp", "unix_time", "node"]
            .into_iter()
            .chain(columns.iter().copied()),
    );
    for (t, i, s) in rows {
        let node = nodes.get(i).map_or("", |n| n.node.as_str());
        let mut cells = vec![timestamp(t), t.to_string(), node.to_string()];
        cells.extend(columns.iter().map(|c| number(s.values.get(*c).copied())));
        push_row(&mut out, cells);
    }
    out
}

/// The client-series CSV: `timestamp, unix_time, ops_per_sec, <command>_ops_per_sec…,
/// kb_per_sec, mean_latency_ms, max_latency_ms, p50_ms, p99_ms, p99_9_ms, tasks`; an empty cell
/// where a value is null (a command absent from a second is unknown, not zero).
pub fn client_csv(r: &RunResult) -> String {
    let commands: BTreeSet<&str> = r
        .series
        .iter()
        .flat_map(|p| p.commands.keys().map(String::as_str))
        .collect();
    let mut out = String::with_capacity(96 * (r.series.len() + 1));
    let mut header = vec![
        "timestamp".to_string(),
        "unix_time".into(),
        "ops_per_sec".into(),
    ];
    header.extend(commands.iter().map(|c| format!("{c}_ops_per_sec")));
    header.extend(
        [
            "kb_per_sec",
            "mean_latency_ms",
            "max_latency_ms",
            "p50_ms",
            "p99_ms",
            "p99_9_ms",
            "tasks",
        ]
        .map(String::from),
    );
    push_row(&mut out, &header);
    for p in &r.series {
        let mut cells = vec![timestamp(p.t), p.t.to_string(), p.ops_per_sec.to_string()];
        cells.extend(
            commands
                .iter()
                .map(|c| p.commands.get(*c).map_or_else(String::new, u64::to_string)),
        );
        cells.extend([
            number(Some(p.kb_per_sec)),
            number(p.mean_latency_ms),
            number(p.max_latency_ms),
            number(p.p50_ms),
            number(p.p99_ms),
            number(p.p99_9_ms),
        ]);
        cells.push(p.tasks.to_string());
        push_row(&mut out, cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn numbers_round_trip_and_nulls_are_empty() {
        assert_eq!(number(Some(42.0)), "42");
        assert_eq!(number(Some(0.151)), "0.151");
        assert_eq!(number(Some(1310.03)), "1310.03");
        assert_eq!(number(None), "");
        assert_eq!(number(Some(f64::NAN)), "");
        assert_eq!(number(Some(f64::INFINITY)), "");
        assert_eq!(timestamp(1_795_636_875), "2026-11-25T20:01:15Z");
    }
}
