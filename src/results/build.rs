//! Assembly of a [`RunResult`] from judged load-generator results: choose the window, merge both
//! views, align the series. Pure: no clock, no I/O.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};

use super::{
    RunInfo, RunResult, StatsJson, SteadyStateJson, TaskJson, ToolInfo, ViewJson, WindowJson,
    SCHEMA_ID,
};
use crate::client::{ClientResult, JudgedClient, LatencyHistogram, TaskStatus};
use crate::stats::merge::{self, LatencyScope, Merged, View};
use crate::stats::window::{self, WindowSpec};

/// What the caller knows beyond the load generators' outputs.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// `analyze`, `local` or `aws`.
    pub target: String,
    /// Run id, when this tool made the run.
    pub run_id: Option<String>,
    /// Warm-up and ramp-down trimming.
    pub window: WindowSpec,
}

/// RFC 3339 (ms precision, UTC) of a Unix millisecond timestamp.
pub fn rfc3339_ms(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn stats_json(m: &Merged) -> StatsJson {
    StatsJson {
        count: m.count,
        ops_per_sec: m.ops_per_sec.map(round2),
        hits_per_sec: m.hits_per_sec.map(round2),
        misses_per_sec: m.misses_per_sec.map(round2),
        kb_per_sec: m.kb_per_sec.map(round2),
        latency_ms: m.latency.clone(),
    }
}

/// Rates are kept to 2 decimals, as memtier prints them.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn view_json(v: &View) -> ViewJson {
    ViewJson {
        total: stats_json(&v.total),
        commands: v
            .commands
            .iter()
            .map(|(k, m)| (k.clone(), stats_json(m)))
            .collect(),
        latency_exact: v.total.latency_exact
            && v.commands.values().all(|m| m.latency_exact || m.count == 0),
    }
}

/// Base64 of a histogram in HdrHistogram's V2 deflate encoding (what memtier writes too).
pub fn encode_histogram(h: &LatencyHistogram) -> Option<String> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(buf))
}

fn task_json(j: &JudgedClient) -> TaskJson {
    let c = &j.result;
    let (total, commands) = if j.status == TaskStatus::Failed {
        // A failed task's numbers are not results: keep only what it counted.
        (
            StatsJson {
                count: c.totals.count,
                ..StatsJson::default()
            },
            BTreeMap::new(),
        )
    } else {
        let v = view_json(&merge::whole_run(&[c]));
        (v.total, v.commands)
    };
    TaskJson {
        id: c.id.clone(),
        status: j.status,
        reason: (!j.reasons.is_empty()).then(|| j.reasons.join("; ")),
        source: serde_json::to_value(c.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        started_at: c.start_ms.map(rfc3339_ms),
        duration_secs: c.duration_ms.map(|ms| ms as f64 / 1000.0),
        exit_code: c.exit_code,
        total,
        commands,
        errors: c.errors.clone(),
        notes: c.notes.clone(),
    }
}

/// Build the result document. Failed generators are listed but not merged.
pub fn build(judged: &[JudgedClient], opts: &BuildOptions) -> RunResult {
    let usable: Vec<&ClientResult> = judged
        .iter()
        .filter(|j| j.status != TaskStatus::Failed)
        .map(|j| &j.result)
        .collect();
    let mut notes = Vec::new();
    let whole = merge::whole_run(&usable);
    if !usable.is_empty() && !whole.total.latency_exact {
        notes.push(
            "latency percentiles are not exact: some load generators left no histogram (stdout only)".to_string(),
        );
    }

    let (steady, window_json, scope) = steady_state(&usable, opts, &whole, &mut notes);

    let series = merge::aligned_series(&usable);

    let histograms = histograms(&whole);

    let failed = judged
        .iter()
        .filter(|j| j.status == TaskStatus::Failed)
        .count();
    let status = if usable.is_empty() {
        TaskStatus::Failed
    } else if judged.iter().any(|j| j.status != TaskStatus::Ok) {
        TaskStatus::Degraded
    } else {
        TaskStatus::Ok
    };
    if failed > 0 && !usable.is_empty() {
        notes.push(format!(
            "{failed} of {} load generators failed and are left out of the merged numbers",
            judged.len()
        ));
    }

    let run = run_info(judged, &usable, opts);

    let steady_json = view_json(&steady);
    RunResult {
        schema: SCHEMA_ID.to_string(),
        tool: ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        status,
        run,
        whole_run: view_json(&whole),
        steady_state: SteadyStateJson {
            window: window_json,
            latency_scope: match scope {
                LatencyScope::Window => "window",
                LatencyScope::WholeRun => "whole_run",
            }
            .to_string(),
            total: steady_json.total,
            commands: steady_json.commands,
        },
        series,
        tasks: judged.iter().map(task_json).collect(),
        histograms,
        server: None,
        timeline: Vec::new(),
        notes,
    }
}

/// The steady-state window and the view over it; without one (and why, in the notes), the whole
/// run again.
fn steady_state(
    usable: &[&ClientResult],
    opts: &BuildOptions,
    whole: &View,
    notes: &mut Vec<String>,
) -> (View, WindowJson, LatencyScope) {
    let (steady, window_json, scope) = match window::choose(usable, opts.window) {
        Ok(w) => {
            let (v, scope) = merge::steady_state(usable, &w, whole);
            let wj = WindowJson {
                start: Some(rfc3339_ms(w.start_ms)),
                end: Some(rfc3339_ms(w.end_ms)),
                start_unix_ms: Some(w.start_ms),
                end_unix_ms: Some(w.end_ms),
                duration_secs: Some(w.duration_secs()),
                warmup_secs: w.warmup_secs,
                rampdown_secs: w.rampdown_secs,
                method: w.method.clone(),
            };
            (v, wj, scope)
        }
        Err(why) => {
            if !usable.is_empty() {
                notes.push(format!(
                    "no steady-state window: {why}; the steady-state view repeats the whole run"
                ));
            }
            let wj = WindowJson {
                start: None,
                end: None,
                start_unix_ms: None,
                end_unix_ms: None,
                duration_secs: None,
                warmup_secs: 0,
                rampdown_secs: 0,
                method: format!("whole run ({why})"),
            };
            (whole.clone(), wj, LatencyScope::WholeRun)
        }
    };
    (steady, window_json, scope)
}

/// The whole run's latency histograms, total and per command, encoded.
fn histograms(whole: &View) -> BTreeMap<String, String> {
    let mut histograms = BTreeMap::new();
    if let Some(h) = &whole.total.histogram {
        histograms.extend(encode_histogram(h).map(|s| ("total".to_string(), s)));
    }
    for (k, m) in &whole.commands {
        if let Some(h) = &m.histogram {
            histograms.extend(encode_histogram(h).map(|s| (k.clone(), s)));
        }
    }
    histograms
}

/// The run's own facts: its id and target, the load generator, the tasks and when they ran.
fn run_info(judged: &[JudgedClient], usable: &[&ClientResult], opts: &BuildOptions) -> RunInfo {
    let starts = usable.iter().filter_map(|c| c.start_ms);
    let ends = usable
        .iter()
        .filter_map(|c| Some(c.start_ms? + c.duration_ms?));
    let first = judged.first().map(|j| &j.result);
    RunInfo {
        id: opts.run_id.clone(),
        target: opts.target.clone(),
        load_generator: first.and_then(|c| c.generator.clone()),
        task_count: judged.len(),
        started_at: starts.min().map(rfc3339_ms),
        finished_at: ends.max().map(rfc3339_ms),
        workload: first.and_then(|c| serde_json::to_value(&c.workload).ok()),
        details: super::RunDetails::default(),
    }
}
