//! The regression issue (opt-in, `regression_issue`): on a confirmed regression, one open issue per
//! profile, found by its exact title among the open issues we created (by our login, or by a bot
//! when the token cannot read its own user: see [`super::comment::Author`]), gets a comment with
//! the new numbers; when there is none, it is opened. Several regressed nights therefore make one
//! issue with a comment each, not one issue per night.

use std::time::Duration;

use octocrab::{Octocrab, Page};
use serde::{Deserialize, Serialize};

use super::client::{with_retry, GithubError};
use super::comment::{Author, Login};

/// More pages than this (100 issues each) are not searched.
const MAX_PAGES: usize = 10;

/// The title of the regression issue of `profile`. Pure.
pub fn title(profile: &str) -> String {
    format!("Performance regression: {profile}")
}

#[derive(Clone, Debug, Deserialize)]
struct Issue {
    number: u64,
    title: String,
    /// Present on pull requests, which the issues list also returns.
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
    /// Who opened it.
    #[serde(default)]
    user: Option<Login>,
}

#[derive(Serialize)]
struct NewIssue<'a> {
    title: &'a str,
    body: &'a str,
}

#[derive(Serialize)]
struct NewComment<'a> {
    body: &'a str,
}

#[derive(Deserialize)]
struct Created {
    number: u64,
}

/// What [`file`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filed {
    /// A new issue, with its number.
    Opened(u64),
    /// A comment on the open issue with this number.
    Commented(u64),
}

/// Our open issue titled `title` in `owner/repo`, if any.
async fn find(
    octo: &Octocrab,
    owner: &str,
    repo: &str,
    title: &str,
    author: &Author,
    base: Duration,
) -> Result<Option<u64>, GithubError> {
    let what = "listing the open issues";
    let creator = author
        .login()
        .map(|l| format!("&creator={}", url_escape(l)))
        .unwrap_or_default();
    let route = format!("/repos/{owner}/{repo}/issues?state=open{creator}&per_page=100");
    let mut page: Page<Issue> = with_retry(what, base, || octo.get(&route, None::<&()>)).await?;
    for _ in 0..MAX_PAGES {
        if let Some(i) = page
            .items
            .iter()
            .find(|i| i.pull_request.is_none() && i.title == title && author.is(i.user.as_ref()))
        {
            return Ok(Some(i.number));
        }
        let Some(next) = page.next.clone() else {
            return Ok(None);
        };
        let next = Some(next);
        match with_retry(what, base, || octo.get_page::<Issue>(&next)).await? {
            Some(p) => page = p,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// `github-actions[bot]` → `github-actions%5Bbot%5D`: the few characters a login can hold that a
/// query string cannot.
fn url_escape(s: &str) -> String {
    s.replace('[', "%5B").replace(']', "%5D")
}

/// Comment on our open issue titled `title`, or open it with `body`.
pub async fn file(
    octo: &Octocrab,
    owner: &str,
    repo: &str,
    title: &str,
    body: &str,
    author: &Author,
    base: Duration,
) -> Result<Filed, GithubError> {
    if let Some(n) = find(octo, owner, repo, title, author, base).await? {
        let route = format!("/repos/{owner}/{repo}/issues/{n}/comments");
        let json = NewComment { body };
        with_retry(&format!("commenting on issue #{n}"), base, || {
            octo.post::<_, serde_json::Value>(&route, Some(&json))
        })
        .await?;
        return Ok(Filed::Commented(n));
    }
    // Not retried blindly: a create that timed out may have been made.
    let route = format!("/repos/{owner}/{repo}/issues");
    let created: Created = octo
        .post(&route, Some(&NewIssue { title, body }))
        .await
        .map_err(|e| GithubError::from_octocrab("opening the regression issue", &e))?;
    Ok(Filed::Opened(created.number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_logins() {
        assert_eq!(
            title("redis-7-1x2x25"),
            "Performance regression: redis-7-1x2x25"
        );
        assert_eq!(url_escape("github-actions[bot]"), "github-actions%5Bbot%5D");
    }
}
