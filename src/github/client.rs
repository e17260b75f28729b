//! The GitHub REST client: octocrab on `GITHUB_API_URL` (GHES keeps its `/api/v3` path), the token
//! sent as a bearer and never printed, errors sorted into [`GithubError`] (with the HTTP status
//! and GitHub's message, which callers branch on), and bounded retries of transient failures.

use std::future::Future;
use std::time::Duration;

use octocrab::Octocrab;

use crate::config::Secret;

/// Attempts of one call, the first included (house rule: at most three).
pub const MAX_ATTEMPTS: u32 = 3;

/// A failed GitHub call.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
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
                if status == 403 {
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

    /// Worth another try: server errors, rate limiting (429) and no answer at all.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Forbidden { .. } => false,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Transport { .. } => true,
        }
    }

    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Forbidden { .. } => Some(403),
            Self::Status { status, .. } => Some(*status),
            Self::Transport { .. } => None,
        }
    }
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

/// Run `call` up to [`MAX_ATTEMPTS`] times while it fails transiently, waiting `base`, then twice
/// that, between attempts.
pub async fn with_retry<T, F, Fut>(
    what: &str,
    base: Duration,
    mut call: F,
) -> Result<T, GithubError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, octocrab::Error>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let err = GithubError::from_octocrab(what, &e);
                if attempt >= MAX_ATTEMPTS || !err.is_transient() {
                    return Err(err);
                }
                tracing::debug!("attempt {attempt} of {MAX_ATTEMPTS} failed: {err}; retrying");
                tokio::time::sleep(base * 2u32.pow(attempt - 1)).await;
                attempt += 1;
            }
        }
    }
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
}
