//! One retry and poll mechanism for every remote step. A [`Policy`] is a backoff (a first pause that
//! doubles up to a cap) and a budget (the longest a step may keep trying); [`retry`] repeats an
//! operation while the caller's classifier calls its error worth another try, [`poll_until`]
//! repeats a probe until it reports a value. Each retry is logged at info with its reason, and a
//! spent budget is logged with the budget. A leaf: it knows nothing of AWS or GitHub.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// How a step tries again: pauses of `first`, doubling up to `max`, for at most `budget` in all
/// (and at most `attempts` calls, when that is not 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// What the retries wait out, for the log (e.g. `IAM propagation`).
    pub name: &'static str,
    /// The first pause.
    pub first: Duration,
    /// The longest pause.
    pub max: Duration,
    /// The longest the step may keep trying, pauses included.
    pub budget: Duration,
    /// The most calls, the first included; 0: as many as the budget allows.
    pub attempts: u32,
}

impl Policy {
    /// A policy bounded by its budget alone.
    pub const fn new(name: &'static str, first: Duration, max: Duration, budget: Duration) -> Self {
        Self {
            name,
            first,
            max,
            budget,
            attempts: 0,
        }
    }

    /// The same policy bounded to `attempts` calls as well.
    pub const fn with_attempts(self, attempts: u32) -> Self {
        Self { attempts, ..self }
    }

    /// The pause after the `attempt`-th failure (1-based): `first · 2^(attempt−1)`, at most `max`.
    pub fn pause(&self, attempt: u32) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        doubled.min(self.max)
    }

    /// The same policy with its pauses multiplied by `factor` (at most 1) and its budget kept: a
    /// test that polls every 100 ms instead of every 15 s waits out the same budgets with shorter
    /// pauses.
    pub fn scaled(self, factor: f64) -> Self {
        let f = factor.clamp(0.0, 1.0);
        Self {
            first: self.first.mul_f64(f).max(Duration::from_millis(10)),
            max: self.max.mul_f64(f).max(Duration::from_millis(10)),
            ..self
        }
    }

    /// The same policy with another budget.
    pub const fn with_budget(self, budget: Duration) -> Self {
        Self { budget, ..self }
    }
}

/// Run `op` until it succeeds, fails with an error `is_retryable` rejects, or the next pause would
/// overrun the policy's budget (then its last error is returned, and the spent budget is logged).
pub async fn retry<T, E, F, Fut>(
    what: &str,
    policy: &Policy,
    is_retryable: impl Fn(&E) -> bool,
    op: F,
) -> Result<T, E>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    retry_hinted(what, policy, |e| is_retryable(e).then_some(None), op).await
}

/// [`retry`] for services that say how long to wait (GitHub's `retry-after`): `hint` gives `None`
/// for an error not worth another try, `Some(None)` for the policy's own pause, and
/// `Some(Some(wait))` for the service's, which is kept to when it is longer than the policy's.
pub async fn retry_hinted<T, E, F, Fut>(
    what: &str,
    policy: &Policy,
    hint: impl Fn(&E) -> Option<Option<Duration>>,
    mut op: F,
) -> Result<T, E>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(v) => {
                if attempt > 1 {
                    tracing::info!("{what}: succeeded at attempt {attempt} ({})", policy.name);
                }
                return Ok(v);
            }
            Err(e) => {
                let Some(asked) = hint(&e) else {
                    return Err(e);
                };
                let pause = asked.map_or(policy.pause(attempt), |w| w.max(policy.pause(attempt)));
                if policy.attempts != 0 && attempt >= policy.attempts {
                    tracing::warn!(
                        "{what}: giving up after {attempt} attempt(s) ({}); last error: {e}",
                        policy.name
                    );
                    return Err(e);
                }
                if start.elapsed() + pause > policy.budget {
                    tracing::warn!(
                        "{what}: giving up after {attempt} attempt(s) in {:.1} s: the {} budget of {} s is spent; last error: {e}",
                        start.elapsed().as_secs_f64(),
                        policy.name,
                        policy.budget.as_secs()
                    );
                    return Err(e);
                }
                tracing::info!(
                    "{what}: attempt {attempt} failed ({e}); {}: trying again in {:.1} s",
                    policy.name,
                    pause.as_secs_f64()
                );
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
        }
    }
}

/// What one look at a state found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe<T> {
    /// The state that was waited for, with what the caller needs of it.
    Ready(T),
    /// Not yet: the state seen, for the log and the timeout's message.
    Pending(String),
}

/// Why [`poll_until`] ended without a value.
#[derive(Debug, thiserror::Error)]
pub enum PollError<E> {
    /// The probe itself failed (a call that failed, a state that cannot lead to the one awaited).
    #[error(transparent)]
    Failed(E),
    /// The budget ran out.
    #[error("{what}: still '{last}' after {} s (the {policy} budget)", waited.as_secs())]
    TimedOut {
        /// What was waited for.
        what: String,
        /// The policy's name.
        policy: &'static str,
        /// The last state seen.
        last: String,
        /// How long it waited.
        waited: Duration,
    },
}

/// Look at a state with `probe` until it is ready, pausing as the policy says between looks, for at
/// most the policy's budget.
pub async fn poll_until<T, E, F, Fut>(
    what: &str,
    policy: &Policy,
    mut probe: F,
) -> Result<T, PollError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Probe<T>, E>>,
{
    let start = Instant::now();
    let mut attempt = 1u32;
    loop {
        match probe().await.map_err(PollError::Failed)? {
            Probe::Ready(v) => return Ok(v),
            Probe::Pending(state) => {
                let pause = policy.pause(attempt);
                if start.elapsed() >= policy.budget {
                    tracing::warn!(
                        "{what}: still '{state}' after {:.1} s; the {} budget of {} s is spent",
                        start.elapsed().as_secs_f64(),
                        policy.name,
                        policy.budget.as_secs()
                    );
                    return Err(PollError::TimedOut {
                        what: what.to_string(),
                        policy: policy.name,
                        last: state,
                        waited: start.elapsed(),
                    });
                }
                tracing::debug!("{what}: '{state}'; looking again in {pause:?}");
                tokio::time::sleep(pause.min(policy.budget.saturating_sub(start.elapsed()))).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const QUICK: Policy = Policy::new(
        "test",
        Duration::from_millis(5),
        Duration::from_millis(20),
        Duration::from_millis(200),
    );

    #[test]
    fn pauses_double_up_to_the_cap() {
        let p = Policy::new(
            "x",
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(60),
        );
        let got: Vec<u64> = (1..=5).map(|a| p.pause(a).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 5, 5]);
        let s = p.scaled(0.1);
        assert_eq!(s.first, Duration::from_millis(100));
        assert_eq!(s.budget, Duration::from_secs(60));
        assert_eq!(p.scaled(7.0), p);
    }

    #[tokio::test]
    async fn retries_what_the_classifier_allows_until_it_succeeds() {
        let calls = AtomicU32::new(0);
        let r: Result<u32, String> = retry(
            "op",
            &QUICK,
            |e: &String| e == "busy",
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n < 3 {
                    Err("busy".to_string())
                } else {
                    Ok(n)
                }
            },
        )
        .await;
        assert_eq!(r, Ok(3));
    }

    #[tokio::test]
    async fn a_permanent_error_is_returned_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), String> = retry(
            "op",
            &QUICK,
            |e: &String| e == "busy",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("denied".to_string())
            },
        )
        .await;
        assert_eq!(r, Err("denied".to_string()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_budget_bounds_the_retries() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let r: Result<(), String> = retry(
            "op",
            &QUICK,
            |_: &String| true,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("busy".to_string())
            },
        )
        .await;
        assert!(r.is_err());
        assert!(start.elapsed() <= QUICK.budget + Duration::from_millis(100));
        // 5 + 10 + 20 + 20 + … ms within 200 ms: more than a few attempts, far fewer than 200.
        let n = calls.load(Ordering::SeqCst);
        assert!((4..=12).contains(&n), "{n}");
    }

    #[tokio::test]
    async fn a_service_s_wait_is_kept_and_attempts_are_bounded() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let p = QUICK.with_attempts(2);
        let r: Result<(), String> = retry_hinted(
            "op",
            &p,
            |_: &String| Some(Some(Duration::from_millis(60))),
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("slow down".to_string())
            },
        )
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(start.elapsed() >= Duration::from_millis(60));
        // A wait beyond the budget is not sat through.
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let r: Result<(), String> = retry_hinted(
            "op",
            &QUICK,
            |_: &String| Some(Some(Duration::from_secs(3600))),
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("come back in an hour".to_string())
            },
        )
        .await;
        assert!(r.is_err() && start.elapsed() < Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn polling_ends_ready_failed_or_timed_out() {
        let looks = AtomicU32::new(0);
        let r: Result<u32, PollError<String>> = poll_until("wait", &QUICK, || async {
            let n = looks.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(if n < 4 {
                Probe::Pending(format!("look {n}"))
            } else {
                Probe::Ready(n)
            })
        })
        .await;
        assert_eq!(r.ok(), Some(4));
        let r: Result<(), PollError<String>> = poll_until("wait", &QUICK, || async {
            Err("create-failed".to_string())
        })
        .await;
        assert!(matches!(r, Err(PollError::Failed(e)) if e == "create-failed"));
        let r: Result<(), PollError<String>> = poll_until("wait for x", &QUICK, || async {
            Ok(Probe::Pending("creating".into()))
        })
        .await;
        let e = r.unwrap_err();
        assert!(matches!(&e, PollError::TimedOut { last, .. } if last == "creating"));
        assert!(e.to_string().starts_with("wait for x: still 'creating'"));
    }
}
