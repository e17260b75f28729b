//! Redis/Valkey `INFO` as server metrics: parse one reply, and turn two snapshots into one sample
//! of rates (ops/s, CPU %, hits/s, network KiB/s) and levels (clients, memory). Pure.

use std::collections::BTreeMap;

use crate::results::server::{names, Sample};

/// The fields of one `INFO` reply the product reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InfoSnapshot {
    /// Unix ms at which the reply arrived.
    pub at_ms: u64,
    /// `redis_version` or `valkey_version`.
    pub version: Option<String>,
    /// Server name (`redis` or `valkey`), from `server_name` when present.
    pub server_name: Option<String>,
    /// `total_commands_processed`.
    pub commands: u64,
    /// `used_cpu_user`, seconds.
    pub cpu_user: f64,
    /// `used_cpu_sys`, seconds.
    pub cpu_sys: f64,
    /// `connected_clients`.
    pub clients: u64,
    /// `used_memory`, bytes.
    pub used_memory: u64,
    /// `keyspace_hits`.
    pub hits: u64,
    /// `keyspace_misses`.
    pub misses: u64,
    /// `total_net_input_bytes`.
    pub net_in: u64,
    /// `total_net_output_bytes`.
    pub net_out: u64,
}

/// Parse an `INFO` reply.
pub fn parse(text: &str, at_ms: u64) -> InfoSnapshot {
    let mut s = InfoSnapshot {
        at_ms,
        ..InfoSnapshot::default()
    };
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once(':') else {
            continue;
        };
        let int = || v.trim().parse::<u64>().unwrap_or(0);
        let float = || v.trim().parse::<f64>().unwrap_or(0.0);
        match k {
            "valkey_version" => s.version = Some(v.to_string()),
            "redis_version" if s.version.is_none() => s.version = Some(v.to_string()),
            "server_name" => s.server_name = Some(v.to_string()),
            "total_commands_processed" => s.commands = int(),
            "used_cpu_user" => s.cpu_user = float(),
            "used_cpu_sys" => s.cpu_sys = float(),
            "connected_clients" => s.clients = int(),
            "used_memory" => s.used_memory = int(),
            "keyspace_hits" => s.hits = int(),
            "keyspace_misses" => s.misses = int(),
            "total_net_input_bytes" => s.net_in = int(),
            "total_net_output_bytes" => s.net_out = int(),
            _ => {}
        }
    }
    s
}

/// The sample for the interval between two snapshots; `None` if time did not advance.
pub fn sample(prev: &InfoSnapshot, cur: &InfoSnapshot) -> Option<Sample> {
    if cur.at_ms <= prev.at_ms {
        return None;
    }
    let dt = (cur.at_ms - prev.at_ms) as f64 / 1000.0;
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / dt;
    let pct = |a: f64, b: f64| ((b - a).max(0.0) / dt * 100.0 * 10.0).round() / 10.0;
    let mut values = BTreeMap::new();
    values.insert(
        names::OPS_PER_SEC.to_string(),
        (rate(prev.commands, cur.commands) * 10.0).round() / 10.0,
    );
    let user = pct(prev.cpu_user, cur.cpu_user);
    let sys = pct(prev.cpu_sys, cur.cpu_sys);
    values.insert(names::CPU_USER_PERCENT.to_string(), user);
    values.insert(names::CPU_SYS_PERCENT.to_string(), sys);
    values.insert(
        names::CPU_PERCENT.to_string(),
        ((user + sys) * 10.0).round() / 10.0,
    );
    values.insert(names::CONNECTED_CLIENTS.to_string(), cur.clients as f64);
    values.insert(names::USED_MEMORY_BYTES.to_string(), cur.used_memory as f64);
    values.insert(
        names::HITS_PER_SEC.to_string(),
        rate(prev.hits, cur.hits).round(),
    );
    values.insert(
        names::MISSES_PER_SEC.to_string(),
        rate(prev.misses, cur.misses).round(),
    );
    values.insert(
        names::NET_IN_KB_PER_SEC.to_string(),
        (rate(prev.net_in, cur.net_in) / 1024.0 * 10.0).round() / 10.0,
    );
    values.insert(
        names::NET_OUT_KB_PER_SEC.to_string(),
        (rate(prev.net_out, cur.net_out) / 1024.0 * 10.0).round() / 10.0,
    );
    Some(Sample {
        // The sampler ticks on whole seconds; the reply arrives a few ms after.
        t: (cur.at_ms + 500) / 1000,
        t_ms: Some(cur.at_ms),
        values,
    })
}

/// The server's own commands per second between two Unix-ms instants, interpolating its cumulative
/// count between snapshots (`(unix ms, total_commands_processed)`, in time order); `None` when the
/// snapshots do not cover the span.
pub fn commands_per_sec_between(
    counters: &[(u64, u64)],
    start_ms: u64,
    end_ms: u64,
) -> Option<f64> {
    let at = |t: u64| -> Option<f64> {
        let i = counters.partition_point(|(pt, _)| *pt < t);
        let (t1, c1) = *counters.get(i)?;
        if t1 == t {
            return Some(c1 as f64);
        }
        let (t0, c0) = *counters.get(i.checked_sub(1)?)?;
        Some(c0 as f64 + (c1 as f64 - c0 as f64) * (t - t0) as f64 / (t1 - t0) as f64)
    };
    if end_ms <= start_ms {
        return None;
    }
    Some((at(end_ms)? - at(start_ms)?) / ((end_ms - start_ms) as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# Server\r\nredis_version:7.0.15\r\nserver_name:redis\r\n# Clients\r\nconnected_clients:7\r\n\
        # Memory\r\nused_memory:1048576\r\n# Stats\r\ntotal_commands_processed:1000\r\nkeyspace_hits:10\r\n\
        keyspace_misses:5\r\ntotal_net_input_bytes:2048\r\ntotal_net_output_bytes:4096\r\n# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.000000\r\n";

    #[test]
    fn parses_and_differences_two_snapshots() {
        let a = parse(INFO, 10_000);
        assert_eq!(a.version.as_deref(), Some("7.0.15"));
        assert_eq!(a.commands, 1000);
        let mut b = a.clone();
        b.at_ms = 12_000;
        b.commands = 21_000;
        b.cpu_user = 2.5;
        b.cpu_sys = 1.6;
        b.net_in += 20_480;
        let s = sample(&a, &b).unwrap();
        assert_eq!(s.values[names::OPS_PER_SEC], 10_000.0);
        assert_eq!(s.values[names::CPU_USER_PERCENT], 25.0);
        assert_eq!(s.values[names::CPU_SYS_PERCENT], 5.0);
        assert_eq!(s.values[names::CPU_PERCENT], 30.0);
        assert_eq!(s.values[names::NET_IN_KB_PER_SEC], 10.0);
        assert_eq!(s.t, 12);
    }

    #[test]
    fn interpolates_the_commands_counter() {
        let counters = [(1000, 0), (2000, 100), (3000, 300)];
        assert_eq!(commands_per_sec_between(&counters, 1500, 2500), Some(150.0));
        assert_eq!(commands_per_sec_between(&counters, 1000, 3000), Some(150.0));
        assert_eq!(commands_per_sec_between(&counters, 500, 2500), None);
    }
}
