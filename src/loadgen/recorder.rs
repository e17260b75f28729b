//! Measurements: each connection records into its own per-second buckets (one HDR histogram per
//! command) and merges them into the run's shared aggregate once a second, so no lock is taken
//! per request; plus the error tallies.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::keys::Op;
use crate::client::{new_histogram, ErrorCount, LatencyHistogram, SparseHistogram};

/// Seconds behind the newest one after which a second's histograms are compacted: by then every
/// connection has flushed into it (each flushes at least once a second while it runs).
const COMPACT_AFTER_SECS: usize = 3;

/// A histogram that is full while it is written to and sparse once its second is over, so that an
/// hour of per-second histograms takes megabytes, not gigabytes.
#[derive(Clone, Debug)]
pub(super) struct Store {
    /// Holds everything when present (then `sparse` is empty).
    full: Option<LatencyHistogram>,
    sparse: SparseHistogram,
}

impl Store {
    fn new() -> Self {
        Self {
            full: Some(new_histogram()),
            sparse: SparseHistogram::default(),
        }
    }

    fn full_mut(&mut self) -> &mut LatencyHistogram {
        let sparse = std::mem::take(&mut self.sparse);
        self.full.get_or_insert_with(|| sparse.to_histogram())
    }

    fn add(&mut self, other: &Self) {
        let full = self.full_mut();
        match &other.full {
            // Every histogram shares memtier's bounds, so `add` cannot fail.
            Some(h) => {
                let _ = full.add(h);
            }
            None => other.sparse.add_into(full),
        }
    }

    /// Keep only the recorded buckets.
    pub(super) fn compact(&mut self) {
        if let Some(h) = self.full.take() {
            self.sparse = SparseHistogram::from_histogram(&h);
        }
    }

    /// The recorded buckets.
    pub(super) fn to_sparse(&self) -> SparseHistogram {
        self.full
            .as_ref()
            .map_or_else(|| self.sparse.clone(), SparseHistogram::from_histogram)
    }

    /// A full histogram.
    pub(super) fn into_histogram(self) -> LatencyHistogram {
        match self.full {
            Some(h) => h,
            None => self.sparse.to_histogram(),
        }
    }
}

/// Longest error example kept, in characters.
const MAX_EXAMPLE_CHARS: usize = 200;

/// One command's measurements over one second (or a whole run).
#[derive(Clone, Debug)]
pub(super) struct Bucket {
    pub(super) count: u64,
    pub(super) bytes_rx: u64,
    pub(super) bytes_tx: u64,
    pub(super) latency_sum_us: u64,
    pub(super) latency_max_us: u64,
    pub(super) hits: u64,
    pub(super) misses: u64,
    pub(super) histogram: Store,
}

impl Bucket {
    pub(super) fn new() -> Self {
        Self {
            count: 0,
            bytes_rx: 0,
            bytes_tx: 0,
            latency_sum_us: 0,
            latency_max_us: 0,
            hits: 0,
            misses: 0,
            histogram: Store::new(),
        }
    }

    fn record(&mut self, latency_us: u64, rx: u64, tx: u64, hit: Option<bool>) {
        self.count += 1;
        self.bytes_rx += rx;
        self.bytes_tx += tx;
        self.latency_sum_us += latency_us;
        self.latency_max_us = self.latency_max_us.max(latency_us);
        match hit {
            Some(true) => self.hits += 1,
            Some(false) => self.misses += 1,
            None => {}
        }
        // Values above the histogram's 600 s ceiling are clamped to it rather than lost.
        self.histogram.full_mut().saturating_record(latency_us);
    }

    pub(super) fn add(&mut self, other: &Self) {
        self.count += other.count;
        self.bytes_rx += other.bytes_rx;
        self.bytes_tx += other.bytes_tx;
        self.latency_sum_us += other.latency_sum_us;
        self.latency_max_us = self.latency_max_us.max(other.latency_max_us);
        self.hits += other.hits;
        self.misses += other.misses;
        if other.count > 0 {
            self.histogram.add(&other.histogram);
        }
    }

    fn clear(&mut self) {
        self.count = 0;
        self.bytes_rx = 0;
        self.bytes_tx = 0;
        self.latency_sum_us = 0;
        self.latency_max_us = 0;
        self.hits = 0;
        self.misses = 0;
        self.histogram.full_mut().reset();
    }
}

/// Both commands over one second.
#[derive(Clone, Debug)]
pub(super) struct PerSecond {
    pub(super) set: Bucket,
    pub(super) get: Bucket,
}

impl PerSecond {
    fn new() -> Self {
        Self {
            set: Bucket::new(),
            get: Bucket::new(),
        }
    }

    fn bucket(&mut self, op: Op) -> &mut Bucket {
        match op {
            Op::Set => &mut self.set,
            Op::Get => &mut self.get,
        }
    }
}

/// Errors by kind, each with the first example.
#[derive(Clone, Debug, Default)]
pub(super) struct ErrorTally(pub(super) Vec<ErrorCount>);

impl ErrorTally {
    /// Count one error; `example` is only built for the first of its kind.
    pub(super) fn add(&mut self, kind: &str, example: impl FnOnce() -> String) {
        self.add_n(kind, 1, example);
    }

    fn add_n(&mut self, kind: &str, n: u64, example: impl FnOnce() -> String) {
        if let Some(e) = self.0.iter_mut().find(|e| e.kind == kind) {
            e.count += n;
        } else {
            let ex: String = example().trim().chars().take(MAX_EXAMPLE_CHARS).collect();
            self.0.push(ErrorCount {
                kind: kind.to_string(),
                count: n,
                example: ex,
            });
        }
    }

    pub(super) fn merge(&mut self, other: &mut Self) {
        for e in other.0.drain(..) {
            let ex = e.example;
            self.add_n(&e.kind, e.count, || ex);
        }
    }
}

/// The run's merged measurements, indexed by second offset.
#[derive(Debug)]
pub(super) struct Aggregate {
    pub(super) seconds: Vec<Option<Box<PerSecond>>>,
    /// Seconds before this index have compact histograms.
    compacted: usize,
    /// Everything so far, for progress reports.
    pub(super) total: LatencyHistogram,
    pub(super) errors: ErrorTally,
}

/// What all connections of a run share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) aggregate: Mutex<Aggregate>,
    /// Completed operations so far (published once per read, for progress).
    pub(super) ops: AtomicU64,
}

impl Shared {
    pub(super) fn new() -> Self {
        Self {
            aggregate: Mutex::new(Aggregate {
                seconds: Vec::new(),
                compacted: 0,
                total: new_histogram(),
                errors: ErrorTally::default(),
            }),
            ops: AtomicU64::new(0),
        }
    }

    /// Add run-level errors (connection failures before the start).
    pub(super) fn add_errors(&self, errors: &mut ErrorTally) {
        if let Ok(mut agg) = self.aggregate.lock() {
            agg.errors.merge(errors);
        }
    }
}

/// One connection's recorder.
pub(super) struct ConnRecorder {
    start: Instant,
    offset: u32,
    current: PerSecond,
    unpublished: u64,
    errors: ErrorTally,
    shared: Arc<Shared>,
}

/// Whole seconds between `start` and `now`.
pub(super) fn offset_of(start: Instant, now: Instant) -> u32 {
    u32::try_from(now.saturating_duration_since(start).as_secs()).unwrap_or(u32::MAX)
}

/// A duration in whole µs, saturating.
pub(super) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl ConnRecorder {
    pub(super) fn new(start: Instant, shared: Arc<Shared>) -> Self {
        Self {
            start,
            offset: 0,
            current: PerSecond::new(),
            unpublished: 0,
            errors: ErrorTally::default(),
            shared,
        }
    }

    /// Called once per read with its time: moves to a new second when one began.
    pub(super) fn tick(&mut self, now: Instant) {
        if self.unpublished > 0 {
            self.shared
                .ops
                .fetch_add(self.unpublished, Ordering::Relaxed);
            self.unpublished = 0;
        }
        let offset = offset_of(self.start, now);
        if offset != self.offset {
            self.flush();
            self.offset = offset;
        }
    }

    /// One completed operation.
    pub(super) fn record(
        &mut self,
        op: Op,
        latency: Duration,
        rx: usize,
        tx: u32,
        hit: Option<bool>,
    ) {
        self.unpublished += 1;
        self.current
            .bucket(op)
            .record(micros(latency), rx as u64, u64::from(tx), hit);
    }

    /// One error.
    pub(super) fn error(&mut self, kind: &str, example: impl FnOnce() -> String) {
        self.errors.add(kind, example);
    }

    /// Merge the current second and the errors into the shared aggregate.
    fn flush(&mut self) {
        if self.current.set.count == 0 && self.current.get.count == 0 && self.errors.0.is_empty() {
            return;
        }
        // A poisoned lock means another connection panicked; its data is lost but ours is still
        // worth keeping, so recover the guard.
        let mut agg = match self.shared.aggregate.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let i = self.offset as usize;
        if agg.seconds.len() <= i {
            agg.seconds.resize_with(i + 1, || None);
        }
        if self.current.set.count > 0 || self.current.get.count > 0 {
            let compacted = agg.compacted;
            let agg = &mut *agg;
            let slot = agg.seconds[i].get_or_insert_with(|| Box::new(PerSecond::new()));
            slot.set.add(&self.current.set);
            slot.get.add(&self.current.get);
            if i < compacted {
                // A late flush into a second already compacted: compact it again.
                slot.set.histogram.compact();
                slot.get.histogram.compact();
            }
            for b in [&mut self.current.set, &mut self.current.get] {
                if b.count > 0 {
                    let _ = agg.total.add(b.histogram.full_mut());
                }
            }
            let upto = i.saturating_sub(COMPACT_AFTER_SECS);
            for s in agg.seconds.iter_mut().take(upto).skip(compacted).flatten() {
                s.set.histogram.compact();
                s.get.histogram.compact();
            }
            agg.compacted = compacted.max(upto);
        }
        agg.errors.merge(&mut self.errors);
        drop(agg);
        if self.current.set.count > 0 {
            self.current.set.clear();
        }
        if self.current.get.count > 0 {
            self.current.get.clear();
        }
    }

    /// Flush everything left; called when the connection ends.
    pub(super) fn finish(mut self) {
        self.shared
            .ops
            .fetch_add(self.unpublished, Ordering::Relaxed);
        self.flush();
    }
}
