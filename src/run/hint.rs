//! The bottleneck hint of an AWS run: which resource ran out first, judged from the cache's
//! CloudWatch metrics and the load generators' Container Insights metrics — a network allowance
//! exceeded, the engine thread or the node's CPU saturated, or the load generators' CPU. A hint,
//! not a proof: one-minute averages hide short peaks. Pure.

use crate::results::server::{names, NodeMetrics, ServerMetrics};

/// A resource counts as saturated from this share on.
pub const SATURATED_PCT: f64 = 90.0;

const ALLOWANCES: [(&str, &str); 4] = [
    ("bw_in_allowance_exceeded", "inbound bandwidth"),
    ("bw_out_allowance_exceeded", "outbound bandwidth"),
    ("pps_allowance_exceeded", "packets per second"),
    ("conntrack_allowance_exceeded", "connection tracking"),
];

fn max_of(n: &NodeMetrics, metric: &str) -> Option<f64> {
    n.samples
        .iter()
        .filter_map(|s| s.values.get(metric).copied())
        .filter(|v| v.is_finite())
        .reduce(f64::max)
}

fn sum_of(n: &NodeMetrics, metric: &str) -> f64 {
    n.samples
        .iter()
        .filter_map(|s| s.values.get(metric).copied())
        .filter(|v| v.is_finite())
        .sum()
}

/// The hint, or `None` when there are no metrics to judge from.
pub fn bottleneck_hint(
    server: Option<&ServerMetrics>,
    loadgen: Option<&NodeMetrics>,
) -> Option<String> {
    let nodes: &[NodeMetrics] = server.map_or(&[], |s| s.nodes.as_slice());
    for n in nodes {
        for (metric, what) in ALLOWANCES {
            let shaped = sum_of(n, metric);
            if shaped > 0.0 {
                return Some(format!(
                    "the network: node {} exceeded its {what} allowance ({shaped:.0} packets shaped or dropped); a larger node type has more",
                    n.node
                ));
            }
        }
    }
    let busiest = |metric: &str| {
        nodes
            .iter()
            .filter_map(|n| max_of(n, metric).map(|v| (n.node.as_str(), v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    let engine = busiest(names::ENGINE_CPU_PERCENT);
    let host = busiest(names::CPU_PERCENT);
    let client = loadgen.and_then(|l| max_of(l, names::CPU_PERCENT));
    if let Some((node, v)) = engine.filter(|e| e.1 >= SATURATED_PCT) {
        return Some(format!(
            "the cache's engine thread: node {node} at {v:.0} % EngineCPUUtilization; more shards or a faster node type would help"
        ));
    }
    if let Some(v) = client.filter(|c| *c >= SATURATED_PCT) {
        return Some(format!(
            "the load generators: {v:.0} % of their CPU reservation; add tasks or raise loadgen_cpu, the cache may have more to give"
        ));
    }
    if let Some((node, v)) = host.filter(|h| h.1 >= SATURATED_PCT) {
        return Some(format!(
            "the cache node's CPU: node {node} at {v:.0} % CPUUtilization (I/O threads, TLS); a larger node type would help"
        ));
    }
    if engine.is_none() && host.is_none() && client.is_none() {
        return None;
    }
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.0} %"));
    Some(format!(
        "no resource saturated (engine CPU max {}, node CPU max {}, load generator CPU max {}): the limit is likely latency — more clients or pipelining would raise throughput",
        show(engine.map(|e| e.1)),
        show(host.map(|h| h.1)),
        show(client)
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::results::server::Sample;

    fn node(name: &str, values: &[(&str, f64)]) -> NodeMetrics {
        NodeMetrics {
            node: name.into(),
            samples: vec![Sample {
                t: 60,
                t_ms: None,
                values: values
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), *v))
                    .collect::<BTreeMap<_, _>>(),
            }],
        }
    }

    fn server(nodes: Vec<NodeMetrics>) -> ServerMetrics {
        ServerMetrics {
            source: "cloudwatch".into(),
            interval_secs: 60,
            nodes,
        }
    }

    #[test]
    fn the_first_exhausted_resource_is_named() {
        let s = server(vec![node(
            "a-001",
            &[
                (names::ENGINE_CPU_PERCENT, 97.0),
                ("pps_allowance_exceeded", 12.0),
            ],
        )]);
        assert!(bottleneck_hint(Some(&s), None)
            .unwrap()
            .contains("packets per second"));
        let s = server(vec![node("a-001", &[(names::ENGINE_CPU_PERCENT, 97.0)])]);
        assert!(bottleneck_hint(Some(&s), None)
            .unwrap()
            .contains("engine thread: node a-001 at 97 %"));
        let lg = node("load generators", &[(names::CPU_PERCENT, 95.0)]);
        let s = server(vec![node("a-001", &[(names::ENGINE_CPU_PERCENT, 40.0)])]);
        assert!(bottleneck_hint(Some(&s), Some(&lg))
            .unwrap()
            .contains("load generators: 95 %"));
        let calm = node("load generators", &[(names::CPU_PERCENT, 20.0)]);
        assert!(bottleneck_hint(Some(&s), Some(&calm))
            .unwrap()
            .contains("no resource saturated"));
        assert_eq!(bottleneck_hint(None, None), None);
        assert_eq!(bottleneck_hint(Some(&server(vec![])), None), None);
    }
}
