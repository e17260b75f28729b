//! Descriptive statistics of small samples (mean, variance, median) and the batch-means estimate
//! of the standard error of an autocorrelated series' mean. Pure.

/// The arithmetic mean; `None` for an empty sample.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The unbiased sample variance (divisor n − 1); `None` below two values.
pub fn variance(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    Some(xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64)
}

/// The median (mean of the two middle values for an even count); `None` for an empty sample.
/// NaN values must be filtered out by the caller.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// The standard error of a series' mean, from non-overlapping batch means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchMeans {
    /// Mean of the batch means (the series' mean over the batched part).
    pub mean: f64,
    /// Standard error of that mean: sd(batch means) / √batches.
    pub std_error: f64,
    /// Batches used; the degrees of freedom are `batches − 1`.
    pub batches: usize,
    /// Seconds per batch.
    pub batch_len: usize,
}

/// Batch means with batch length ⌊√n⌋ (at least 1): the batch length grows with the run, so the
/// batches become nearly independent for any short-memory series, and the number of batches grows
/// too, so the estimate stays consistent (Flegal & Jones 2010, "Batch means and spectral variance
/// estimators in Markov chain Monte Carlo", Ann. Statist. 38(2); b = n^½ is their default). Left-over
/// seconds at the start are dropped (the end of the window is the better-settled part).
/// `None` when fewer than two batches can be formed.
pub fn batch_means(xs: &[f64]) -> Option<BatchMeans> {
    let n = xs.len();
    // ⌊√n⌋ computed in integers, so that no float rounding can change it.
    let mut b = 1usize;
    while (b + 1) * (b + 1) <= n {
        b += 1;
    }
    let batches = n / b;
    if batches < 2 {
        return None;
    }
    let skip = n - batches * b;
    let means: Vec<f64> = xs[skip..]
        .chunks_exact(b)
        .map(|c| c.iter().sum::<f64>() / b as f64)
        .collect();
    let m = mean(&means)?;
    let var = variance(&means)?;
    Some(BatchMeans {
        mean: m,
        std_error: (var / batches as f64).sqrt(),
        batches,
        batch_len: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_variance_median_by_hand() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), Some(5.0));
        // Σ(x−5)² = 9+1+1+1+0+0+4+16 = 32; /7.
        assert!((variance(&xs).unwrap() - 32.0 / 7.0).abs() < 1e-12);
        assert_eq!(median(&xs), Some(4.5));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(mean(&[]), None);
        assert_eq!(variance(&[1.0]), None);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn batch_means_by_hand() {
        // n = 10 → b = 3, 3 batches, first value dropped.
        // batches: [2,3,4] → 3, [5,6,7] → 6, [8,9,10] → 9; mean 6; var = (9+0+9)/2 = 9; se = √(9/3) = √3.
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let bm = batch_means(&xs).unwrap();
        assert_eq!(bm.batch_len, 3);
        assert_eq!(bm.batches, 3);
        assert!((bm.mean - 6.0).abs() < 1e-12);
        assert!((bm.std_error - 3.0_f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn batch_means_needs_two_batches() {
        assert_eq!(batch_means(&[]), None);
        assert_eq!(batch_means(&[1.0]), None);
        // n = 3 → b = 1: three single-second batches.
        assert_eq!(batch_means(&[1.0, 2.0, 3.0]).unwrap().batches, 3);
        // A constant series has zero standard error.
        assert_eq!(batch_means(&[5.0; 16]).unwrap().std_error, 0.0);
    }
}
