//! What each request is about: the SET:GET interleave and the key index, per connection, following
//! memtier's `--ratio` and `--key-pattern` (R random, S sequential, P parallel slices, G gaussian).

pub use crate::workload::KeyPattern;

/// A small, fast, seedable PRNG (wyrand); statistical quality is ample for picking keys.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`, decorrelated per `stream` (the connection index) through splitmix64.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self(z ^ (z >> 31))
    }

    /// The next 64 random bits.
    // Keeping the low and high halves of the 128-bit product is the algorithm.
    #[allow(clippy::cast_possible_truncation)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xA076_1D64_78BD_642F);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift (bias below 2^-64 · n).
    // The high half of a u64 × u64 product fits in u64.
    #[allow(clippy::cast_possible_truncation)]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Resampling attempts for the gaussian before clamping (out of range has p ≈ 0.27 % per draw).
const GAUSSIAN_TRIES: usize = 16;

/// The key index sequence of one command on one connection.
#[derive(Clone, Debug)]
pub struct KeyGen {
    pattern: KeyPattern,
    /// Lowest index, inclusive.
    lo: u64,
    /// Highest index, inclusive.
    hi: u64,
    /// Next index for S and P.
    next: u64,
}

impl KeyGen {
    /// Keys for connection `conn` of `conns` over `[key_min, key_max]`. For P the connection's
    /// slice is `[min + ⌊i·R/n⌋, min + ⌊(i+1)·R/n⌋)` with R the range size, so the slices tile the
    /// range exactly; `validate` guarantees R ≥ n so no slice is empty.
    pub fn new(pattern: KeyPattern, key_min: u64, key_max: u64, conn: u64, conns: u64) -> Self {
        let (lo, hi) = if pattern == KeyPattern::Parallel && conns > 0 {
            let range = u128::from(key_max - key_min) + 1;
            let at = |i: u64| -> u64 {
                let off = range * u128::from(i) / u128::from(conns);
                key_min.saturating_add(u64::try_from(off).unwrap_or(u64::MAX))
            };
            let lo = at(conn);
            let end = at(conn + 1);
            (lo, end.saturating_sub(1).max(lo))
        } else {
            (key_min, key_max)
        };
        Self {
            pattern,
            lo,
            hi,
            next: lo,
        }
    }

    /// The inclusive index range this generator draws from.
    pub fn range(&self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// The next key index.
    pub fn next_index(&mut self, rng: &mut Rng) -> u64 {
        match self.pattern {
            KeyPattern::Sequential | KeyPattern::Parallel => {
                let k = self.next;
                self.next = if k >= self.hi { self.lo } else { k + 1 };
                k
            }
            KeyPattern::Random => match (self.hi - self.lo).checked_add(1) {
                Some(n) => self.lo + rng.below(n),
                None => rng.next_u64(), // the whole u64 range
            },
            KeyPattern::Gaussian => self.gaussian(rng),
        }
    }

    // Key indices are far below 2^53, so the f64 round trip is exact enough; the clamp keeps the
    // result in range, so the casts cannot wrap.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn gaussian(&mut self, rng: &mut Rng) -> u64 {
        let lo = self.lo as f64;
        let hi = self.hi as f64;
        let median = (lo + hi) / 2.0;
        let stddev = (hi - lo + 1.0) / 6.0;
        let mut x = median;
        for _ in 0..GAUSSIAN_TRIES {
            x = (median + rng.normal() * stddev).round();
            if (lo..=hi).contains(&x) {
                break;
            }
        }
        (x.clamp(lo, hi) as u64).clamp(self.lo, self.hi)
    }
}

/// Which command a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `SET key value`.
    Set,
    /// `GET key`.
    Get,
}

/// The deterministic SET:GET interleave of memtier's `--ratio`: with 1:10 every cycle is one SET
/// followed by ten GETs.
#[derive(Clone, Debug)]
pub struct Mix {
    sets: u32,
    cycle: u32,
    pos: u32,
}

impl Mix {
    /// The interleave for `sets:gets` (not both zero, checked by `validate`).
    pub fn new(sets: u32, gets: u32) -> Self {
        Self {
            sets,
            cycle: sets.saturating_add(gets).max(1),
            pos: 0,
        }
    }

    /// The next request's command.
    pub fn next_op(&mut self) -> Op {
        let op = if self.pos < self.sets {
            Op::Set
        } else {
            Op::Get
        };
        self.pos += 1;
        if self.pos >= self.cycle {
            self.pos = 0;
        }
        op
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_slices_cover_the_range_exactly_once() {
        for (min, max, conns) in [(1u64, 1000u64, 4u64), (0, 9, 3), (5, 104, 7), (0, 0, 1)] {
            let mut seen = Vec::new();
            let mut rng = Rng::new(1, 0);
            for c in 0..conns {
                let mut g = KeyGen::new(KeyPattern::Parallel, min, max, c, conns);
                let (lo, hi) = g.range();
                for _ in lo..=hi {
                    seen.push(g.next_index(&mut rng));
                }
            }
            seen.sort_unstable();
            let want: Vec<u64> = (min..=max).collect();
            assert_eq!(seen, want, "range {min}..={max} over {conns}");
        }
    }

    #[test]
    fn parallel_wraps_inside_its_slice() {
        let mut rng = Rng::new(1, 0);
        let mut g = KeyGen::new(KeyPattern::Parallel, 0, 9, 1, 2);
        let got: Vec<u64> = (0..7).map(|_| g.next_index(&mut rng)).collect();
        assert_eq!(got, [5, 6, 7, 8, 9, 5, 6]);
    }

    #[test]
    fn sequential_wraps() {
        let mut rng = Rng::new(1, 0);
        let mut g = KeyGen::new(KeyPattern::Sequential, 3, 5, 0, 4);
        let got: Vec<u64> = (0..7).map(|_| g.next_index(&mut rng)).collect();
        assert_eq!(got, [3, 4, 5, 3, 4, 5, 3]);
    }

    #[test]
    fn random_and_gaussian_stay_in_range() {
        let mut rng = Rng::new(7, 3);
        let mut r = KeyGen::new(KeyPattern::Random, 10, 20, 0, 1);
        let mut g = KeyGen::new(KeyPattern::Gaussian, 10, 20, 0, 1);
        let mut hit_ends = (false, false);
        let mut sum = 0.0;
        for _ in 0..20_000 {
            let k = r.next_index(&mut rng);
            assert!((10..=20).contains(&k));
            hit_ends.0 |= k == 10;
            hit_ends.1 |= k == 20;
            let k = g.next_index(&mut rng);
            assert!((10..=20).contains(&k));
            sum += k as f64;
        }
        assert!(hit_ends.0 && hit_ends.1, "uniform reaches both ends");
        let mean = sum / 20_000.0;
        assert!((mean - 15.0).abs() < 0.2, "gaussian centred, mean {mean}");
        let mut full = KeyGen::new(KeyPattern::Random, 0, u64::MAX, 0, 1);
        let _ = full.next_index(&mut rng);
    }

    #[test]
    fn ratio_interleaves_like_memtier() {
        let mut m = Mix::new(1, 10);
        let ops: Vec<Op> = (0..22).map(|_| m.next_op()).collect();
        for (i, op) in ops.iter().enumerate() {
            let want = if i % 11 == 0 { Op::Set } else { Op::Get };
            assert_eq!(*op, want, "request {i}");
        }
        let mut m = Mix::new(2, 1);
        let ops: Vec<Op> = (0..6).map(|_| m.next_op()).collect();
        assert_eq!(ops, [Op::Set, Op::Set, Op::Get, Op::Set, Op::Set, Op::Get]);
        let mut only_sets = Mix::new(1, 0);
        assert!((0..5).all(|_| only_sets.next_op() == Op::Set));
        let mut only_gets = Mix::new(0, 1);
        assert!((0..5).all(|_| only_gets.next_op() == Op::Get));
    }

    #[test]
    fn same_seed_same_keys() {
        let run = |seed| {
            let mut rng = Rng::new(seed, 2);
            let mut g = KeyGen::new(KeyPattern::Random, 0, 1_000_000, 0, 1);
            (0..10).map(|_| g.next_index(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }
}
