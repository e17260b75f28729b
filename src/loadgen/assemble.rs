//! Turning the merged per-second buckets into a [`ClientResult`]: per-command and total series
//! with exact per-second histograms, whole-run histograms and rates. Pure.

use std::collections::BTreeMap;
use std::time::Duration;

use super::config::LoadgenConfig;
use super::recorder::{Aggregate, Bucket, PerSecond};
use crate::client::{ClientResult, ClientSource, CommandStats, Second};

/// What the run itself knows beyond the buckets.
#[derive(Debug, Clone)]
pub(super) struct RunFacts {
    pub(super) start_ms: u64,
    pub(super) duration: Duration,
    pub(super) interrupted: bool,
    pub(super) notes: Vec<String>,
}

fn second(offset: u32, b: &Bucket, with_hits: bool) -> Second {
    Second {
        offset,
        count: b.count,
        bytes_rx: b.bytes_rx,
        bytes_tx: b.bytes_tx,
        mean_latency_ms: (b.count > 0).then(|| b.latency_sum_us as f64 / b.count as f64 / 1000.0),
        max_latency_ms: (b.count > 0).then(|| b.latency_max_us as f64 / 1000.0),
        hits: with_hits.then_some(b.hits),
        misses: with_hits.then_some(b.misses),
        histogram: Some(Box::new(b.histogram.clone())),
    }
}

fn stats(series: &[(u32, Bucket)], secs: f64, with_hits: bool) -> CommandStats {
    let mut whole = Bucket::new();
    for (_, b) in series {
        whole.add(b);
    }
    let rate = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    CommandStats {
        count: whole.count,
        ops_per_sec: rate(whole.count),
        hits_per_sec: with_hits.then(|| rate(whole.hits)),
        misses_per_sec: with_hits.then(|| rate(whole.misses)),
        kb_per_sec: Some(rate(whole.bytes_rx + whole.bytes_tx) / 1024.0),
        histogram: Some(whole.histogram),
        reported: crate::client::ReportedLatency::default(),
        series: series
            .iter()
            .map(|(offset, b)| second(*offset, b, with_hits))
            .collect(),
    }
}

/// Build the result. Seconds in which nothing completed are left out of the series, as memtier does.
pub(super) fn assemble(cfg: &LoadgenConfig, agg: Aggregate, facts: RunFacts) -> ClientResult {
    let secs = facts.duration.as_secs_f64();
    let seconds: Vec<(u32, Box<PerSecond>)> = agg
        .seconds
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| Some((u32::try_from(i).ok()?, s?)))
        .collect();
    let has_gets = cfg.ratio_get > 0;
    let mut commands = BTreeMap::new();
    let pick = |f: fn(&PerSecond) -> &Bucket| -> Vec<(u32, Bucket)> {
        seconds
            .iter()
            .filter(|(_, s)| f(s).count > 0)
            .map(|(o, s)| (*o, f(s).clone()))
            .collect()
    };
    if cfg.ratio_set > 0 {
        commands.insert("set".to_string(), stats(&pick(|s| &s.set), secs, false));
    }
    if has_gets {
        commands.insert("get".to_string(), stats(&pick(|s| &s.get), secs, true));
    }
    let totals: Vec<(u32, Bucket)> = seconds
        .iter()
        .filter(|(_, s)| s.set.count + s.get.count > 0)
        .map(|(o, s)| {
            let mut b = s.set.clone();
            b.add(&s.get);
            (*o, b)
        })
        .collect();

    let mut r = ClientResult::new(cfg.id.clone(), ClientSource::Builtin);
    r.start_ms = Some(facts.start_ms);
    r.duration_ms = Some(u64::try_from(facts.duration.as_millis()).unwrap_or(u64::MAX));
    r.interrupted = facts.interrupted;
    r.totals = stats(&totals, secs, has_gets);
    r.commands = commands;
    r.connection_errors = agg
        .errors
        .0
        .iter()
        .filter(|e| is_connection_error(&e.kind))
        .map(|e| e.count)
        .sum();
    r.errors = agg.errors.0;
    r.workload = cfg.workload();
    r.generator = Some(format!(
        "elasticache-perf builtin {}",
        env!("CARGO_PKG_VERSION")
    ));
    r.notes = facts.notes;
    r
}

/// Error kinds that are about the connection rather than a reply.
pub(super) fn is_connection_error(kind: &str) -> bool {
    matches!(
        kind,
        "connection_refused" | "connect_timeout" | "connection_error" | "connection_dropped"
    )
}
