//! Pure parsing of memtier_benchmark 2.x outputs (JSON, HDR logs, stdout table, stderr/combined logs)
//! into one judged client result per load generator. No I/O: callers hand in the files' text.

pub mod command;
pub mod hdr;
pub mod json;
pub mod judge;
pub mod log;
pub mod table;

use std::collections::BTreeMap;

use crate::client::{
    new_histogram, ClientResult, ClientSource, CommandStats, JudgedClient, ReportedLatency, Second,
};

/// Why memtier output could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    /// The JSON stops mid-document (memtier was killed before closing it).
    #[error("the JSON is truncated (memtier did not finish writing it)")]
    TruncatedJson,
    /// The JSON is malformed.
    #[error("the JSON is not valid: {0}")]
    InvalidJson(String),
    /// A histogram could not be decoded.
    #[error("a latency histogram could not be decoded: {0}")]
    Histogram(String),
    /// Nothing here is memtier output.
    #[error("not memtier output: {0}")]
    NotMemtier(String),
}

/// The raw outputs of one load generator, as text.
#[derive(Debug, Default, Clone)]
pub struct TaskOutputs {
    /// Task id.
    pub id: String,
    /// `--json-out-file` content.
    pub json: Option<String>,
    /// stdout.
    pub stdout: Option<String>,
    /// stderr.
    pub stderr: Option<String>,
    /// stdout and stderr in one stream (a container log).
    pub combined: Option<String>,
    /// `.hgrm` interval logs: (file name, content).
    pub hgrm: Vec<(String, String)>,
    /// Exit status of the load generator's command, when recorded.
    pub exit_code: Option<i32>,
}

/// What became of the JSON file, for the verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonState {
    /// No JSON was given.
    Absent,
    /// Parsed.
    Parsed,
    /// Cut off mid-document.
    Truncated,
    /// Present but unreadable.
    Invalid(String),
}

/// Facts about the outputs that the verdict needs beyond the numbers.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The JSON's fate.
    pub json: JsonState,
    /// Whether a stdout stream was given and was empty.
    pub stdout_empty: bool,
    /// Whether a summary table or JSON section was found.
    pub has_summary: bool,
    /// Configured test time in seconds, when known.
    pub configured_secs: Option<u64>,
}

/// Parse one load generator's outputs and judge them. Fails only when nothing in them is memtier output.
pub fn parse_task(out: &TaskOutputs) -> Result<JudgedClient, ParseError> {
    let (doc, json_state) = match out.json.as_deref() {
        None => (None, JsonState::Absent),
        Some(text) => match json::parse(text) {
            Ok(doc) => (Some(doc), JsonState::Parsed),
            Err(ParseError::TruncatedJson) => (None, JsonState::Truncated),
            Err(e) => (None, JsonState::Invalid(e.to_string())),
        },
    };

    let stdout_summary = out
        .stdout
        .as_deref()
        .or(out.combined.as_deref())
        .map(table::parse)
        .unwrap_or_default();

    let mut client = None;
    let mut configured_secs = None;
    if let Some(doc) = doc {
        if let Some(cfg) = &doc.configuration {
            configured_secs = cfg.test_time.filter(|&t| t > 0);
        }
        client = from_json(&out.id, doc)?;
    }
    // Progress lines are only read when the JSON gave no result (they then become the series or
    // the count); with a JSON result the log is scanned for errors only, skipping the progress
    // regex, which dominates the cost of a long run's stderr.
    let log_text = out.stderr.as_deref().or(out.combined.as_deref());
    let log_parse = if client.is_some() {
        log::parse_errors
    } else {
        log::parse
    };
    let log = log_text.map(log_parse).unwrap_or_default();
    if client.is_none() {
        client = from_table(&out.id, &stdout_summary);
        if client.is_some() {
            configured_secs = configured_secs.or(stdout_summary.seconds);
        }
    }
    let has_summary = client.is_some();
    let mut client = match client {
        Some(c) => c,
        None => {
            let recognised = log.looks_like_memtier
                || !log.errors.is_empty()
                || matches!(json_state, JsonState::Truncated)
                || out.exit_code.is_some()
                    && (out.json.is_some() || out.stdout.is_some() || out.stderr.is_some());
            if !recognised {
                return Err(ParseError::NotMemtier(match json_state {
                    JsonState::Invalid(e) => format!("the JSON is not memtier's ({e})"),
                    _ => "no memtier JSON, summary table or progress lines found".into(),
                }));
            }
            from_progress(&out.id, &log)
        }
    };
    if client.source == ClientSource::MemtierStdout {
        attach_hgrm(&mut client, &out.hgrm)?;
    }
    if client.source != ClientSource::MemtierJson && client.totals.series.is_empty() {
        client.totals.series = progress_series(&log);
    }
    client.exit_code = out.exit_code;
    client.errors.clone_from(&log.errors);
    client.interrupted |= log.interrupted;
    if stdout_summary.skipped_rows > 0 {
        client.notes.push(format!(
            "{} summary row(s) unreadable (a log line was spliced into them)",
            stdout_summary.skipped_rows
        ));
    }
    let evidence = Evidence {
        json: json_state,
        stdout_empty: out.stdout.as_deref().is_some_and(|s| s.trim().is_empty()),
        has_summary,
        configured_secs,
    };
    let (status, reasons) = judge::judge(&client, &evidence);
    Ok(JudgedClient {
        result: client,
        status,
        reasons,
    })
}

/// Build a client result from a parsed JSON document; `None` when it has no results section.
fn from_json(id: &str, doc: json::MemtierJson) -> Result<Option<ClientResult>, ParseError> {
    let mut c = ClientResult::new(id, ClientSource::MemtierJson);
    if let Some(cfg) = &doc.configuration {
        c.workload = cfg.workload();
    }
    if let Some(ri) = &doc.run_information {
        c.workload.threads = c.workload.threads.or(ri.threads);
        c.workload.clients = c.workload.clients.or(ri.connections_per_thread);
    }
    c.generator = Some("memtier_benchmark".into());
    let (sections, note) = json::take_sections(doc.sections);
    if sections.is_empty() {
        return Ok(None);
    }
    c.notes.extend(note);
    let multi = sections.len() > 1;
    let mut total_ms = 0u64;
    for section in sections {
        let rt = &section.runtime;
        if c.start_ms.is_none() {
            c.start_ms = rt.start_time.filter(|&s| s > 0);
        }
        total_ms += rt.total_duration.unwrap_or(0);
        c.interrupted |= rt.interrupted.as_deref() == Some("true");
        for (name, obj) in section.types {
            let key = json::command_key(&name);
            let hits_apply = matches!(key.as_deref(), None | Some("get"));
            if key.is_none() {
                c.connection_errors += obj.connection_errors.unwrap_or(0);
            }
            let stats = obj.into_stats(hits_apply, key.is_none())?;
            match key {
                None => accumulate(&mut c.totals, stats, multi),
                Some(k) => {
                    if stats.count == 0 {
                        continue;
                    }
                    match c.commands.get_mut(&k) {
                        Some(existing) => accumulate(existing, stats, multi),
                        None => {
                            c.commands.insert(k, stats);
                        }
                    }
                }
            }
        }
    }
    c.duration_ms = (total_ms > 0).then_some(total_ms);
    if multi {
        // Rates of several sequential runs: total count over total time.
        let secs = total_ms as f64 / 1000.0;
        for s in std::iter::once(&mut c.totals).chain(c.commands.values_mut()) {
            if secs > 0.0 {
                s.ops_per_sec = s.count as f64 / secs;
            }
            s.series.clear();
        }
        c.notes
            .push("per-second series are not combined across runs".into());
    }
    Ok(Some(c))
}

/// Add a later run's stats into `acc` (only used with `--run-count`; a single section is moved as is).
fn accumulate(acc: &mut CommandStats, s: CommandStats, multi: bool) {
    if !multi || acc.count == 0 && acc.histogram.is_none() {
        *acc = s;
        return;
    }
    acc.count += s.count;
    acc.hits_per_sec = sum_opt(acc.hits_per_sec, s.hits_per_sec);
    acc.misses_per_sec = sum_opt(acc.misses_per_sec, s.misses_per_sec);
    acc.kb_per_sec = sum_opt(acc.kb_per_sec, s.kb_per_sec);
    match (&mut acc.histogram, s.histogram) {
        (Some(a), Some(b)) => {
            // Same bounds everywhere: adding cannot fail.
            let _ = a.add(&b);
        }
        (a @ None, b) => *a = b,
        (Some(_), None) => {}
    }
    acc.reported = ReportedLatency::default();
}

fn sum_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Build a client result from the stdout summary; `None` when there is no table.
fn from_table(id: &str, summary: &table::Summary) -> Option<ClientResult> {
    let table = summary
        .tables
        .iter()
        .find(|t| t.title == "ALL STATS")
        .or_else(|| {
            summary
                .tables
                .iter()
                .find(|t| t.title == "BEST RUN RESULTS")
        })
        .or_else(|| summary.tables.first())?;
    let mut c = ClientResult::new(id, ClientSource::MemtierStdout);
    c.generator = Some("memtier_benchmark".into());
    c.workload.threads = summary.threads;
    c.workload.clients = summary.connections_per_thread;
    c.workload.test_time_secs = summary.seconds;
    c.workload.requests = summary.requests_per_client;
    c.notes
        .push("read from memtier's stdout table: no per-second series or histograms in it".into());
    let mut any_totals = false;
    for row in &table.rows {
        let key = json::command_key(&row.name);
        let hits_apply = matches!(key.as_deref(), None | Some("get"));
        let mut s = CommandStats::empty();
        s.ops_per_sec = row.ops_per_sec;
        s.hits_per_sec = if hits_apply { row.hits_per_sec } else { None };
        s.misses_per_sec = if hits_apply { row.misses_per_sec } else { None };
        s.kb_per_sec = row.kb_per_sec;
        s.reported = ReportedLatency {
            mean_ms: row.avg_latency_ms,
            percentiles: if row.ops_per_sec > 0.0 {
                row.percentiles.clone()
            } else {
                Vec::new()
            },
            max_ms: None,
        };
        // The table has rates, not counts: derive the count from the configured duration.
        if let Some(secs) = summary.seconds {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let count = (row.ops_per_sec * secs as f64).round() as u64;
            s.count = count;
        } else if row.ops_per_sec > 0.0 {
            s.count = 1; // unknown but non-zero: only "some operations happened" is known.
        }
        match key {
            None => {
                any_totals = true;
                c.totals = s;
            }
            Some(k) if row.ops_per_sec > 0.0 => {
                c.commands.insert(k, s);
            }
            Some(_) => {}
        }
    }
    any_totals.then_some(c)
}

/// A client result from progress lines only (the summary never came).
fn from_progress(id: &str, log: &log::LogSummary) -> ClientResult {
    let mut c = ClientResult::new(id, ClientSource::MemtierProgress);
    c.generator = Some("memtier_benchmark".into());
    if let Some(last) = log.progress.last() {
        c.totals.count = last.ops;
    }
    c
}

/// Per-second totals from progress lines (coarse: ops and mean latency of the last second).
fn progress_series(log: &log::LogSummary) -> Vec<Second> {
    let mut out: Vec<Second> = Vec::new();
    for p in log.progress.iter().filter(|p| p.run == 1) {
        if out.last().is_some_and(|s| s.offset >= p.secs) {
            continue;
        }
        out.push(Second {
            offset: p.secs,
            count: p.ops_per_sec,
            mean_latency_ms: p.latency_ms,
            ..Second::default()
        });
    }
    out
}

/// Fill missing histograms from `.hgrm` interval logs (runs added together).
fn attach_hgrm(c: &mut ClientResult, files: &[(String, String)]) -> Result<(), ParseError> {
    let mut by_cmd: BTreeMap<Option<String>, crate::client::LatencyHistogram> = BTreeMap::new();
    for (name, text) in files {
        let Some((cmd, _run)) = hdr::classify_hgrm_name(name) else {
            continue;
        };
        for interval in hdr::parse_hgrm(text)? {
            let h = by_cmd.entry(cmd.clone()).or_insert_with(new_histogram);
            let _ = h.add(&interval.histogram);
        }
    }
    for (cmd, h) in by_cmd {
        let slot = match &cmd {
            None => Some(&mut c.totals),
            Some(k) => c.commands.get_mut(k),
        };
        if let Some(s) = slot {
            if s.histogram.is_none() && !h.is_empty() {
                if s.count == 0 || s.count == 1 {
                    s.count = h.len();
                }
                s.histogram = Some(h);
            }
        }
    }
    Ok(())
}
