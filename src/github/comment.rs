//! The sticky PR comment: one per pull request and profile, found by its hidden marker *and* its
//! author (so a user's comment quoting the marker is never taken for ours), updated in place,
//! created only when there is none.

use std::time::Duration;

use octocrab::{Octocrab, Page};
use serde::Deserialize;

use super::client::{with_retry, GithubError, MAX_ATTEMPTS};

/// The author of comments made with a workflow's `GITHUB_TOKEN`.
pub const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// More pages than this (100 comments each) are not searched.
const MAX_PAGES: usize = 50;

/// The fields of an issue comment we read (octocrab's model needs many more).
#[derive(Clone, Debug, Deserialize)]
pub struct IssueComment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    #[serde(default)]
    pub body: Option<String>,
    /// Author (null for a deleted user).
    #[serde(default)]
    pub user: Option<Login>,
}

/// A user's login.
#[derive(Clone, Debug, Deserialize)]
pub struct Login {
    /// The login, e.g. `github-actions[bot]`.
    pub login: String,
}

/// Which pull request.
#[derive(Clone, Copy, Debug)]
pub struct PullRequest<'a> {
    /// Repository owner.
    pub owner: &'a str,
    /// Repository name.
    pub repo: &'a str,
    /// PR number.
    pub number: u64,
}

/// What [`upsert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// A new comment, with its id.
    Created(u64),
    /// Our earlier comment was updated.
    Updated(u64),
    /// Our earlier comment already says this.
    Unchanged(u64),
    /// There was no comment and none was to be created.
    Skipped,
}

/// The login our comments are made under: the token's user (`GET /user`: personal tokens), else
/// `github-actions[bot]` (the workflow token cannot read `/user`).
pub async fn author_login(octo: &Octocrab, base: Duration) -> String {
    let r = with_retry("reading the token's user", base, || {
        octo.get::<Login, _, ()>("/user", None)
    })
    .await;
    match r {
        Ok(u) if !u.login.is_empty() => u.login,
        Ok(_) => ACTIONS_BOT_LOGIN.to_string(),
        Err(e) => {
            tracing::debug!("{e}; taking comments by {ACTIONS_BOT_LOGIN} as ours");
            ACTIONS_BOT_LOGIN.to_string()
        }
    }
}

/// Our earlier comment on `pr` with `marker`, if any.
pub async fn find(
    octo: &Octocrab,
    pr: PullRequest<'_>,
    marker: &str,
    login: &str,
    base: Duration,
) -> Result<Option<IssueComment>, GithubError> {
    let what = format!("listing the comments of PR #{}", pr.number);
    let route = format!(
        "/repos/{}/{}/issues/{}/comments?per_page=100",
        pr.owner, pr.repo, pr.number
    );
    let mut page: Page<IssueComment> =
        with_retry(&what, base, || octo.get(&route, None::<&()>)).await?;
    for _ in 0..MAX_PAGES {
        let mine = page.items.iter().find(|c| {
            c.user.as_ref().is_some_and(|u| u.login == login)
                && c.body.as_deref().is_some_and(|b| b.contains(marker))
        });
        if let Some(c) = mine {
            return Ok(Some(c.clone()));
        }
        let Some(next) = page.next.clone() else {
            return Ok(None);
        };
        let next = Some(next);
        match with_retry(&what, base, || octo.get_page::<IssueComment>(&next)).await? {
            Some(p) => page = p,
            None => return Ok(None),
        }
    }
    tracing::warn!(
        "PR #{} has more than {} comments; ours was not found among the first of them",
        pr.number,
        MAX_PAGES * 100
    );
    Ok(None)
}

#[derive(serde::Serialize)]
struct BodyJson<'a> {
    body: &'a str,
}

/// Update our comment of `marker` on `pr` to `body`, or create it when there is none and
/// `create` is set. A create is not retried blindly: after a transient failure the comments are
/// listed again, so a comment that was made after all is updated rather than doubled.
pub async fn upsert(
    octo: &Octocrab,
    pr: PullRequest<'_>,
    body: &str,
    marker: &str,
    login: &str,
    create: bool,
    base: Duration,
) -> Result<Upserted, GithubError> {
    let mut attempt = 1;
    loop {
        match find(octo, pr, marker, login, base).await? {
            Some(c) if c.body.as_deref() == Some(body) => return Ok(Upserted::Unchanged(c.id)),
            Some(c) => {
                let route = format!("/repos/{}/{}/issues/comments/{}", pr.owner, pr.repo, c.id);
                let what = format!("updating comment {} on PR #{}", c.id, pr.number);
                let json = BodyJson { body };
                with_retry(&what, base, || {
                    octo.patch::<IssueComment, _, _>(&route, Some(&json))
                })
                .await?;
                return Ok(Upserted::Updated(c.id));
            }
            None if !create => return Ok(Upserted::Skipped),
            None => {
                let route = format!(
                    "/repos/{}/{}/issues/{}/comments",
                    pr.owner, pr.repo, pr.number
                );
                let what = format!("creating a comment on PR #{}", pr.number);
                let r = octo
                    .post::<_, IssueComment>(&route, Some(&BodyJson { body }))
                    .await
                    .map_err(|e| GithubError::from_octocrab(&what, &e));
                match r {
                    Ok(c) => return Ok(Upserted::Created(c.id)),
                    Err(e) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                        tracing::debug!(
                            "attempt {attempt} of {MAX_ATTEMPTS} failed: {e}; listing again before retrying"
                        );
                        tokio::time::sleep(base * 2u32.pow(attempt - 1)).await;
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// The head commit of a pull request (`GET /repos/{o}/{r}/pulls/{n}`), to check that a PR number
/// handed over by another workflow belongs to the commit that workflow ran on.
pub async fn pr_head_sha(
    octo: &Octocrab,
    pr: PullRequest<'_>,
    base: Duration,
) -> Result<String, GithubError> {
    #[derive(Deserialize)]
    struct Head {
        sha: String,
    }
    #[derive(Deserialize)]
    struct Pull {
        head: Head,
    }
    let route = format!("/repos/{}/{}/pulls/{}", pr.owner, pr.repo, pr.number);
    let what = format!("reading PR #{}", pr.number);
    let p: Pull = with_retry(&what, base, || octo.get(&route, None::<&()>)).await?;
    Ok(p.head.sha)
}
