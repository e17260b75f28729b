//! memtier's stdout summary: the run header and the results tables (the fallback when no JSON exists;
//! it is also what a combined container log always carries).

use std::collections::BTreeMap;

/// One row of a results table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Row name as printed (`Sets`, `Gets`, `Waits`, `Incrs`, `Totals`).
    pub name: String,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Hits per second (`None` for `---` or when the column is absent).
    pub hits_per_sec: Option<f64>,
    /// Misses per second.
    pub misses_per_sec: Option<f64>,
    /// Mean latency, ms.
    pub avg_latency_ms: Option<f64>,
    /// (percentile, ms).
    pub percentiles: Vec<(f64, f64)>,
    /// KiB/s.
    pub kb_per_sec: Option<f64>,
}

/// A results table (`ALL STATS`, `RUN #1 RESULTS` …).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Section title.
    pub title: String,
    /// Rows in order.
    pub rows: Vec<TableRow>,
}

/// Everything read from a stdout summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// `N Threads`.
    pub threads: Option<u64>,
    /// `N Connections per thread`.
    pub connections_per_thread: Option<u64>,
    /// `N Seconds`.
    pub seconds: Option<u64>,
    /// `N Requests per client`.
    pub requests_per_client: Option<u64>,
    /// Result tables.
    pub tables: Vec<Table>,
    /// Rows that could not be read (e.g. a stderr line spliced into them in a combined log).
    pub skipped_rows: usize,
}

fn is_title(line: &str) -> bool {
    let l = line.trim();
    l == "ALL STATS"
        || (l.starts_with("RUN #") && l.ends_with(" RESULTS"))
        || l == "BEST RUN RESULTS"
        || l == "WORST RUN RESULTS"
        || l.starts_with("AGGREGATED AVERAGE RESULTS")
}

/// Split a header row into column names; `Avg. Latency`, `p50 Latency` are two words each.
fn header_columns(line: &str) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for tok in line.split_whitespace() {
        if tok == "Latency" {
            if let Some(last) = cols.last_mut() {
                last.push_str(" Latency");
                continue;
            }
        }
        cols.push(tok.to_string());
    }
    cols
}

fn cell(tok: &str) -> Option<f64> {
    match tok {
        "---" => None,
        t if t.contains("nan") => None,
        t => t.parse().ok(),
    }
}

/// `p99.990 Latency` → 99.99 (memtier prints float noise in the digits; round to 3 decimals).
fn percentile_of(col: &str) -> Option<f64> {
    let n: f64 = col
        .strip_prefix('p')?
        .strip_suffix(" Latency")?
        .parse()
        .ok()?;
    Some((n * 1000.0).round() / 1000.0)
}

fn header_number(line: &str, label: &str) -> Option<u64> {
    let l = line.trim();
    let (n, rest) = l.split_once(char::is_whitespace)?;
    (rest.trim() == label).then(|| n.parse().ok()).flatten()
}

/// Parse a stdout (or combined) text. Lines may be split by `\n` or `\r`.
pub fn parse(text: &str) -> Summary {
    let mut out = Summary::default();
    let lines: Vec<&str> = text.split(['\n', '\r']).collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if out.threads.is_none() {
            out.threads = header_number(line, "Threads");
        }
        if out.connections_per_thread.is_none() {
            out.connections_per_thread = header_number(line, "Connections per thread");
        }
        if out.seconds.is_none() {
            out.seconds = header_number(line, "Seconds");
        }
        if out.requests_per_client.is_none() {
            out.requests_per_client = header_number(line, "Requests per client");
        }
        if is_title(line) {
            let title = line.trim().to_string();
            // title, ====, header, ----, rows…, blank
            let mut j = i + 1;
            while j < lines.len() && !lines[j].trim_start().starts_with("Type") {
                if j > i + 3 {
                    break;
                }
                j += 1;
            }
            if j >= lines.len() || !lines[j].trim_start().starts_with("Type") {
                i += 1;
                continue;
            }
            let cols = header_columns(lines[j]);
            let mut rows = Vec::new();
            let mut k = j + 1;
            while k < lines.len() {
                let l = lines[k].trim();
                k += 1;
                if l.starts_with("---") {
                    continue;
                }
                if l.is_empty() {
                    break;
                }
                match parse_row(&cols, l) {
                    Some(r) => rows.push(r),
                    None => out.skipped_rows += 1,
                }
            }
            out.tables.push(Table { title, rows });
            i = k;
            continue;
        }
        i += 1;
    }
    out
}

fn parse_row(cols: &[String], line: &str) -> Option<TableRow> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    if toks.len() != cols.len() || cols.first().map(String::as_str) != Some("Type") {
        return None;
    }
    let by_col: BTreeMap<&str, &str> = cols
        .iter()
        .map(String::as_str)
        .zip(toks.iter().copied())
        .collect();
    let name = (*by_col.get("Type")?).to_string();
    if !name.chars().next()?.is_ascii_uppercase() {
        return None;
    }
    let ops_per_sec = cell(by_col.get("Ops/sec")?)?;
    let mut percentiles = Vec::new();
    for (c, t) in cols.iter().zip(&toks) {
        if let Some(p) = percentile_of(c) {
            if let Some(v) = cell(t) {
                percentiles.push((p, v));
            }
        }
    }
    Some(TableRow {
        name,
        ops_per_sec,
        hits_per_sec: by_col.get("Hits/sec").and_then(|t| cell(t)),
        misses_per_sec: by_col.get("Misses/sec").and_then(|t| cell(t)),
        avg_latency_ms: by_col.get("Avg. Latency").and_then(|t| cell(t)),
        percentiles,
        kb_per_sec: by_col.get("KB/sec").and_then(|t| cell(t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_merges_latency_words() {
        let cols =
            header_columns("Type  Ops/sec  Avg. Latency  p50 Latency  p99.990 Latency  KB/sec");
        assert_eq!(
            cols,
            [
                "Type",
                "Ops/sec",
                "Avg. Latency",
                "p50 Latency",
                "p99.990 Latency",
                "KB/sec"
            ]
        );
        assert_eq!(percentile_of("p99.990 Latency"), Some(99.99));
        assert_eq!(percentile_of("p99.9 Latency"), Some(99.9));
    }

    #[test]
    fn spliced_row_is_skipped_not_misread() {
        let text = "ALL STATS\n=====\nType Ops/sec KB/sec\n-----\nSets 1.0 2.0\nGets 3.0Saving JSON output file 4.0\n\n";
        let s = parse(text);
        assert_eq!(s.tables[0].rows.len(), 1);
        assert_eq!(s.skipped_rows, 1);
    }
}
