//! The GitHub REST client: octocrab on `GITHUB_API_URL` (GHES keeps its `/api/v3` path), the token
//! sent as a bearer and never printed, errors sorted into [`GithubError`] (with the HTTP status
//! and GitHub's message, which callers branch on), and bounded retries of transient failures —
//! rate limits included, which GitHub may answer with a 403 that only its headers tell apart from
//! a refusal (docs: "Rate limits for the REST API", "Exceeding the rate limit").

use std::future::Future;
use std::time::Duration;

use octocrab::Octocrab;

use crate::config::Secret;
use crate::retry::{retry_hinted, Policy};

/// Attempts of one call, the first included (house rule: at most three).
pub const MAX_ATTEMPTS: u32 = 3;

/// Longest wait for a rate limit to lift that a call sits through; a longer one fails the call
/// (the report is in the job summary either way).
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A failed GitHub call.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// 429, or a 403 with a rate-limit signal (`retry-after`, `x-ratelimit-remaining: 0`):
    /// transient, retried after the wait GitHub asks for.
    #[error("HTTP {status} from {what}: rate limited: {message}")]
    RateLimited {
        /// What was being done.
        what: String,
        /// 403 or 429.
        status: u16,
        /// GitHub's message.
        message: String,
        /// How long GitHub asked us to wait (`retry-after`, or until `x-ratelimit-reset`).
        retry_after: Option<Duration>,
    },
    /// 403: the token may not do this (a fork PR's read-only token, missing `pull-requests: write`).
    #[error("HTTP 403 from {what}: {message}")]
    Forbidden {
        /// What was being done.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// Any other HTTP error.
    #[error("HTTP {status} from {what}: {message}")]
    Status {
        /// What was being done.
        what: String,
        /// The status code.
        status: u16,
        /// GitHub's message (the body when it had none).
        message: String,
    },
    /// No answer: connection, TLS, timeout, or an answer that was not the JSON expected.
    #[error("{what}: {message}")]
    Transport {
        /// What was being done.
        what: String,
        /// The cause.
        message: String,
    },
}

impl GithubError {
    /// Sort an octocrab error. `what` names the call, e.g. `listing comments of PR #5`.
    pub fn from_octocrab(what: &str, e: &octocrab::Error) -> Self {
        match e {
            octocrab::Error::GitHub { source, .. } => {
                let status = source.status_code.as_u16();
                let message = source.message.trim().to_string();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let headers = source.headers.as_ref();
                let header = |name: &str| headers?.get(name).and_then(|v| v.to_str().ok());
                if let Some(retry_after) = rate_limit_signal(status, header, now) {
                    Self::RateLimited {
                        what: what.to_string(),
                        status,
                        message,
                        retry_after,
                    }
                } else if status == 403 {
                    Self::Forbidden {
                        what: what.to_string(),
                        message,
                    }
                } else {
                    Self::Status {
                        what: what.to_string(),
                        status,
                        message,
                    }
                }
            }
            other => Self::Transport {
                what: what.to_string(),
                // The display of transport errors names the cause; the first line is enough (some
                // variants append a backtrace).
                message: other.to_string().lines().next().unwrap_or("").to_string(),
            },
        }
    }

    /// Worth another try: server errors, rate limiting (429, or a 403 that says so) and no
    /// answer at all.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Forbidden { .. } => false,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Transport { .. } => true,
        }
    }

    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::RateLimited { status, .. } => Some(*status),
            Self::Forbidden { .. } => Some(403),
            Self::Status { status, .. } => Some(*status),
            Self::Transport { .. } => None,
        }
    }
}

/// Whether an error answer is a rate limit, and how long GitHub asks to wait: `Some(wait)` for a
/// 429 or a 403 carrying `retry-after` or `x-ratelimit-remaining: 0` (the wait from `retry-after`
/// in seconds, else from `x-ratelimit-reset`, a Unix time, against `now_unix`), `None` for
/// anything else — a 403 without those headers is a refusal. Pure.
pub fn rate_limit_signal<'h>(
    status: u16,
    header: impl Fn(&str) -> Option<&'h str>,
    now_unix: u64,
) -> Option<Option<Duration>> {
    let header = |name: &str| header(name).map(str::trim);
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    if !(status == 429 || (status == 403 && (retry_after.is_some() || exhausted))) {
        return None;
    }
    let wait = retry_after.map(Duration::from_secs).or_else(|| {
        header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|reset| Duration::from_secs(reset.saturating_sub(now_unix)))
    });
    Some(wait)
}

/// Whether a failed call is tried again, and after GitHub's own wait when it named one (a rate
/// limit's `retry-after` or reset time): the hint of [`crate::retry::retry_hinted`].
pub fn retry_hint(err: &GithubError) -> Option<Option<Duration>> {
    match err {
        GithubError::RateLimited { retry_after, .. } => Some(*retry_after),
        e if e.is_transient() => Some(None),
        _ => None,
    }
}

/// The retry policy of GitHub calls: at most [`MAX_ATTEMPTS`] calls, pausing `base` then twice
/// that, or as long as GitHub asks up to [`MAX_RATE_LIMIT_WAIT`] (a longer wait is not sat
/// through: the budget would be spent).
pub fn policy(base: Duration) -> Policy {
    Policy::new("GitHub", base, base * 2, MAX_RATE_LIMIT_WAIT + base * 4)
        .with_attempts(MAX_ATTEMPTS)
}

/// A client for `api_url` (e.g. `https://api.github.com`, `https://HOST/api/v3`) with `token`.
pub fn client(api_url: &str, token: &Secret) -> anyhow::Result<Octocrab> {
    let b = Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| anyhow::anyhow!("GITHUB_API_URL '{api_url}' is not a URL: {e}"))?
        .personal_token(token.expose().to_string())
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)));
    b.build()
        .map_err(|e| anyhow::anyhow!("building the GitHub client for '{api_url}': {e}"))
}

/// Run `call` while it fails transiently, as [`policy`] says (GitHub's own wait for a rate limit).
pub async fn with_retry<T, F, Fut>(
    what: &str,
    base: Duration,
    mut call: F,
) -> Result<T, GithubError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, octocrab::Error>>,
{
    retry_hinted(what, &policy(base), retry_hint, || {
        let fut = call();
        async move { fut.await.map_err(|e| GithubError::from_octocrab(what, &e)) }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_server_errors_rate_limits_and_no_answer() {
        let s = |status| GithubError::Status {
            what: "x".into(),
            status,
            message: String::new(),
        };
        assert!(s(500).is_transient() && s(502).is_transient() && s(429).is_transient());
        assert!(!s(404).is_transient() && !s(422).is_transient());
        let f = GithubError::Forbidden {
            what: "x".into(),
            message: String::new(),
        };
        assert!(!f.is_transient());
        assert_eq!(f.status(), Some(403));
    }

    fn headers(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<&'static str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn a_403_is_a_rate_limit_only_when_its_headers_say_so() {
        let now = 1_000_000;
        // The primary limit: nothing left until the reset time.
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000030"),
        ]);
        assert_eq!(
            rate_limit_signal(403, &primary, now),
            Some(Some(Duration::from_secs(30)))
        );
        // A secondary limit: retry-after wins.
        let secondary = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "12")]);
        assert_eq!(
            rate_limit_signal(403, &secondary, now),
            Some(Some(Duration::from_secs(7)))
        );
        assert_eq!(rate_limit_signal(429, headers(&[]), now), Some(None));
        // A refusal (a read-only token) carries the ordinary rate-limit headers, with some left.
        let refusal = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(rate_limit_signal(403, &refusal, now), None);
        assert_eq!(rate_limit_signal(404, &secondary, now), None);
    }

    #[test]
    fn the_wait_is_githubs_for_a_rate_limit_and_too_long_a_wait_gives_up() {
        let base = Duration::from_millis(100);
        let limited = |s| GithubError::RateLimited {
            what: "x".into(),
            status: 403,
            message: String::new(),
            retry_after: Some(Duration::from_secs(s)),
        };
        assert!(limited(1).is_transient());
        assert_eq!(retry_hint(&limited(2)), Some(Some(Duration::from_secs(2))));
        // An hour is beyond the budget: not sat through.
        let p = policy(base);
        assert!(Duration::from_secs(3600) > p.budget && MAX_RATE_LIMIT_WAIT < p.budget);
        assert_eq!(p.attempts, MAX_ATTEMPTS);
        let other = GithubError::Transport {
            what: "x".into(),
            message: String::new(),
        };
        assert_eq!(retry_hint(&other), Some(None));
        assert_eq!(p.pause(2), Duration::from_millis(200));
        let refused = GithubError::Forbidden {
            what: "x".into(),
            message: String::new(),
        };
        assert_eq!(retry_hint(&refused), None);
    }
}
