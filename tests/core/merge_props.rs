//! Property tests of the merge: exact percentiles (merging equals recording everything in one
//! histogram), order independence, the empty result as identity, and steady-state rates.

#![allow(clippy::unwrap_used)]

use elasticache_perf::client::{new_histogram, ClientResult, ClientSource, CommandStats, Second};
use elasticache_perf::stats::merge::{steady_state, whole_run};
use elasticache_perf::stats::percentile::{value_at_percentile_us, LatencySummary};
use elasticache_perf::stats::window::{choose, WindowSpec};
use proptest::prelude::*;

fn client(id: usize, latencies_us: &[u64], secs: f64) -> ClientResult {
    let mut c = ClientResult::new(format!("t{id}"), ClientSource::Builtin);
    let mut h = new_histogram();
    for &v in latencies_us {
        h.record(v).unwrap();
    }
    let mut s = CommandStats::empty();
    s.count = latencies_us.len() as u64;
    s.ops_per_sec = s.count as f64 / secs;
    s.histogram = Some(h);
    c.commands.insert("get".into(), s.clone());
    c.totals = s;
    c
}

fn latency_vecs() -> impl Strategy<Value = Vec<Vec<u64>>> {
    prop::collection::vec(prop::collection::vec(10u64..5_000_000, 0..400), 1..6)
}

proptest! {
    #[test]
    fn merged_percentiles_equal_one_histogram_of_everything(vs in latency_vecs()) {
        let clients: Vec<ClientResult> = vs.iter().enumerate().map(|(i, v)| client(i, v, 10.0)).collect();
        let refs: Vec<&ClientResult> = clients.iter().collect();
        let merged = whole_run(&refs);
        let mut all = new_histogram();
        for v in vs.iter().flatten() {
            all.record(*v).unwrap();
        }
        prop_assert_eq!(&merged.total.latency, &LatencySummary::from_histogram(&all));
        prop_assert_eq!(merged.total.count, all.len());
        let ops: f64 = clients.iter().map(|c| c.totals.ops_per_sec).sum();
        prop_assert!((merged.total.ops_per_sec.unwrap() - ops).abs() < 1e-9);
    }

    #[test]
    fn merge_order_does_not_matter(vs in latency_vecs()) {
        let clients: Vec<ClientResult> = vs.iter().enumerate().map(|(i, v)| client(i, v, 5.0)).collect();
        let fwd: Vec<&ClientResult> = clients.iter().collect();
        let rev: Vec<&ClientResult> = clients.iter().rev().collect();
        let (a, b) = (whole_run(&fwd), whole_run(&rev));
        prop_assert_eq!(&a.total.latency, &b.total.latency);
        prop_assert_eq!(a.total.count, b.total.count);
        prop_assert_eq!(&a.commands["get"].latency, &b.commands["get"].latency);
    }

    #[test]
    fn an_empty_result_is_the_identity(v in prop::collection::vec(10u64..5_000_000, 1..400)) {
        let a = client(0, &v, 3.0);
        let empty = client(1, &[], 3.0);
        let alone = whole_run(&[&a]);
        let with_empty = whole_run(&[&a, &empty]);
        prop_assert_eq!(&alone.total.latency, &with_empty.total.latency);
        prop_assert_eq!(alone.total.count, with_empty.total.count);
        prop_assert_eq!(alone.total.ops_per_sec, with_empty.total.ops_per_sec);
    }

    #[test]
    fn percentiles_are_monotonic(v in prop::collection::vec(10u64..5_000_000, 1..400), p in 0.0f64..100.0, q in 0.0f64..100.0) {
        let mut h = new_histogram();
        for x in &v { h.record(*x).unwrap(); }
        let (lo, hi) = if p <= q { (p, q) } else { (q, p) };
        prop_assert!(value_at_percentile_us(&h, lo) <= value_at_percentile_us(&h, hi));
    }

    /// Generators with a constant rate each, started at different sub-second offsets: the
    /// steady-state rate is exactly the sum of the rates.
    #[test]
    fn steady_state_rate_is_the_sum_of_constant_rates(
        rates in prop::collection::vec(1u64..10_000, 1..8),
        offsets in prop::collection::vec(0u64..2_000, 8),
        secs in 8u32..40,
    ) {
        let clients: Vec<ClientResult> = rates.iter().enumerate().map(|(i, &rate)| {
            let mut c = ClientResult::new(format!("t{i}"), ClientSource::Builtin);
            c.start_ms = Some(1_800_000_000_000 + offsets[i]);
            c.duration_ms = Some(u64::from(secs) * 1000 + 5);
            c.totals.count = rate * u64::from(secs);
            c.totals.ops_per_sec = rate as f64;
            c.totals.series = (0..=secs).map(|k| Second { offset: k, count: if k == secs { 1 } else { rate }, ..Second::default() }).collect();
            c
        }).collect();
        let refs: Vec<&ClientResult> = clients.iter().collect();
        let w = choose(&refs, WindowSpec::default()).unwrap();
        for c in &clients {
            let s = c.start_ms.unwrap();
            prop_assert!(s <= w.start_ms && w.end_ms <= s + c.duration_ms.unwrap());
        }
        let whole = whole_run(&refs);
        let (steady, _) = steady_state(&refs, &w, &whole);
        let want: u64 = rates.iter().sum();
        prop_assert!((steady.total.ops_per_sec.unwrap() - want as f64).abs() < 1e-6,
            "steady {} vs {}", steady.total.ops_per_sec.unwrap(), want);
    }
}
