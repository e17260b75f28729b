//! Chart axes with ticks chosen for people: a logarithmic axis ticked on the 1-2-5 sequence (0.1,
//! 0.2, 0.5, 1, 2, 5 ms …) and a linear axis with given ticks (whole minutes on a long run).
//! plotters' own `log_scale()` ticks only at powers of ten or at evenly spaced steps within a
//! decade, which leaves a latency panel with two labels or a crowded top of each decade; its linear
//! axis picks 8.3, 16.7 … minutes when the data are in seconds.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A log-scale range `[lo, hi]`, both positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    /// A range covering `[lo, hi]`; invalid bounds fall back to something drawable.
    pub(super) fn new(lo: f64, hi: f64) -> Self {
        let lo = if lo.is_finite() && lo > 0.0 { lo } else { 0.01 };
        let hi = if hi.is_finite() && hi > lo * 1.01 {
            hi
        } else {
            lo * 10.0
        };
        Self { lo, hi }
    }

    /// A range around data in `[lo, hi]`, widened to the 1-2-5 values just outside it so that
    /// both ends carry a labelled tick.
    pub(super) fn around(lo: f64, hi: f64) -> Self {
        let data = Self::new(lo, hi);
        let steps = |d: i32| [1.0, 2.0, 5.0].map(|m| Self::value(m, d));
        let (first, last) = (*data.decades().start(), *data.decades().end());
        let below = (first - 1..=last)
            .flat_map(steps)
            .filter(|v| *v < data.lo)
            .fold(data.lo / 2.0, f64::max);
        let above = (first..=last + 1)
            .flat_map(steps)
            .find(|v| *v > data.hi)
            .unwrap_or(data.hi * 2.0);
        Self::new(below, above)
    }

    /// The decades `10^d` the range touches, as exponents.
    fn decades(&self) -> std::ops::RangeInclusive<i32> {
        // log10 of a positive finite f64 lies in [-324, 309]: the casts cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let (first, last) = (
            self.lo.log10().floor() as i32,
            self.hi.log10().ceil() as i32,
        );
        first..=last
    }

    /// `m × 10^d`, computed so that 0.3 is 0.3 and not 0.30000000000000004.
    fn value(m: f64, d: i32) -> f64 {
        if d < 0 {
            m / 10f64.powi(-d)
        } else {
            m * 10f64.powi(d)
        }
    }

    /// The 1-2-5 values within the range (else 1-3, else powers of ten, thinned) at most `max`.
    pub(super) fn ticks(&self, max: usize) -> Vec<f64> {
        let max = max.max(2);
        let within = |v: &f64| *v >= self.lo && *v <= self.hi;
        for steps in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..]] {
            let out: Vec<f64> = self
                .decades()
                .flat_map(|d| steps.iter().map(move |m| Self::value(*m, d)))
                .filter(within)
                .collect();
            if out.len() <= max {
                return out;
            }
        }
        let powers: Vec<f64> = self
            .decades()
            .map(|d| Self::value(1.0, d))
            .filter(within)
            .collect();
        let stride = powers.len().div_ceil(max).max(1);
        powers.into_iter().step_by(stride).collect()
    }
}

impl Ranged for LogAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let v = value.clamp(self.lo / 1e6, self.hi * 1e6);
        let frac = (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        to_pixel(frac, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        self.ticks(hint.max_num_points())
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// The pixel at fraction `frac` of the way from `limit.0` to `limit.1`.
fn to_pixel(frac: f64, limit: (i32, i32)) -> i32 {
    let px = f64::from(limit.0) + frac * (f64::from(limit.1) - f64::from(limit.0));
    // Clamped to the i32 range first, so the cast cannot truncate (NaN becomes 0).
    #[allow(clippy::cast_possible_truncation)]
    let px = px.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
    px
}

/// A linear range `[lo, hi]` with the ticks given.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TickedAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    /// A range with ticks; an empty or inverted range becomes `[lo, lo + 1]`.
    pub(super) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        let lo = if lo.is_finite() { lo } else { 0.0 };
        let hi = if hi.is_finite() && hi > lo {
            hi
        } else {
            lo + 1.0
        };
        Self { lo, hi, ticks }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        to_pixel((value - self.lo) / (self.hi - self.lo), limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let stride = self
            .ticks
            .len()
            .div_ceil(hint.max_num_points().max(1))
            .max(1);
        self.ticks.iter().copied().step_by(stride).collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// A latency axis label: up to three significant digits, no trailing zeros (`0.2`, `5`, `20`).
pub(super) fn label_ms(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_one_two_five() {
        assert_eq!(
            LogAxis::new(0.15, 60.0).ticks(12),
            vec![0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        );
        assert_eq!(
            LogAxis::new(0.15, 60.0).ticks(5),
            vec![0.3, 1.0, 3.0, 10.0, 30.0]
        );
        let wide = LogAxis::new(0.001, 1e6).ticks(4);
        assert!(wide.len() <= 4 && !wide.is_empty(), "{wide:?}");
    }

    #[test]
    fn around_widens_to_the_next_ticks() {
        assert_eq!(LogAxis::around(0.18, 3.5).range(), 0.1..5.0);
        assert_eq!(LogAxis::around(0.3, 48.0).range(), 0.2..50.0);
        assert_eq!(LogAxis::around(1.0, 2.0).range(), 0.5..5.0);
        let r = LogAxis::around(0.0, f64::NAN).range();
        assert!(r.start > 0.0 && r.end > r.start);
    }

    #[test]
    fn maps_logarithmically_and_survives_bad_input() {
        let a = LogAxis::new(1.0, 100.0);
        assert_eq!(a.map(&1.0, (0, 200)), 0);
        assert_eq!(a.map(&10.0, (0, 200)), 100);
        assert_eq!(a.map(&100.0, (0, 200)), 200);
        assert_eq!(a.map(&10.0, (300, 100)), 200);
        let _ = a.map(&0.0, (0, 200));
        let _ = a.map(&f64::NAN, (0, 200));
        assert_eq!(LogAxis::new(0.0, 0.0).range(), 0.01..0.1);
        assert_eq!(LogAxis::new(5.0, 5.0).range(), 5.0..50.0);
    }

    #[test]
    fn ticked_axis_is_linear_and_thins_its_ticks() {
        let a = TickedAxis::new(0.0, 10.0, (0..=10).map(f64::from).collect());
        assert_eq!(a.map(&5.0, (0, 100)), 50);
        assert_eq!(a.key_points(20usize).len(), 11);
        assert_eq!(a.key_points(4usize), vec![0.0, 3.0, 6.0, 9.0]);
        assert_eq!(TickedAxis::new(3.0, 3.0, vec![]).range(), 3.0..4.0);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label_ms(0.2), "0.2");
        assert_eq!(label_ms(0.05), "0.05");
        assert_eq!(label_ms(5.0), "5");
        assert_eq!(label_ms(20.0), "20");
        assert_eq!(label_ms(2.5), "2.5");
        assert_eq!(label_ms(1000.0), "1000");
    }
}
