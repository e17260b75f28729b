//! The steady-state window: the wall-clock span in which every load generator was running, with
//! warm-up and ramp-down trimmed. Pure.

use serde::{Deserialize, Serialize};

use crate::client::ClientResult;

/// How to trim the overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// Seconds dropped at the start; `None` picks 10 % of the overlap, at least 1 s, at most 60 s.
    pub warmup_secs: Option<u32>,
    /// Seconds dropped at the end.
    pub rampdown_secs: u32,
}

impl Default for WindowSpec {
    fn default() -> Self {
        Self {
            warmup_secs: None,
            rampdown_secs: 1,
        }
    }
}

/// Default warm-up share of the overlap.
const DEFAULT_WARMUP_SHARE: f64 = 0.10;
/// Bounds of the default warm-up, seconds.
const DEFAULT_WARMUP_MIN_SECS: u32 = 1;
const DEFAULT_WARMUP_MAX_SECS: u32 = 60;
/// Below this overlap nothing is trimmed (there would be nothing left).
const MIN_OVERLAP_TO_TRIM_SECS: u64 = 4;

/// The chosen window, in Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start, Unix ms.
    pub start_ms: u64,
    /// End, Unix ms.
    pub end_ms: u64,
    /// Seconds of warm-up dropped after the last generator started.
    pub warmup_secs: u32,
    /// Seconds of ramp-down dropped before the first generator stopped.
    pub rampdown_secs: u32,
    /// Load generators that ran through the whole window.
    pub tasks: usize,
    /// How the window was chosen, in words.
    pub method: String,
}

impl Window {
    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        (self.end_ms - self.start_ms) as f64 / 1000.0
    }
}

/// The span of a client's complete seconds: `[start, start + whole seconds)`. memtier's last
/// `Time-Serie` second is a partial tail and is excluded.
pub fn complete_span_ms(c: &ClientResult) -> Option<(u64, u64)> {
    let start = c.start_ms?;
    let dur = c.duration_ms?;
    let whole = dur / 1000 * 1000;
    (whole > 0).then_some((start, start + whole))
}

fn generators(n: usize) -> String {
    if n == 1 {
        "the load generator".to_string()
    } else {
        format!("all {n} load generators")
    }
}

/// Choose the window, or say why there is none.
pub fn choose(clients: &[&ClientResult], spec: WindowSpec) -> Result<Window, String> {
    if clients.is_empty() {
        return Err("no load generator produced usable results".into());
    }
    let mut spans = Vec::with_capacity(clients.len());
    for c in clients {
        match complete_span_ms(c) {
            Some(s) if !c.totals.series.is_empty() => spans.push(s),
            _ => {
                return Err(format!(
                "load generator '{}' has no timed per-second series (start time or JSON missing)",
                c.id
            ))
            }
        }
    }
    let start = spans.iter().map(|s| s.0).max().unwrap_or(0);
    let end = spans.iter().map(|s| s.1).min().unwrap_or(0);
    if end < start + 1000 {
        return Err("the load generators never all ran together for a whole second".into());
    }
    let overlap_secs = (end - start) / 1000;
    let (warmup, rampdown, method) = if overlap_secs < MIN_OVERLAP_TO_TRIM_SECS {
        (
            0,
            0,
            format!(
                "{} running; too short ({overlap_secs} s) to trim warm-up or ramp-down",
                generators(clients.len())
            ),
        )
    } else {
        let warmup = spec.warmup_secs.unwrap_or_else(|| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let w = (overlap_secs as f64 * DEFAULT_WARMUP_SHARE).round() as u32;
            w.clamp(DEFAULT_WARMUP_MIN_SECS, DEFAULT_WARMUP_MAX_SECS)
        });
        let rampdown = spec.rampdown_secs;
        if u64::from(warmup) + u64::from(rampdown) + 1 > overlap_secs {
            (0, 0, format!(
                "{} running; warm-up {warmup} s + ramp-down {rampdown} s would leave nothing of {overlap_secs} s, so nothing was trimmed",
                generators(clients.len())
            ))
        } else {
            let how = if spec.warmup_secs.is_some() {
                "as asked"
            } else {
                "10 % of the overlap, 1–60 s"
            };
            (
                warmup,
                rampdown,
                format!(
                    "{} running, wall-clock aligned; first {warmup} s dropped as warm-up ({how}), last {rampdown} s as ramp-down",
                    generators(clients.len())
                ),
            )
        }
    };
    Ok(Window {
        start_ms: start + u64::from(warmup) * 1000,
        end_ms: end - u64::from(rampdown) * 1000,
        warmup_secs: warmup,
        rampdown_secs: rampdown,
        tasks: clients.len(),
        method,
    })
}

/// The range of a client's second offsets `k` whose whole second lies inside the window.
pub fn offsets_inside(start_ms: u64, w: &Window) -> std::ops::Range<u32> {
    // k must satisfy start + 1000k >= w.start and start + 1000(k+1) <= w.end.
    let first = w.start_ms.saturating_sub(start_ms).div_ceil(1000);
    let last_excl = w.end_ms.saturating_sub(start_ms) / 1000;
    let first = u32::try_from(first).unwrap_or(u32::MAX);
    let last_excl = u32::try_from(last_excl).unwrap_or(u32::MAX);
    first..last_excl.max(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSource, Second};

    fn client(start: u64, dur: u64) -> ClientResult {
        let mut c = ClientResult::new("t", ClientSource::Builtin);
        c.start_ms = Some(start);
        c.duration_ms = Some(dur);
        c.totals.series = vec![Second::default()];
        c
    }

    #[test]
    fn window_is_the_overlap_minus_trims() {
        let a = client(10_000, 20_500);
        let b = client(10_400, 20_100);
        let w = choose(&[&a, &b], WindowSpec::default()).unwrap();
        // overlap = [10_400, min(30_000, 30_400)] = 19.6 s -> 19 whole s; warm-up 2 s (10 %), ramp-down 1 s
        assert_eq!(w.start_ms, 12_400);
        assert_eq!(w.end_ms, 29_000);
        assert_eq!(w.warmup_secs, 2);
        assert_eq!(offsets_inside(10_000, &w), 3..19);
        assert_eq!(offsets_inside(10_400, &w), 2..18);
    }

    #[test]
    fn short_runs_are_not_trimmed_and_disjoint_runs_have_no_window() {
        let a = client(0, 3_000);
        let w = choose(&[&a], WindowSpec::default()).unwrap();
        assert_eq!((w.start_ms, w.end_ms), (0, 3_000));
        let b = client(5_000, 3_000);
        assert!(choose(&[&a, &b], WindowSpec::default()).is_err());
    }
}
