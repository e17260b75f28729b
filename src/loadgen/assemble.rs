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
        histogram: Some(b.histogram.to_sparse()),
    }
}

/// Whole-run stats and the series of one command; the buckets move into the series (a histogram
/// is ~20 KB, so long runs must not copy them twice).
fn stats(series: Vec<(u32, Bucket)>, secs: f64, with_hits: bool) -> CommandStats {
    let mut whole = Bucket::new();
    for (_, b) in &series {
        whole.add(b);
    }
    let rate = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    CommandStats {
        count: whole.count,
        ops_per_sec: rate(whole.count),
        hits_per_sec: with_hits.then(|| rate(whole.hits)),
        misses_per_sec: with_hits.then(|| rate(whole.misses)),
        kb_per_sec: Some(rate(whole.bytes_rx + whole.bytes_tx) / 1024.0),
        histogram: Some(whole.histogram.into_histogram()),
        reported: crate::client::ReportedLatency::default(),
        series: series
            .into_iter()
            .map(|(offset, b)| second(offset, &b, with_hits))
            .collect(),
    }
}

/// Build the result. Seconds in which nothing completed are left out of the series, as memtier does.
pub(super) fn assemble(cfg: &LoadgenConfig, agg: Aggregate, facts: RunFacts) -> ClientResult {
    let secs = facts.duration.as_secs_f64();
    let (mut sets, mut gets, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for (i, s) in agg.seconds.into_iter().enumerate() {
        let (Some(s), Ok(offset)) = (s, u32::try_from(i)) else {
            continue;
        };
        let PerSecond { set, get } = *s;
        if set.count + get.count == 0 {
            continue;
        }
        let mut total = set.clone();
        total.add(&get);
        total.histogram.compact();
        totals.push((offset, total));
        if set.count > 0 {
            sets.push((offset, set));
        }
        if get.count > 0 {
            gets.push((offset, get));
        }
    }
    let has_gets = cfg.workload.ratio_get > 0;
    let mut commands = BTreeMap::new();
    if cfg.workload.ratio_set > 0 {
        commands.insert("set".to_string(), stats(sets, secs, false));
    }
    if has_gets {
        commands.insert("get".to_string(), stats(gets, secs, true));
    }

    let mut r = ClientResult::new(cfg.id.clone(), ClientSource::Builtin);
    r.start_ms = Some(facts.start_ms);
    r.duration_ms = Some(u64::try_from(facts.duration.as_millis()).unwrap_or(u64::MAX));
    r.interrupted = facts.interrupted;
    r.totals = stats(totals, secs, has_gets);
    r.commands = commands;
    r.connection_errors = agg
        .errors
        .0
        .iter()
        .filter(|e| is_connection_error(&e.kind))
        .map(|e| e.count)
        .sum();
    r.errors = agg.errors.0;
    r.workload = cfg.recorded();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::time::Instant;

    use super::*;
    use crate::loadgen::keys::Op;
    use crate::loadgen::recorder::{ConnRecorder, Shared};

    #[test]
    fn per_second_buckets_become_series_and_rates() {
        let shared = Arc::new(Shared::new());
        let start = Instant::now();
        let us = Duration::from_micros;
        let mut a = ConnRecorder::new(start, Arc::clone(&shared));
        let mut b = ConnRecorder::new(start, Arc::clone(&shared));
        a.tick(start);
        a.record(Op::Set, us(100), 5, 40, None);
        a.record(Op::Get, us(300), 40, 30, Some(true));
        b.tick(start);
        b.record(Op::Get, us(200), 5, 30, Some(false));
        a.tick(start + Duration::from_millis(1200));
        a.record(Op::Get, us(1000), 5, 30, Some(false));
        a.error("error_reply", || "-ERR x".into());
        a.finish();
        b.finish();
        let agg = match Arc::try_unwrap(shared) {
            Ok(s) => s.aggregate.into_inner().unwrap_or_else(|p| p.into_inner()),
            Err(_) => panic!("recorders still hold the aggregate"),
        };
        let mut cfg = LoadgenConfig::default();
        cfg.workload.ratio_get = 1;
        let facts = RunFacts {
            start_ms: 1_000_000,
            duration: Duration::from_secs(2),
            interrupted: false,
            notes: Vec::new(),
        };
        let r = assemble(&cfg, agg, facts);
        assert_eq!(r.totals.count, 4);
        assert_eq!(r.totals.ops_per_sec, 2.0);
        let offsets: Vec<(u32, u64)> = r
            .totals
            .series
            .iter()
            .map(|s| (s.offset, s.count))
            .collect();
        assert_eq!(offsets, [(0, 3), (1, 1)]);
        let first = &r.totals.series[0];
        assert_eq!(first.mean_latency_ms, Some(0.2));
        assert_eq!(first.max_latency_ms, Some(0.3));
        assert_eq!((first.hits, first.misses), (Some(1), Some(1)));
        assert_eq!(first.histogram.as_ref().map(|h| h.len()), Some(3));
        let get = &r.commands["get"];
        assert_eq!(get.count, 3);
        assert_eq!(
            (get.hits_per_sec, get.misses_per_sec),
            (Some(0.5), Some(1.0))
        );
        let set = &r.commands["set"];
        assert_eq!((set.count, set.hits_per_sec), (1, None));
        assert_eq!(set.series[0].hits, None);
        assert_eq!(r.totals.histogram.as_ref().map(|h| h.len()), Some(4));
        assert_eq!(r.error_count("error_reply"), 1);
        assert_eq!(r.connection_errors, 0);
        assert_eq!(r.start_ms, Some(1_000_000));
        assert_eq!(r.duration_ms, Some(2000));
    }
}
