//! Server metrics from CloudWatch: one query per (member cluster, metric, statistic) at 60 s, sent
//! with GetMetricData in batches of at most 500 queries (never one call per metric), turned into
//! the same per-node samples the local target produces. ElastiCache publishes node metrics once a
//! minute with no replication-group dimension, so the queries are built from the member clusters.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};

use super::error::{Error, Result};
use crate::results::server::{names, NodeMetrics, Sample, ServerMetrics};

/// GetMetricData takes at most this many queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// ElastiCache's metric period.
pub const PERIOD_SECS: i32 = 60;

/// `AWS/ElastiCache` metrics read per member cluster: (metric, statistic, name in results, scale).
/// Counts per minute become rates per second (÷ 60); bytes per minute become KiB/s.
pub const CACHE_METRICS: &[(&str, &str, &str, f64)] = &[
    ("CPUUtilization", "Average", names::CPU_PERCENT, 1.0),
    (
        "EngineCPUUtilization",
        "Average",
        names::ENGINE_CPU_PERCENT,
        1.0,
    ),
    ("CurrConnections", "Average", names::CONNECTED_CLIENTS, 1.0),
    (
        "BytesUsedForCache",
        "Maximum",
        names::USED_MEMORY_BYTES,
        1.0,
    ),
    ("CacheHits", "Sum", names::HITS_PER_SEC, 1.0 / 60.0),
    ("CacheMisses", "Sum", names::MISSES_PER_SEC, 1.0 / 60.0),
    (
        "NetworkBytesIn",
        "Sum",
        names::NET_IN_KB_PER_SEC,
        1.0 / 60.0 / 1024.0,
    ),
    (
        "NetworkBytesOut",
        "Sum",
        names::NET_OUT_KB_PER_SEC,
        1.0 / 60.0 / 1024.0,
    ),
    ("GetTypeCmds", "Sum", "get_cmds_per_sec", 1.0 / 60.0),
    ("SetTypeCmds", "Sum", "set_cmds_per_sec", 1.0 / 60.0),
    (
        "GetTypeCmdsLatency",
        "Average",
        "get_cmd_cpu_latency_us",
        1.0,
    ),
    (
        "SetTypeCmdsLatency",
        "Average",
        "set_cmd_cpu_latency_us",
        1.0,
    ),
    (
        "DatabaseMemoryUsagePercentage",
        "Maximum",
        "memory_usage_percent",
        1.0,
    ),
    ("Evictions", "Sum", "evictions", 1.0),
    ("ReplicationLag", "Maximum", "replication_lag_secs", 1.0),
    (
        "NetworkBandwidthInAllowanceExceeded",
        "Sum",
        "bw_in_allowance_exceeded",
        1.0,
    ),
    (
        "NetworkBandwidthOutAllowanceExceeded",
        "Sum",
        "bw_out_allowance_exceeded",
        1.0,
    ),
    (
        "NetworkConntrackAllowanceExceeded",
        "Sum",
        "conntrack_allowance_exceeded",
        1.0,
    ),
    (
        "NetworkPacketsPerSecondAllowanceExceeded",
        "Sum",
        "pps_allowance_exceeded",
        1.0,
    ),
];

/// `ECS/ContainerInsights` metrics of the load generators (cluster + task definition family):
/// CPU in units (1024 = one vCPU), memory in MiB, network in bytes per second.
pub const ECS_METRICS: &[(&str, &str, &str, f64)] = &[
    ("CpuUtilized", "Average", "cpu_utilized_units", 1.0),
    ("CpuReserved", "Average", "cpu_reserved_units", 1.0),
    ("MemoryUtilized", "Average", "memory_utilized_mib", 1.0),
    ("MemoryReserved", "Average", "memory_reserved_mib", 1.0),
    ("NetworkRxBytes", "Average", "network_rx_bytes_per_sec", 1.0),
    ("NetworkTxBytes", "Average", "network_tx_bytes_per_sec", 1.0),
];

/// The name of the load generators' node in the ECS metrics.
pub const LOADGEN_NODE: &str = "load generators";

/// One metric query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// Query id (lowercase letter first, unique per call).
    pub id: String,
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub metric: String,
    /// Dimensions.
    pub dimensions: Vec<(String, String)>,
    /// Statistic.
    pub stat: String,
    /// The node the values belong to.
    pub node: String,
    /// Name in the results.
    pub name: String,
    /// Factor applied to every value.
    pub scale: f64,
}

/// The queries for every member cluster (pure).
pub fn cache_queries(member_clusters: &[String]) -> Vec<Query> {
    let mut out = Vec::new();
    for (n, node) in member_clusters.iter().enumerate() {
        for (m, (metric, stat, name, scale)) in CACHE_METRICS.iter().enumerate() {
            out.push(Query {
                id: format!("n{n}m{m}"),
                namespace: "AWS/ElastiCache".into(),
                metric: (*metric).into(),
                dimensions: vec![("CacheClusterId".into(), node.clone())],
                stat: (*stat).into(),
                node: node.clone(),
                name: (*name).into(),
                scale: *scale,
            });
        }
    }
    out
}

/// The queries for the load generators' Container Insights metrics (pure).
pub fn ecs_queries(cluster: &str, family: &str) -> Vec<Query> {
    ECS_METRICS
        .iter()
        .enumerate()
        .map(|(m, (metric, stat, name, scale))| Query {
            id: format!("e{m}"),
            namespace: "ECS/ContainerInsights".into(),
            metric: (*metric).into(),
            dimensions: vec![
                ("ClusterName".into(), cluster.to_string()),
                ("TaskDefinitionFamily".into(), family.to_string()),
            ],
            stat: (*stat).into(),
            node: LOADGEN_NODE.into(),
            name: (*name).into(),
            scale: *scale,
        })
        .collect()
}

/// The minute (Unix seconds at its start) of the last datapoint a load that ended at `end_s`
/// has: the minute the load ended in.
pub fn last_minute(end_s: i64) -> i64 {
    (end_s - 1).div_euclid(i64::from(PERIOD_SECS)) * i64::from(PERIOD_SECS)
}

/// The queries that tell whether CloudWatch has published a minute: each member cluster's
/// `CPUUtilization`, which ElastiCache publishes for every node every minute (pure).
pub fn readiness_queries(cache: &[Query]) -> Vec<Query> {
    cache
        .iter()
        .filter(|q| q.metric == CACHE_METRICS[0].0)
        .cloned()
        .collect()
}

/// Whether every readiness query has a datapoint for the minute starting at `minute` or a later
/// one (pure).
pub fn published_through(readiness: &[Query], values: &Values, minute: i64) -> bool {
    !readiness.is_empty()
        && readiness.iter().all(|q| {
            values
                .get(&q.id)
                .is_some_and(|v| v.iter().any(|(t, _)| *t >= minute))
        })
}

/// The load generators' samples, with `cpu_percent` = utilized / reserved (pure).
pub fn to_loadgen_metrics(queries: &[Query], values: &Values) -> NodeMetrics {
    let mut m = to_server_metrics(queries, values)
        .nodes
        .into_iter()
        .next()
        .unwrap_or_else(|| NodeMetrics {
            node: LOADGEN_NODE.into(),
            samples: Vec::new(),
        });
    for s in &mut m.samples {
        if let (Some(u), Some(r)) = (
            s.values.get("cpu_utilized_units").copied(),
            s.values.get("cpu_reserved_units").copied(),
        ) {
            if r > 0.0 {
                s.values.insert(names::CPU_PERCENT.into(), u / r * 100.0);
            }
        }
    }
    m
}

/// CSV of one node's samples: `t` (unix seconds, end of the minute), then one column per metric.
pub fn node_csv(n: &NodeMetrics) -> String {
    let mut cols: Vec<&String> = n.samples.iter().flat_map(|s| s.values.keys()).collect();
    cols.sort();
    cols.dedup();
    let mut out = String::from("t");
    for c in &cols {
        out.push(',');
        out.push_str(c);
    }
    out.push('\n');
    for s in &n.samples {
        out.push_str(&s.t.to_string());
        for c in &cols {
            out.push(',');
            if let Some(v) = s.values.get(*c) {
                out.push_str(&format!("{v}"));
            }
        }
        out.push('\n');
    }
    out
}

fn to_sdk(q: &Query) -> MetricDataQuery {
    let mut metric = Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.metric);
    for (k, v) in &q.dimensions {
        metric = metric.dimensions(Dimension::builder().name(k).value(v).build());
    }
    MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric.build())
                .period(PERIOD_SECS)
                .stat(&q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// Values per query id: (unix seconds at the start of the period, value).
pub type Values = BTreeMap<String, Vec<(i64, f64)>>;

/// Read `queries` between `start` and `end` (unix seconds), at most 500 per call (plus one call per
/// extra page when CloudWatch paginates). Returns the values and the number of calls made.
pub async fn get_metric_data(
    cw: &aws_sdk_cloudwatch::Client,
    queries: &[Query],
    start: i64,
    end: i64,
) -> Result<(Values, usize)> {
    let mut out = Values::new();
    let mut calls = 0;
    for batch in queries.chunks(MAX_QUERIES_PER_CALL) {
        let sdk: Vec<MetricDataQuery> = batch.iter().map(to_sdk).collect();
        let mut token: Option<String> = None;
        loop {
            calls += 1;
            let page = cw
                .get_metric_data()
                .set_metric_data_queries(Some(sdk.clone()))
                .start_time(DateTime::from_secs(start))
                .end_time(DateTime::from_secs(end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    Error::from_sdk(
                        "GetMetricData",
                        format!("{} metric queries", batch.len()),
                        e,
                    )
                })?;
            for r in page.metric_data_results() {
                let Some(id) = r.id() else { continue };
                let e = out.entry(id.to_string()).or_default();
                e.extend(
                    r.timestamps()
                        .iter()
                        .zip(r.values())
                        .map(|(t, v)| (t.secs(), *v)),
                );
            }
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok((out, calls))
}

/// Samples per node from the values (pure). `t` is the end of each 60 s period.
pub fn to_server_metrics(queries: &[Query], values: &Values) -> ServerMetrics {
    let mut nodes: BTreeMap<String, BTreeMap<i64, BTreeMap<String, f64>>> = BTreeMap::new();
    for q in queries {
        let node = nodes.entry(q.node.clone()).or_default();
        for (t, v) in values.get(&q.id).map(Vec::as_slice).unwrap_or_default() {
            node.entry(*t)
                .or_default()
                .insert(q.name.clone(), v * q.scale);
        }
    }
    let nodes = nodes
        .into_iter()
        .map(|(node, by_t)| NodeMetrics {
            node,
            samples: by_t
                .into_iter()
                .map(|(t, mut values)| {
                    let g = values.get("get_cmds_per_sec").copied();
                    let s = values.get("set_cmds_per_sec").copied();
                    if g.is_some() || s.is_some() {
                        values.insert(
                            names::OPS_PER_SEC.into(),
                            g.unwrap_or(0.0) + s.unwrap_or(0.0),
                        );
                    }
                    Sample {
                        t: u64::try_from(t + i64::from(PERIOD_SECS)).unwrap_or(0),
                        t_ms: None,
                        values,
                    }
                })
                .collect(),
        })
        .collect();
    ServerMetrics {
        source: "cloudwatch".into(),
        interval_secs: 60,
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_minute_is_published_when_every_member_has_it() {
        // A load that ended at 12:03:20 has its last datapoint at 12:03:00.
        let end = 1_795_723_200 + 200;
        let minute = last_minute(end);
        assert_eq!(minute, 1_795_723_200 + 180);
        assert_eq!(last_minute(1_795_723_260), 1_795_723_200);
        let ready = readiness_queries(&cache_queries(&["a-001".into(), "a-002".into()]));
        assert_eq!(ready.len(), 2);
        let mut v = Values::new();
        v.insert(ready[0].id.clone(), vec![(minute - 60, 1.0), (minute, 2.0)]);
        assert!(
            !published_through(&ready, &v, minute),
            "a-002 has nothing yet"
        );
        v.insert(ready[1].id.clone(), vec![(minute - 60, 1.0)]);
        assert!(
            !published_through(&ready, &v, minute),
            "a-002 lacks the last minute"
        );
        v.get_mut(&ready[1].id).unwrap().push((minute, 3.0));
        assert!(published_through(&ready, &v, minute));
        assert!(
            !published_through(&[], &v, minute),
            "no member: nothing to wait for"
        );
    }

    #[test]
    fn queries_cover_every_member_with_unique_ids() {
        let q = cache_queries(&["a-001".into(), "a-002".into()]);
        assert_eq!(q.len(), 2 * CACHE_METRICS.len());
        let mut ids: Vec<&str> = q.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), q.len());
        assert!(q
            .iter()
            .all(|q| q.id.starts_with(|c: char| c.is_ascii_lowercase())));
    }

    #[test]
    fn loadgen_cpu_is_a_share_of_the_reservation() {
        let q = ecs_queries("ecp-x", "ecp-x-memtier");
        let mut v = Values::new();
        v.insert("e0".into(), vec![(600, 512.0)]);
        v.insert("e1".into(), vec![(600, 1024.0)]);
        let m = to_loadgen_metrics(&q, &v);
        assert_eq!(m.samples[0].values[names::CPU_PERCENT], 50.0);
        let csv = node_csv(&m);
        assert_eq!(
            csv,
            "t,cpu_percent,cpu_reserved_units,cpu_utilized_units\n660,50,1024,512\n"
        );
    }

    #[test]
    fn values_become_rates_per_node() {
        let q = cache_queries(&["a-001".into()]);
        let mut v = Values::new();
        let id = |m: &str| q.iter().find(|q| q.metric == m).unwrap().id.clone();
        v.insert(id("GetTypeCmds"), vec![(600, 6000.0)]);
        v.insert(id("SetTypeCmds"), vec![(600, 600.0)]);
        v.insert(id("CPUUtilization"), vec![(600, 12.5)]);
        let m = to_server_metrics(&q, &v);
        let s = &m.nodes[0].samples[0];
        assert_eq!(s.t, 660);
        assert_eq!(s.values[names::OPS_PER_SEC], 110.0);
        assert_eq!(s.values[names::CPU_PERCENT], 12.5);
    }
}
