//! The cost estimate of a run from a small built-in price table (us-east-1 on-demand prices, dated):
//! cache node-hours, Fargate vCPU- and GB-hours, public IPv4 addresses. Conservative on purpose —
//! node time is rounded up to whole hours and includes provisioning and teardown — because the
//! estimate is checked against `max_cost_usd` before anything is created. Pure.

use serde::Serialize;

use crate::config::Engine;

/// When the prices below were gathered.
pub const PRICE_TABLE_DATE: &str = "2026-11";
/// The region the prices are for; other regions differ (usually by less than 30 %).
pub const PRICE_TABLE_REGION: &str = "us-east-1";

/// Redis OSS on-demand price per node-hour, us-east-1 (third-party tables citing AWS, see shared
/// docs/aws-notes.md §1.5; several are unverified and marked so there).
const REDIS_NODE_USD_PER_HOUR: &[(&str, f64)] = &[
    ("cache.t3.micro", 0.017),
    ("cache.t3.small", 0.034),
    ("cache.t3.medium", 0.068),
    ("cache.t4g.micro", 0.016),
    ("cache.t4g.small", 0.032),
    ("cache.t4g.medium", 0.065),
    ("cache.m5.large", 0.156),
    ("cache.m5.xlarge", 0.311),
    ("cache.m6g.large", 0.149),
    ("cache.m6g.xlarge", 0.298),
    ("cache.m7g.large", 0.158),
    ("cache.m7g.xlarge", 0.316),
    ("cache.m7g.2xlarge", 0.632),
    ("cache.r5.large", 0.216),
    ("cache.r6g.large", 0.206),
    ("cache.r6g.xlarge", 0.411),
    ("cache.r7g.large", 0.219),
    ("cache.r7g.xlarge", 0.437),
    ("cache.r7g.2xlarge", 0.874),
];
/// Valkey node-based prices are 20 % below Redis OSS.
const VALKEY_FACTOR: f64 = 0.8;
/// Fargate Linux/x86 per vCPU-hour.
const FARGATE_USD_PER_VCPU_HOUR: f64 = 0.04048;
/// Fargate Linux/x86 per GB-hour.
const FARGATE_USD_PER_GB_HOUR: f64 = 0.004445;
/// A public IPv4 address per hour.
const PUBLIC_IPV4_USD_PER_HOUR: f64 = 0.005;

/// Assumed minutes to create the replication group (the critical path).
pub const PROVISION_MINUTES: u64 = 15;
/// Assumed minutes of a prefill.
pub const PREFILL_MINUTES: u64 = 5;
/// Assumed minutes to collect metrics (including waiting for the last minute to be published).
pub const COLLECT_MINUTES: u64 = 5;
/// Assumed minutes until the replication group is deleted.
pub const TEARDOWN_MINUTES: u64 = 10;
/// Assumed minutes a task lives beyond its test time (image pull, start, printing results).
pub const TASK_OVERHEAD_MINUTES: u64 = 3;

/// What is being estimated.
#[derive(Clone, Debug)]
pub struct CostInputs<'a> {
    /// Engine.
    pub engine: Engine,
    /// Node type.
    pub node_type: &'a str,
    /// Cache nodes.
    pub nodes: u32,
    /// Timed test, seconds.
    pub test_secs: u64,
    /// Whether a prefill task runs.
    pub prefill: bool,
    /// Timed tasks.
    pub tasks: u32,
    /// Fargate CPU units per task.
    pub cpu_units: u32,
    /// Fargate memory per task, MiB.
    pub memory_mib: u32,
    /// Whether tasks get a public IPv4.
    pub public_ip: bool,
}

/// One line of the estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostLine {
    /// What is billed.
    pub item: String,
    /// How much of it.
    pub quantity: f64,
    /// The unit of `quantity`.
    pub unit: String,
    /// Price per unit (`None`: not in the table).
    pub usd_per_unit: Option<f64>,
    /// Cost of the line (`None`: unknown).
    pub usd: Option<f64>,
}

/// The estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostEstimate {
    /// Lines.
    pub lines: Vec<CostLine>,
    /// Sum of the known lines.
    pub total_usd: f64,
    /// Whether every line had a price.
    pub is_complete: bool,
    /// Date of the price table.
    pub price_table_date: String,
    /// Region of the price table.
    pub price_table_region: String,
}

/// The built-in price of a node-hour, if the table has the node type.
pub fn node_price(engine: Engine, node_type: &str) -> Option<f64> {
    let redis = REDIS_NODE_USD_PER_HOUR
        .iter()
        .find(|(t, _)| *t == node_type)
        .map(|(_, p)| *p)?;
    Some(match engine {
        Engine::Redis => redis,
        Engine::Valkey => redis * VALKEY_FACTOR,
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The estimate without the cache's line (a run on the user's own cache).
pub fn without_cache(mut e: CostEstimate) -> CostEstimate {
    e.lines.retain(|l| !l.item.starts_with("ElastiCache "));
    e.total_usd = round4(e.lines.iter().filter_map(|l| l.usd).sum());
    e.is_complete = e.lines.iter().all(|l| l.usd.is_some());
    e
}

/// Estimate a run.
pub fn estimate(c: &CostInputs<'_>) -> CostEstimate {
    let test_min = c.test_secs.div_ceil(60);
    let prefill_min = if c.prefill { PREFILL_MINUTES } else { 0 };
    // Partial node-hours are billed as full hours: round the nodes' whole life up.
    let node_min = PROVISION_MINUTES + prefill_min + test_min + COLLECT_MINUTES + TEARDOWN_MINUTES;
    let node_hours = f64::from(c.nodes) * node_min.div_ceil(60) as f64;
    let price = node_price(c.engine, c.node_type);
    let task_hours = (f64::from(c.tasks) * (test_min + TASK_OVERHEAD_MINUTES) as f64
        + if c.prefill {
            (PREFILL_MINUTES + TASK_OVERHEAD_MINUTES) as f64
        } else {
            0.0
        })
        / 60.0;
    let vcpu_hours = task_hours * f64::from(c.cpu_units) / 1024.0;
    let gb_hours = task_hours * f64::from(c.memory_mib) / 1024.0;
    let mut lines = vec![
        CostLine {
            item: format!("ElastiCache {} {} nodes", c.engine.as_str(), c.node_type),
            quantity: node_hours,
            unit: "node-hours".into(),
            usd_per_unit: price,
            usd: price.map(|p| round4(p * node_hours)),
        },
        CostLine {
            item: "Fargate vCPU".into(),
            quantity: round4(vcpu_hours),
            unit: "vCPU-hours".into(),
            usd_per_unit: Some(FARGATE_USD_PER_VCPU_HOUR),
            usd: Some(round4(vcpu_hours * FARGATE_USD_PER_VCPU_HOUR)),
        },
        CostLine {
            item: "Fargate memory".into(),
            quantity: round4(gb_hours),
            unit: "GB-hours".into(),
            usd_per_unit: Some(FARGATE_USD_PER_GB_HOUR),
            usd: Some(round4(gb_hours * FARGATE_USD_PER_GB_HOUR)),
        },
    ];
    if c.public_ip {
        lines.push(CostLine {
            item: "public IPv4 addresses of the tasks".into(),
            quantity: round4(task_hours),
            unit: "address-hours".into(),
            usd_per_unit: Some(PUBLIC_IPV4_USD_PER_HOUR),
            usd: Some(round4(task_hours * PUBLIC_IPV4_USD_PER_HOUR)),
        });
    }
    let total_usd = round4(lines.iter().filter_map(|l| l.usd).sum());
    CostEstimate {
        is_complete: lines.iter().all(|l| l.usd.is_some()),
        lines,
        total_usd,
        price_table_date: PRICE_TABLE_DATE.into(),
        price_table_region: PRICE_TABLE_REGION.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> CostInputs<'static> {
        CostInputs {
            engine: Engine::Redis,
            node_type: "cache.t4g.micro",
            nodes: 1,
            test_secs: 3600,
            prefill: false,
            tasks: 1,
            cpu_units: 1024,
            memory_mib: 2048,
            public_ip: true,
        }
    }

    #[test]
    fn one_hour_on_the_smallest_node() {
        let e = estimate(&inputs());
        // 15 + 60 + 5 + 10 = 90 min → 2 billed node-hours at $0.016.
        assert_eq!(e.lines[0].quantity, 2.0);
        assert_eq!(e.lines[0].usd, Some(0.032));
        // 63 task-minutes × 1 vCPU and 2 GB.
        assert_eq!(e.lines[1].quantity, 1.05);
        assert_eq!(e.lines[2].quantity, 2.1);
        assert!(e.is_complete);
        let sum: f64 = e.lines.iter().filter_map(|l| l.usd).sum();
        assert!((e.total_usd - sum).abs() < 1e-3);
        assert!(e.total_usd > 0.07 && e.total_usd < 0.09, "{}", e.total_usd);
    }

    #[test]
    fn valkey_is_cheaper_and_unknown_nodes_are_flagged() {
        let v = node_price(Engine::Valkey, "cache.t4g.micro").unwrap();
        assert!((v - 0.0128).abs() < 1e-9);
        let mut i = inputs();
        i.node_type = "cache.x9z.large";
        let e = estimate(&i);
        assert!(!e.is_complete);
        assert_eq!(e.lines[0].usd, None);
    }
}
