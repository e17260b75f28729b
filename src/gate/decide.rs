//! The verdict on one metric from its change, interval and threshold, and the overall verdict
//! from the metrics'. Pure.
//!
//! In "worse" terms (the change's sign flipped for throughput, so that positive is always bad),
//! with threshold T ≥ 0 and interval [lo, hi]:
//! * **regressed**: lo > 0 (significantly worse) and the change > T (beyond the threshold);
//! * **improved**: hi < 0 and the change < −T;
//! * **no change**: neither of those, and the interval's half-width (hi − lo)/2 is at most T: the
//!   measurement resolves changes of the tolerated size, and saw none beyond it that is
//!   significant (with half-width ≤ T, any change beyond T is significant, so "regressed" is then
//!   exactly "changed by more than T");
//! * **inconclusive**: neither, and the half-width exceeds T: the interval is too wide to decide
//!   against the threshold (a change as large as T could not be told from noise).
//!
//! A stricter "no change" (the whole interval inside ±T, Schuirmann's TOST equivalence test) was
//! considered and rejected: with one current run the interval never shrinks below the run-to-run
//! noise, so it would call almost every quiet run inconclusive. See docs/gate.md.

use super::types::{Interval, Metric, Verdict};

/// The verdict and why, for one metric.
pub fn metric_verdict(
    metric: Metric,
    change_pct: f64,
    interval: Interval,
    threshold_pct: f64,
) -> (Verdict, String) {
    let flip = if metric.higher_is_better() { -1.0 } else { 1.0 };
    let worse = change_pct * flip;
    let (a, b) = (interval.low_pct * flip, interval.high_pct * flip);
    let (lo, hi) = (a.min(b), a.max(b));
    let t = threshold_pct;
    let bad = if metric.higher_is_better() {
        "drop"
    } else {
        "rise"
    };
    let ci = format!("[{:+.1} %, {:+.1} %]", interval.low_pct, interval.high_pct);
    if lo > 0.0 && worse > t {
        (
            Verdict::Regressed,
            format!("{change_pct:+.1} % is beyond the {t} % tolerated {bad} and significant ({ci} excludes 0)"),
        )
    } else if hi < 0.0 && worse < -t {
        (
            Verdict::Improved,
            format!(
                "{change_pct:+.1} % is better by more than {t} % and significant ({ci} excludes 0)"
            ),
        )
    } else if (hi - lo) / 2.0 <= t {
        (
            Verdict::NoChange,
            format!("{change_pct:+.1} % {ci}: no significant change beyond ±{t} %"),
        )
    } else if worse > t {
        (
            Verdict::Inconclusive,
            format!("{change_pct:+.1} % is beyond the {t} % tolerated {bad} but not significant ({ci} includes 0): too noisy to decide"),
        )
    } else {
        (
            Verdict::Inconclusive,
            format!("{ci} is wider than ±{t} %: too noisy to tell a change of the tolerated size from noise"),
        )
    }
}

/// The overall verdict: regressed if any metric regressed; else inconclusive if any was (a
/// regression could not be ruled out); else improved if any improved; else no change. No metric
/// at all is inconclusive.
pub fn overall(verdicts: &[Verdict]) -> Verdict {
    if verdicts.is_empty() {
        Verdict::Inconclusive
    } else if verdicts.contains(&Verdict::Regressed) {
        Verdict::Regressed
    } else if verdicts.contains(&Verdict::Inconclusive) {
        Verdict::Inconclusive
    } else if verdicts.contains(&Verdict::Improved) {
        Verdict::Improved
    } else {
        Verdict::NoChange
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(low_pct: f64, high_pct: f64) -> Interval {
        Interval { low_pct, high_pct }
    }

    #[test]
    fn throughput_paths() {
        let m = Metric::Throughput;
        // A 15 % drop, significant, beyond 5 %.
        assert_eq!(
            metric_verdict(m, -15.0, iv(-20.0, -10.0), 5.0).0,
            Verdict::Regressed
        );
        // Significant but only partly beyond: the point is beyond and lo (in worse terms) > 0.
        assert_eq!(
            metric_verdict(m, -8.0, iv(-14.0, -1.0), 5.0).0,
            Verdict::Regressed
        );
        // A significant drop within the threshold, resolution better than the threshold: no change.
        assert_eq!(
            metric_verdict(m, -3.0, iv(-6.0, -0.5), 5.0).0,
            Verdict::NoChange
        );
        assert_eq!(
            metric_verdict(m, -3.0, iv(-4.5, -1.5), 5.0).0,
            Verdict::NoChange
        );
        // Nothing significant, but the interval is wider than ±5 %: inconclusive.
        let (v, why) = metric_verdict(m, -1.0, iv(-7.0, 5.5), 5.0);
        assert_eq!(v, Verdict::Inconclusive);
        assert!(why.contains("too noisy"), "{why}");
        // Beyond the threshold but not significant (noisy baseline): inconclusive, not a failure.
        let (v, why) = metric_verdict(m, -12.0, iv(-30.0, 8.0), 5.0);
        assert_eq!(v, Verdict::Inconclusive);
        assert!(why.contains("not significant"), "{why}");
        // Improvement.
        assert_eq!(
            metric_verdict(m, 12.0, iv(7.0, 17.0), 5.0).0,
            Verdict::Improved
        );
        // Significant improvement within the threshold, interval inside: no change.
        assert_eq!(
            metric_verdict(m, 2.0, iv(0.5, 3.5), 5.0).0,
            Verdict::NoChange
        );
    }

    #[test]
    fn latency_paths_are_mirrored() {
        let m = Metric::LatencyP99;
        assert_eq!(
            metric_verdict(m, 25.0, iv(12.0, 40.0), 10.0).0,
            Verdict::Regressed
        );
        assert_eq!(
            metric_verdict(m, -25.0, iv(-35.0, -15.0), 10.0).0,
            Verdict::Improved
        );
        assert_eq!(
            metric_verdict(m, 1.0, iv(-4.0, 6.0), 10.0).0,
            Verdict::NoChange
        );
        assert_eq!(
            metric_verdict(m, 1.0, iv(-20.0, 25.0), 10.0).0,
            Verdict::Inconclusive
        );
        assert_eq!(
            metric_verdict(m, 25.0, iv(-5.0, 60.0), 10.0).0,
            Verdict::Inconclusive
        );
        // A significant rise below the threshold is never a regression.
        assert_ne!(
            metric_verdict(m, 8.0, iv(2.0, 14.0), 10.0).0,
            Verdict::Regressed
        );
    }

    #[test]
    fn threshold_zero_reduces_to_significance() {
        let m = Metric::LatencyP50;
        assert_eq!(
            metric_verdict(m, 0.5, iv(0.1, 0.9), 0.0).0,
            Verdict::Regressed
        );
        assert_eq!(
            metric_verdict(m, 0.5, iv(-0.1, 0.9), 0.0).0,
            Verdict::Inconclusive
        );
    }

    #[test]
    fn overall_ordering() {
        use Verdict::*;
        assert_eq!(overall(&[]), Inconclusive);
        assert_eq!(
            overall(&[NoChange, Improved, Inconclusive, Regressed]),
            Regressed
        );
        assert_eq!(overall(&[NoChange, Improved, Inconclusive]), Inconclusive);
        assert_eq!(overall(&[NoChange, Improved]), Improved);
        assert_eq!(overall(&[NoChange, NoChange]), NoChange);
    }
}
