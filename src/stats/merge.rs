//! The merge of several load generators into one result: rates summed, latency histograms added
//! (never percentiles averaged), per-second series aligned on wall-clock seconds. Pure.

use std::collections::BTreeMap;

use crate::client::{new_histogram, ClientResult, CommandStats, LatencyHistogram, Second};
use crate::stats::percentile::{round_us, LatencySummary};
use crate::stats::series::SeriesPoint;
use crate::stats::window::{offsets_inside, Window};

/// Merged stats of one command (or the total).
#[derive(Clone, Debug, Default)]
pub struct Merged {
    /// Operations.
    pub count: u64,
    /// Operations per second (`None` when nothing was measured).
    pub ops_per_sec: Option<f64>,
    /// GET hits per second (`None` where not applicable or not known).
    pub hits_per_sec: Option<f64>,
    /// GET misses per second.
    pub misses_per_sec: Option<f64>,
    /// KiB/s in and out.
    pub kb_per_sec: Option<f64>,
    /// Latency summary in ms.
    pub latency: LatencySummary,
    /// Whether `latency` comes from a merged histogram (exact) rather than printed numbers.
    pub latency_exact: bool,
    /// The merged histogram (µs), when every contributor had one.
    pub histogram: Option<LatencyHistogram>,
}

/// A view of the run: total and per command.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// All commands.
    pub total: Merged,
    /// Per lower-case command.
    pub commands: BTreeMap<String, Merged>,
}

fn command_keys(clients: &[&ClientResult]) -> Vec<String> {
    let mut keys: Vec<String> = clients
        .iter()
        .flat_map(|c| c.commands.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn sum_opt(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.fold(None, |acc, v| match (acc, v) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    })
}

/// Add histograms; `None` if any contributor with operations has none.
fn merge_histograms<'a>(
    parts: impl Iterator<Item = (u64, Option<&'a LatencyHistogram>)>,
) -> Option<LatencyHistogram> {
    let mut merged = new_histogram();
    for (count, h) in parts {
        match h {
            Some(h) => {
                // Every histogram in the product shares the same bounds, so `add` cannot fail.
                let _ = merged.add(h);
            }
            None if count > 0 => return None,
            None => {}
        }
    }
    Some(merged)
}

/// Merge one command's whole-run stats across clients.
fn merge_whole(stats: &[&CommandStats]) -> Merged {
    let contributing: Vec<&&CommandStats> = stats.iter().filter(|s| s.count > 0).collect();
    let count = stats.iter().map(|s| s.count).sum();
    let histogram = merge_histograms(stats.iter().map(|s| (s.count, s.histogram.as_ref())));
    let (latency, latency_exact) = match (&histogram, contributing.as_slice()) {
        (Some(h), _) if !h.is_empty() => (LatencySummary::from_histogram(h), true),
        // One generator without a histogram: its own printed numbers are still right.
        (_, [one]) => (
            LatencySummary::from_reported(
                one.reported.mean_ms,
                &one.reported.percentiles,
                one.reported.max_ms,
            ),
            false,
        ),
        // Several without histograms: percentiles cannot be merged honestly.
        _ => (LatencySummary::default(), false),
    };
    Merged {
        count,
        ops_per_sec: (!stats.is_empty()).then(|| stats.iter().map(|s| s.ops_per_sec).sum()),
        hits_per_sec: sum_opt(stats.iter().map(|s| s.hits_per_sec)),
        misses_per_sec: sum_opt(stats.iter().map(|s| s.misses_per_sec)),
        kb_per_sec: sum_opt(stats.iter().map(|s| s.kb_per_sec)),
        latency,
        latency_exact,
        histogram: histogram.filter(|h| !h.is_empty()),
    }
}

fn select<'a>(clients: &[&'a ClientResult], key: Option<&str>) -> Vec<&'a CommandStats> {
    clients
        .iter()
        .filter_map(|c| match key {
            None => Some(&c.totals),
            Some(k) => c.commands.get(k),
        })
        .collect()
}

/// The whole-run view: each generator's own rates summed (comparable with memtier's own numbers),
/// latency from the sum of the histograms.
pub fn whole_run(clients: &[&ClientResult]) -> View {
    let mut view = View {
        total: merge_whole(&select(clients, None)),
        commands: BTreeMap::new(),
    };
    if clients.is_empty() {
        view.total.ops_per_sec = None;
    }
    for k in command_keys(clients) {
        view.commands
            .insert(k.clone(), merge_whole(&select(clients, Some(&k))));
    }
    view
}

/// Where the steady-state latency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyScope {
    /// Exact, from per-second histograms inside the window.
    Window,
    /// memtier keeps no per-second histograms: latency covers the whole run.
    WholeRun,
}

/// Steady-state stats of one command inside the window: each generator's rate over its own whole
/// seconds inside the window (a missing second counts as zero), summed over generators.
fn merge_window(
    clients: &[&ClientResult],
    key: Option<&str>,
    w: &Window,
    whole: &Merged,
) -> (Merged, bool) {
    let mut count = 0u64;
    let mut ops = 0.0;
    let mut kb = 0.0;
    let mut hits: Option<f64> = Some(0.0);
    let mut misses: Option<f64> = Some(0.0);
    let mut hist = Some(new_histogram());
    let mut any = false;
    for c in clients {
        let Some(start) = c.start_ms else { continue };
        let stats = match key {
            None => Some(&c.totals),
            Some(k) => c.commands.get(k),
        };
        let range = offsets_inside(start, w);
        let slots = range.len();
        if slots == 0 {
            continue;
        }
        any = true;
        let Some(stats) = stats else { continue };
        let inside = seconds_in(&stats.series, range);
        let n: u64 = inside.iter().map(|s| s.count).sum();
        let bytes: u64 = inside.iter().map(|s| s.bytes_rx + s.bytes_tx).sum();
        count += n;
        ops += n as f64 / slots as f64;
        kb += bytes as f64 / 1024.0 / slots as f64;
        let h_sum: Option<u64> = inside.iter().map(|s| s.hits).sum();
        let m_sum: Option<u64> = inside.iter().map(|s| s.misses).sum();
        hits = hits.zip(h_sum).map(|(a, b)| a + b as f64 / slots as f64);
        misses = misses.zip(m_sum).map(|(a, b)| a + b as f64 / slots as f64);
        if let Some(acc) = hist.as_mut() {
            for s in inside {
                match &s.histogram {
                    Some(h) => h.add_into(acc),
                    None if s.count > 0 => {
                        hist = None;
                        break;
                    }
                    None => {}
                }
            }
        }
    }
    let hits_apply = whole.hits_per_sec.is_some();
    let exact = hist.as_ref().is_some_and(|h| !h.is_empty());
    let latency = match &hist {
        Some(h) if exact => LatencySummary::from_histogram(h),
        _ => whole.latency.clone(),
    };
    (
        Merged {
            count,
            ops_per_sec: any.then_some(ops),
            hits_per_sec: hits.filter(|_| hits_apply && any),
            misses_per_sec: misses.filter(|_| hits_apply && any),
            kb_per_sec: any.then_some(kb),
            latency,
            latency_exact: exact || whole.latency_exact,
            histogram: hist.filter(|_| exact),
        },
        exact,
    )
}

/// Seconds of a series whose offsets fall in `range` (the series is sorted by offset).
fn seconds_in(series: &[Second], range: std::ops::Range<u32>) -> &[Second] {
    let lo = series.partition_point(|s| s.offset < range.start);
    let hi = series.partition_point(|s| s.offset < range.end);
    &series[lo..hi]
}

/// The steady-state view over a window, and where its latency came from.
pub fn steady_state(clients: &[&ClientResult], w: &Window, whole: &View) -> (View, LatencyScope) {
    let (total, mut exact) = merge_window(clients, None, w, &whole.total);
    let mut commands = BTreeMap::new();
    for (k, wm) in &whole.commands {
        let (m, e) = merge_window(clients, Some(k), w, wm);
        exact &= e || m.count == 0;
        commands.insert(k.clone(), m);
    }
    let scope = if exact {
        LatencyScope::Window
    } else {
        LatencyScope::WholeRun
    };
    (View { total, commands }, scope)
}

#[derive(Default)]
struct Acc {
    ops: u64,
    commands: BTreeMap<String, u64>,
    bytes: u64,
    lat_sum: f64,
    lat_n: u64,
    max: Option<f64>,
    hist: Option<LatencyHistogram>,
    hist_complete: bool,
    tasks: u32,
}

/// Per-second totals aligned on wall-clock seconds: a generator's second `k` is counted in Unix
/// second `floor((start_ms + 1000 k) / 1000)`.
pub fn aligned_series(clients: &[&ClientResult]) -> Vec<SeriesPoint> {
    // KiB/s are kept to 2 decimals, as memtier prints them.
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let timed: Vec<(&ClientResult, u64)> = clients
        .iter()
        .filter_map(|c| Some((*c, c.start_ms?)))
        .collect();
    let Some(t0) = timed.iter().map(|(_, s)| s / 1000).min() else {
        return Vec::new();
    };
    let t1 = timed
        .iter()
        .map(|(c, s)| (s + 1000 * u64::from(c.totals.series.last().map_or(0, |x| x.offset))) / 1000)
        .max()
        .unwrap_or(t0);
    let len = usize::try_from(t1 - t0 + 1).unwrap_or(0);
    let mut acc: Vec<Acc> = (0..len)
        .map(|_| Acc {
            hist_complete: true,
            ..Acc::default()
        })
        .collect();
    let slot = |start: u64, offset: u32| {
        usize::try_from((start + 1000 * u64::from(offset)) / 1000 - t0).ok()
    };
    for (c, start) in &timed {
        for s in &c.totals.series {
            let Some(a) = slot(*start, s.offset).and_then(|i| acc.get_mut(i)) else {
                continue;
            };
            a.ops += s.count;
            a.bytes += s.bytes_rx + s.bytes_tx;
            a.tasks += 1;
            if let Some(m) = s.mean_latency_ms {
                a.lat_sum += m * s.count as f64;
                a.lat_n += s.count;
            }
            if let Some(m) = s.max_latency_ms {
                a.max = Some(a.max.map_or(m, |x: f64| x.max(m)));
            }
            match &s.histogram {
                Some(h) => h.add_into(a.hist.get_or_insert_with(new_histogram)),
                None if s.count > 0 => a.hist_complete = false,
                None => {}
            }
        }
        for (k, cs) in &c.commands {
            for s in &cs.series {
                if let Some(a) = slot(*start, s.offset).and_then(|i| acc.get_mut(i)) {
                    // Look up before inserting: `entry` would clone the key for every second.
                    match a.commands.get_mut(k) {
                        Some(n) => *n += s.count,
                        None => {
                            a.commands.insert(k.clone(), s.count);
                        }
                    }
                }
            }
        }
    }
    acc.into_iter()
        .enumerate()
        .filter(|(_, a)| a.tasks > 0)
        .map(|(i, a)| {
            let hist = a.hist.filter(|h| a.hist_complete && !h.is_empty());
            let summary = hist
                .as_ref()
                .map(LatencySummary::from_histogram)
                .unwrap_or_default();
            SeriesPoint {
                t: t0 + i as u64,
                ops_per_sec: a.ops,
                commands: a.commands,
                kb_per_sec: round2(a.bytes as f64 / 1024.0),
                mean_latency_ms: (a.lat_n > 0).then(|| round_us(a.lat_sum / a.lat_n as f64)),
                max_latency_ms: a.max,
                p50_ms: summary.p50,
                p99_ms: summary.p99,
                p99_9_ms: summary.p99_9,
                tasks: a.tasks,
            }
        })
        .collect()
}
