//! Server-side metrics in `results.json`: per node, one sample per interval, each a map of metric
//! name to value. The local target fills them from `INFO`; the AWS target from CloudWatch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Well-known metric names, in the order reports show them. Targets may add others.
pub mod names {
    /// Commands processed per second.
    pub const OPS_PER_SEC: &str = "ops_per_sec";
    /// Server CPU, percent of one core (user + system).
    pub const CPU_PERCENT: &str = "cpu_percent";
    /// User CPU, percent of one core.
    pub const CPU_USER_PERCENT: &str = "cpu_user_percent";
    /// System CPU, percent of one core.
    pub const CPU_SYS_PERCENT: &str = "cpu_sys_percent";
    /// Engine (main thread) CPU, percent (CloudWatch `EngineCPUUtilization`).
    pub const ENGINE_CPU_PERCENT: &str = "engine_cpu_percent";
    /// Connected clients.
    pub const CONNECTED_CLIENTS: &str = "connected_clients";
    /// Memory used by the dataset, bytes.
    pub const USED_MEMORY_BYTES: &str = "used_memory_bytes";
    /// Keyspace hits per second.
    pub const HITS_PER_SEC: &str = "keyspace_hits_per_sec";
    /// Keyspace misses per second.
    pub const MISSES_PER_SEC: &str = "keyspace_misses_per_sec";
    /// Network in, KiB/s.
    pub const NET_IN_KB_PER_SEC: &str = "net_in_kb_per_sec";
    /// Network out, KiB/s.
    pub const NET_OUT_KB_PER_SEC: &str = "net_out_kb_per_sec";

    /// The order in which reports and CSV columns list the well-known metrics.
    pub const ORDER: [&str; 11] = [
        OPS_PER_SEC,
        CPU_PERCENT,
        CPU_USER_PERCENT,
        CPU_SYS_PERCENT,
        ENGINE_CPU_PERCENT,
        CONNECTED_CLIENTS,
        USED_MEMORY_BYTES,
        HITS_PER_SEC,
        MISSES_PER_SEC,
        NET_IN_KB_PER_SEC,
        NET_OUT_KB_PER_SEC,
    ];
}

/// All server metrics of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerMetrics {
    /// Where they came from: `redis-info` or `cloudwatch`.
    pub source: String,
    /// Seconds between samples.
    pub interval_secs: u32,
    /// One entry per server node (cluster member).
    pub nodes: Vec<NodeMetrics>,
}

/// One node's samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeMetrics {
    /// Node name (cache cluster id, or `host:port` locally).
    pub node: String,
    /// Samples in time order.
    pub samples: Vec<Sample>,
}

/// One sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix second at the end of the interval.
    pub t: u64,
    /// Unix ms at the end of the interval, when known precisely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_ms: Option<u64>,
    /// Metric name → value.
    pub values: BTreeMap<String, f64>,
}
