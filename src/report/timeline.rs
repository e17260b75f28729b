//! The chart's data, without drawing: lines in seconds since the start of the run, broken where a
//! value is missing, the steady-state window and reference levels. Pure, so it is tested apart from
//! the pixels.

use std::collections::BTreeMap;

use crate::results::server::names;
use crate::results::RunResult;

/// At most this many per-command throughput lines are drawn (the busiest); the CSV has them all.
pub const MAX_COMMAND_LINES: usize = 8;

/// At most this many server lines (nodes × CPU metrics) are drawn; the CSV has them all.
pub const MAX_SERVER_LINES: usize = 12;

/// A line broken into segments where values are missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Runs of consecutive points `(x seconds, y)`.
    pub segments: Vec<Vec<(f64, f64)>>,
}

impl Line {
    /// A line from optional values: a `None` breaks the line.
    fn from_points(
        label: impl Into<String>,
        points: impl Iterator<Item = (f64, Option<f64>)>,
    ) -> Self {
        let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut current = Vec::new();
        for (x, y) in points {
            match y.filter(|v| v.is_finite()) {
                Some(y) => current.push((x, y)),
                None if !current.is_empty() => segments.push(std::mem::take(&mut current)),
                None => {}
            }
        }
        if !current.is_empty() {
            segments.push(current);
        }
        Self {
            label: label.into(),
            segments,
        }
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// All points.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.segments.iter().flatten().copied()
    }
}

/// Everything the chart draws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Unix second of x = 0.
    pub origin_unix_s: u64,
    /// Right end of the time axis, seconds.
    pub x_max: f64,
    /// Total ops/s first, then per command (only when there are several commands).
    pub throughput: Vec<Line>,
    /// ops/s as counted by the server, summed over nodes (empty without server metrics).
    pub server_ops: Line,
    /// Mean and max per second, then p50/p99/p99.9 when the series has exact ones.
    pub latency: Vec<Line>,
    /// Whether exact per-second percentiles are among the latency lines.
    pub has_percentiles: bool,
    /// Server CPU lines, one per node and CPU metric.
    pub cpu: Vec<Line>,
    /// Server CPU lines left out beyond [`MAX_SERVER_LINES`].
    pub cpu_lines_dropped: usize,
    /// Whether the result has server metrics at all.
    pub has_server: bool,
    /// The steady-state window, seconds.
    pub window: Option<(f64, f64)>,
}

impl Timeline {
    /// Lay out a result on one time axis.
    pub fn of(r: &RunResult) -> Self {
        let interval = r.server.as_ref().map_or(1, |m| m.interval_secs.max(1));
        let (origin, end) = axis(r, interval);
        let throughput = throughput_lines(r, origin);
        let half = f64::from(interval) / 2.0;
        let server_ops = server_ops_line(r, origin, half);
        let (latency, has_percentiles) = latency_lines(r, origin);
        let (cpu, cpu_lines_dropped) = cpu_lines(r, origin, half);

        let w = &r.steady_state.window;
        let window = w.start_unix_ms.zip(w.end_unix_ms).map(|(a, b)| {
            let o = origin as f64 * 1000.0;
            ((a as f64 - o) / 1000.0, (b as f64 - o) / 1000.0)
        });
        Self {
            origin_unix_s: origin,
            x_max: (end - origin) as f64,
            throughput,
            server_ops,
            latency,
            has_percentiles,
            cpu,
            cpu_lines_dropped,
            has_server: r.server.is_some(),
            window,
        }
    }

    /// Whether there is any client data to draw.
    pub fn has_client_data(&self) -> bool {
        self.throughput.iter().any(|l| !l.is_empty())
    }
}

/// The server's samples, every node's.
fn server_samples(r: &RunResult) -> impl Iterator<Item = &crate::results::server::Sample> {
    r.server
        .iter()
        .flat_map(|m| m.nodes.iter())
        .flat_map(|n| n.samples.iter())
}

/// The time axis: its origin and its end (Unix seconds), over the series, the server's samples
/// and the steady-state window.
fn axis(r: &RunResult, interval: u32) -> (u64, u64) {
    let server_samples = || server_samples(r);
    // Series points cover [t, t + 1); server samples are stamped at the end of their interval.
    let starts = r
        .series
        .first()
        .map(|p| p.t)
        .into_iter()
        .chain(server_samples().map(|s| s.t.saturating_sub(u64::from(interval))))
        .chain(r.steady_state.window.start_unix_ms.map(|ms| ms / 1000));
    let origin = starts.min().unwrap_or(0);
    let ends = r
        .series
        .last()
        .map(|p| p.t + 1)
        .into_iter()
        .chain(server_samples().map(|s| s.t))
        .chain(
            r.steady_state
                .window
                .end_unix_ms
                .map(|ms| ms.div_ceil(1000)),
        );
    let end = ends.max().unwrap_or(origin).max(origin + 1);
    (origin, end)
}

/// Total throughput, then — when there are several commands — the busiest commands', in name
/// order.
fn throughput_lines(r: &RunResult, origin: u64) -> Vec<Line> {
    let rel = |t: u64| t.saturating_sub(origin) as f64;
    let mid = |t: u64| rel(t) + 0.5;
    let mut throughput = vec![Line::from_points(
        "total ops/s",
        r.series
            .iter()
            .map(|p| (mid(p.t), Some(p.ops_per_sec as f64))),
    )];
    // The busiest commands, in name order.
    let mut volume: BTreeMap<&String, u64> = BTreeMap::new();
    for (c, n) in r.series.iter().flat_map(|p| p.commands.iter()) {
        *volume.entry(c).or_insert(0) += n;
    }
    let mut busiest: Vec<(&String, u64)> = volume.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let several = busiest.len() > 1;
    busiest.truncate(MAX_COMMAND_LINES);
    let mut commands: Vec<&String> = busiest.into_iter().map(|(c, _)| c).collect();
    commands.sort();
    if several {
        throughput.extend(commands.iter().map(|c| {
            Line::from_points(
                format!("{c} ops/s"),
                r.series
                    .iter()
                    .map(|p| (mid(p.t), p.commands.get(*c).map(|&n| n as f64))),
            )
        }));
    }
    throughput
}

/// The server's own count of ops/s, summed over nodes at each sample time.
fn server_ops_line(r: &RunResult, origin: u64, half: f64) -> Line {
    let rel = |t: u64| t.saturating_sub(origin) as f64;
    let server_samples = || server_samples(r);
    let mut by_time: BTreeMap<u64, f64> = BTreeMap::new();
    for s in server_samples() {
        if let Some(v) = s.values.get(names::OPS_PER_SEC).filter(|v| v.is_finite()) {
            *by_time.entry(s.t).or_insert(0.0) += v;
        }
    }
    let server_ops = Line::from_points(
        "server ops/s",
        by_time.iter().map(|(&t, &v)| (rel(t) - half, Some(v))),
    );
    server_ops
}

/// Max and mean latency per second, then p99.9, p99 and p50 when the series has them; and whether
/// it does.
fn latency_lines(r: &RunResult, origin: u64) -> (Vec<Line>, bool) {
    let rel = |t: u64| t.saturating_sub(origin) as f64;
    let mid = |t: u64| rel(t) + 0.5;
    let pick = |label: &str, f: fn(&crate::results::SeriesPoint) -> Option<f64>| {
        Line::from_points(label, r.series.iter().map(|p| (mid(p.t), f(p))))
    };
    let mut latency = vec![
        pick("max", |p| p.max_latency_ms),
        pick("mean", |p| p.mean_latency_ms),
    ];
    let percentiles = [
        pick("p99.9", |p| p.p99_9_ms),
        pick("p99", |p| p.p99_ms),
        pick("p50", |p| p.p50_ms),
    ];
    let has_percentiles = percentiles.iter().any(|l| !l.is_empty());
    latency.extend(percentiles.into_iter().filter(|l| !l.is_empty()));
    latency.retain(|l| !l.is_empty());
    (latency, has_percentiles)
}

/// The server's CPU lines, one per node and CPU metric, at most [`MAX_SERVER_LINES`]; and how many
/// were left out.
fn cpu_lines(r: &RunResult, origin: u64, half: f64) -> (Vec<Line>, usize) {
    let rel = |t: u64| t.saturating_sub(origin) as f64;
    let mut cpu = Vec::new();
    let mut cpu_lines_dropped = 0;
    for n in r.server.iter().flat_map(|m| m.nodes.iter()) {
        for (metric, what) in [
            (names::CPU_PERCENT, "CPU"),
            (names::ENGINE_CPU_PERCENT, "engine CPU"),
        ] {
            let line = Line::from_points(
                format!("{} {what}", n.node),
                n.samples
                    .iter()
                    .map(|s| (rel(s.t) - half, s.values.get(metric).copied())),
            );
            if line.is_empty() {
                continue;
            }
            if cpu.len() < MAX_SERVER_LINES {
                cpu.push(line);
            } else {
                cpu_lines_dropped += 1;
            }
        }
    }

    (cpu, cpu_lines_dropped)
}
