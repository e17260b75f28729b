//! Percentiles from HDR histograms, computed exactly as memtier (HdrHistogram_c) computes them,
//! so that a single task's numbers equal memtier's own to the last digit.

use serde::{Deserialize, Serialize};

use crate::client::LatencyHistogram;

/// The percentiles every report shows, in 0..=100.
pub const REPORTED_PERCENTILES: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];

/// The value at percentile `p` (0..=100) in µs, HdrHistogram_c's way.
///
/// HdrHistogram_c's `hdr_value_at_percentile` rounds the target count to nearest
/// (`(int64_t)(p / 100 * total + 0.5)`, at least 1) and returns the highest value equivalent to the
/// bucket where the running count reaches it. The Rust crate's `value_at_quantile` uses `ceil` and can
/// land one bucket higher at high percentiles (memtier-formats §7.3), so it is not used.
/// Returns `None` for an empty histogram (memtier prints a meaningless 0.007 there).
pub fn value_at_percentile_us(h: &LatencyHistogram, p: f64) -> Option<u64> {
    let total = h.len();
    if total == 0 {
        return None;
    }
    let fraction = p.clamp(0.0, 100.0) / 100.0;
    // Truncation toward zero after adding 0.5 is the rounding HdrHistogram_c uses.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let target = ((fraction * total as f64) + 0.5) as u64;
    let target = target.max(1);
    let mut acc = 0u64;
    for v in h.iter_recorded() {
        acc += v.count_at_value();
        if acc >= target {
            return Some(h.highest_equivalent(v.value_iterated_to()));
        }
    }
    Some(h.highest_equivalent(h.max()))
}

/// µs to ms, rounded to whole µs as memtier prints them (3 decimals in JSON).
pub fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Mean, percentiles and max of a latency distribution, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Mean.
    pub mean: Option<f64>,
    /// 50th percentile.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p99_9: Option<f64>,
    /// 99.99th percentile.
    pub p99_99: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

impl LatencySummary {
    /// The summary of a histogram in µs; all `None` when it is empty.
    pub fn from_histogram(h: &LatencyHistogram) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let pct = |p| value_at_percentile_us(h, p).map(us_to_ms);
        Self {
            // The mean of the histogram, as memtier's table computes it (hdr_mean); the JSON Totals
            // mean is truncated to whole milliseconds and is not used.
            mean: Some(round_us(h.mean() / 1000.0)),
            p50: pct(50.0),
            p90: pct(90.0),
            p99: pct(99.0),
            p99_9: pct(99.9),
            p99_99: pct(99.99),
            max: Some(us_to_ms(h.max())),
        }
    }

    /// The summary from numbers a generator printed, for results that carry no histogram.
    pub fn from_reported(
        mean_ms: Option<f64>,
        percentiles: &[(f64, f64)],
        max_ms: Option<f64>,
    ) -> Self {
        let find = |want: f64| {
            percentiles
                .iter()
                .find(|(p, _)| (p - want).abs() < 1e-6)
                .map(|&(_, v)| v)
        };
        Self {
            mean: mean_ms,
            p50: find(50.0),
            p90: find(90.0),
            p99: find(99.0),
            p99_9: find(99.9),
            p99_99: find(99.99),
            max: max_ms,
        }
    }

    /// The value for percentile `p` when it is one of the reported ones.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        match p {
            x if (x - 50.0).abs() < 1e-9 => self.p50,
            x if (x - 90.0).abs() < 1e-9 => self.p90,
            x if (x - 99.0).abs() < 1e-9 => self.p99,
            x if (x - 99.9).abs() < 1e-9 => self.p99_9,
            x if (x - 99.99).abs() < 1e-9 => self.p99_99,
            _ => None,
        }
    }
}

/// Round a millisecond value to whole microseconds (three decimals).
pub fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::new_histogram;

    #[test]
    fn empty_histogram_has_no_percentiles() {
        let h = new_histogram();
        assert_eq!(value_at_percentile_us(&h, 50.0), None);
        assert_eq!(
            LatencySummary::from_histogram(&h),
            LatencySummary::default()
        );
    }

    #[test]
    fn rounds_target_to_nearest_like_hdrhistogram_c() {
        // 3 values: p50 target = (0.5*3+0.5) = 2 -> the second value; ceil would also give 2.
        // 4 values: p10 target = (0.4+0.5)=0 -> at least 1 -> first value.
        let mut h = new_histogram();
        for v in [100, 200, 300, 400] {
            h.record(v).unwrap();
        }
        assert_eq!(
            value_at_percentile_us(&h, 10.0),
            Some(h.highest_equivalent(100))
        );
        // p62.5 of 4 -> 2.5+0.5 = 3 -> third value (ceil(2.5) would also be 3);
        // p60 of 4 -> 2.4+0.5 = 2 -> second value, where ceil(2.4) = 3 gives the third.
        assert_eq!(
            value_at_percentile_us(&h, 60.0),
            Some(h.highest_equivalent(200))
        );
        assert_eq!(
            value_at_percentile_us(&h, 100.0),
            Some(h.highest_equivalent(400))
        );
    }

    #[test]
    fn reported_lookup_matches_percentiles() {
        let s = LatencySummary::from_reported(Some(1.0), &[(50.0, 0.2), (99.9, 3.0)], Some(9.0));
        assert_eq!(s.p50, Some(0.2));
        assert_eq!(s.p99_9, Some(3.0));
        assert_eq!(s.p99, None);
        assert_eq!(s.percentile(99.9), Some(3.0));
    }
}
