//! What the server saw, per node: mean and peak CPU, clients and ops/s, over the steady-state window
//! when samples fall in it, else over the whole run.

use crate::results::server::{names, NodeMetrics, Sample, ServerMetrics};
use crate::results::WindowJson;

/// Mean and peak of one metric over the chosen samples (`None` when no sample has it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Agg {
    /// Arithmetic mean of the samples that have the metric.
    pub mean: Option<f64>,
    /// Highest sample.
    pub peak: Option<f64>,
}

impl Agg {
    fn of<'a>(samples: impl Iterator<Item = &'a Sample>, metric: &str) -> Self {
        let (mut sum, mut n, mut peak) = (0.0, 0usize, None::<f64>);
        for v in samples.filter_map(|s| s.values.get(metric).copied()) {
            if v.is_finite() {
                sum += v;
                n += 1;
                peak = Some(peak.map_or(v, |p| p.max(v)));
            }
        }
        Self {
            mean: (n > 0).then(|| sum / n as f64),
            peak,
        }
    }
}

/// One node's observations.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStats {
    /// Node name.
    pub node: String,
    /// `cpu_percent`.
    pub cpu: Agg,
    /// `engine_cpu_percent`.
    pub engine_cpu: Agg,
    /// `connected_clients`.
    pub clients: Agg,
    /// `ops_per_sec` as counted by the server.
    pub ops: Agg,
}

/// Which samples the observations cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Samples whose interval's midpoint lies in the steady-state window.
    Window {
        /// Most samples any node had in the window.
        samples: usize,
    },
    /// All samples: there is no window, or no sample fell in it.
    WholeRun {
        /// Whether a window exists (but holds no sample).
        had_window: bool,
    },
}

impl Scope {
    /// In words, for the summary.
    pub fn describe(&self) -> String {
        match self {
            Self::Window { samples } => format!(
                "means and peaks over the steady-state window ({samples} sample{} per node)",
                if *samples == 1 { "" } else { "s" }
            ),
            Self::WholeRun { had_window: true } => {
                "means and peaks over the whole run (no sample fell in the steady-state window)"
                    .to_string()
            }
            Self::WholeRun { had_window: false } => {
                "means and peaks over the whole run".to_string()
            }
        }
    }
}

/// All nodes' observations and their scope.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerView {
    /// Which samples.
    pub scope: Scope,
    /// One entry per node that has samples, in the order of `results.json`.
    pub nodes: Vec<NodeStats>,
}

impl ServerView {
    /// The nodes' mean ops/s summed, when any node counted ops.
    pub fn total_mean_ops_per_sec(&self) -> Option<f64> {
        self.nodes
            .iter()
            .filter_map(|n| n.ops.mean)
            .fold(None, |acc, x| Some(acc.unwrap_or(0.0) + x))
    }
}

/// Whether a sample (stamped at the end of its interval) lies in the window `[start_ms, end_ms]`.
fn in_window(s: &Sample, interval_secs: u32, (start_ms, end_ms): (u64, u64)) -> bool {
    let mid_ms = (s.t * 1000).saturating_sub(u64::from(interval_secs) * 500);
    (start_ms..=end_ms).contains(&mid_ms)
}

fn node_stats<'a>(n: &NodeMetrics, samples: impl Iterator<Item = &'a Sample> + Clone) -> NodeStats {
    NodeStats {
        node: n.node.clone(),
        cpu: Agg::of(samples.clone(), names::CPU_PERCENT),
        engine_cpu: Agg::of(samples.clone(), names::ENGINE_CPU_PERCENT),
        clients: Agg::of(samples.clone(), names::CONNECTED_CLIENTS),
        ops: Agg::of(samples, names::OPS_PER_SEC),
    }
}

/// Observe server metrics, over the window when it holds samples.
pub fn observe(m: &ServerMetrics, w: &WindowJson) -> ServerView {
    let nodes = m.nodes.iter().filter(|n| !n.samples.is_empty());
    let window = w.start_unix_ms.zip(w.end_unix_ms);
    if let Some(win) = window {
        let in_win = |n: &NodeMetrics| {
            n.samples
                .iter()
                .filter(|s| in_window(s, m.interval_secs, win))
                .count()
        };
        let samples = nodes.clone().map(in_win).max().unwrap_or(0);
        if samples > 0 {
            return ServerView {
                scope: Scope::Window { samples },
                nodes: nodes
                    .map(|n| {
                        let chosen = n
                            .samples
                            .iter()
                            .filter(move |s| in_window(s, m.interval_secs, win));
                        node_stats(n, chosen)
                    })
                    .collect(),
            };
        }
    }
    ServerView {
        scope: Scope::WholeRun {
            had_window: window.is_some(),
        },
        nodes: nodes.map(|n| node_stats(n, n.samples.iter())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn sample(t: u64, cpu: f64, clients: f64) -> Sample {
        Sample {
            t,
            t_ms: None,
            values: BTreeMap::from([
                (names::CPU_PERCENT.to_string(), cpu),
                (names::CONNECTED_CLIENTS.to_string(), clients),
            ]),
        }
    }

    fn window(start_ms: Option<u64>, end_ms: Option<u64>) -> WindowJson {
        WindowJson {
            start: None,
            end: None,
            start_unix_ms: start_ms,
            end_unix_ms: end_ms,
            duration_secs: None,
            warmup_secs: 0,
            rampdown_secs: 0,
            method: String::new(),
        }
    }

    fn metrics() -> ServerMetrics {
        ServerMetrics {
            source: "redis-info".into(),
            interval_secs: 1,
            nodes: vec![NodeMetrics {
                node: "127.0.0.1:6379".into(),
                samples: vec![
                    sample(101, 10.0, 1.0),
                    sample(102, 80.0, 12.0),
                    sample(103, 90.0, 12.0),
                    sample(104, 5.0, 1.0),
                ],
            }],
        }
    }

    #[test]
    fn window_selects_samples_by_interval_midpoint() {
        // Samples cover [100,101] … [103,104]; midpoints 100.5 … 103.5.
        let v = observe(&metrics(), &window(Some(101_000), Some(103_000)));
        assert_eq!(v.scope, Scope::Window { samples: 2 });
        let n = &v.nodes[0];
        assert_eq!(n.cpu.mean, Some(85.0));
        assert_eq!(n.cpu.peak, Some(90.0));
        assert_eq!(n.clients.peak, Some(12.0));
        assert_eq!(n.ops, Agg::default());
        assert_eq!(v.total_mean_ops_per_sec(), None);
    }

    #[test]
    fn falls_back_to_the_whole_run() {
        let v = observe(&metrics(), &window(Some(500_000), Some(600_000)));
        assert_eq!(v.scope, Scope::WholeRun { had_window: true });
        assert_eq!(v.nodes[0].cpu.peak, Some(90.0));
        assert_eq!(v.nodes[0].cpu.mean, Some(46.25));
        let v = observe(&metrics(), &window(None, None));
        assert_eq!(v.scope, Scope::WholeRun { had_window: false });
        let empty = observe(&ServerMetrics::default(), &window(None, None));
        assert!(empty.nodes.is_empty());
    }
}
