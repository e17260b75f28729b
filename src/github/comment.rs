//! The sticky PR comment: one per pull request and profile, found by its hidden marker *and* its
//! author (so a user's comment quoting the marker is never taken for ours), updated in place,
//! created only when there is none.
//!
//! The author is the token's own user when `GET /user` answers (a personal token). The workflow
//! token and GitHub App installation tokens are refused there, and their comments are made by
//! `github-actions[bot]` or `<app>[bot]` respectively, so then any bot's comment with the marker
//! is ours: users cannot post as a bot, so a user quoting the marker is still left alone.

use std::time::Duration;

use octocrab::{Octocrab, Page};
use serde::Deserialize;

use super::client::{policy, retry_hint, with_retry, GithubError};
use crate::retry::retry_hinted;

/// The author of comments made with a workflow's `GITHUB_TOKEN`.
pub const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// Whose comments (and issues) are ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Author {
    /// The token's own user, read from `GET /user`.
    Login(String),
    /// The token cannot read its user (the workflow token, an App installation token): any bot.
    AnyBot,
}

impl Author {
    /// Whether `user` is this author. Pure.
    pub fn is(&self, user: Option<&Login>) -> bool {
        let Some(u) = user else { return false };
        match self {
            Self::Login(l) => u.login == *l,
            Self::AnyBot => u.is_bot(),
        }
    }

    /// The login to filter a listing by, when known.
    pub fn login(&self) -> Option<&str> {
        match self {
            Self::Login(l) => Some(l),
            Self::AnyBot => None,
        }
    }
}

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
    /// `User`, `Bot` or `Organization`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl Login {
    /// A bot account: `type` is `Bot` (every App's and the workflow token's comments), or, where
    /// a payload leaves `type` out, a login ending in `[bot]` (which users cannot register).
    pub fn is_bot(&self) -> bool {
        match self.kind.as_deref() {
            Some(k) => k == "Bot",
            None => self.login.ends_with("[bot]"),
        }
    }
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

/// Who our comments are made by: the token's user (`GET /user`: personal tokens), else any bot
/// (the workflow token and App installation tokens get 403 there; their comments are by
/// `github-actions[bot]` or `<app>[bot]`).
pub async fn author(octo: &Octocrab, base: Duration) -> Author {
    let r = with_retry("reading the token's user", base, || {
        octo.get::<Login, _, ()>("/user", None)
    })
    .await;
    match r {
        Ok(u) if !u.login.is_empty() => Author::Login(u.login),
        Ok(_) => Author::AnyBot,
        Err(e) => {
            tracing::debug!("{e}; taking bots' comments with our marker as ours");
            Author::AnyBot
        }
    }
}

/// Our earlier comment on `pr` with `marker`, if any.
pub async fn find(
    octo: &Octocrab,
    pr: PullRequest<'_>,
    marker: &str,
    author: &Author,
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
            author.is(c.user.as_ref()) && c.body.as_deref().is_some_and(|b| b.contains(marker))
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
    author: &Author,
    create: bool,
    base: Duration,
) -> Result<Upserted, GithubError> {
    let what = format!("upserting the comment on PR #{}", pr.number);
    // Only a failed create is tried again, and only by listing again first; every other call has
    // its own retries (`with_retry`).
    let hint = |a: &Attempt| match a {
        Attempt::Create(e) => retry_hint(e),
        Attempt::Final(_) => None,
    };
    retry_hinted(&what, &policy(base), hint, || async {
        match find(octo, pr, marker, author, base)
            .await
            .map_err(Attempt::Final)?
        {
            Some(c) if c.body.as_deref() == Some(body) => Ok(Upserted::Unchanged(c.id)),
            Some(c) => {
                let route = format!("/repos/{}/{}/issues/comments/{}", pr.owner, pr.repo, c.id);
                let what = format!("updating comment {} on PR #{}", c.id, pr.number);
                let json = BodyJson { body };
                with_retry(&what, base, || {
                    octo.patch::<IssueComment, _, _>(&route, Some(&json))
                })
                .await
                .map_err(Attempt::Final)?;
                Ok(Upserted::Updated(c.id))
            }
            None if !create => Ok(Upserted::Skipped),
            None => {
                let route = format!(
                    "/repos/{}/{}/issues/{}/comments",
                    pr.owner, pr.repo, pr.number
                );
                let what = format!("creating a comment on PR #{}", pr.number);
                octo.post::<_, IssueComment>(&route, Some(&BodyJson { body }))
                    .await
                    .map(|c| Upserted::Created(c.id))
                    .map_err(|e| Attempt::Create(GithubError::from_octocrab(&what, &e)))
            }
        }
    })
    .await
    .map_err(|a| match a {
        Attempt::Create(e) | Attempt::Final(e) => e,
    })
}

/// How one round of [`upsert`] failed: its create call (worth another round), or anything else.
#[derive(Debug)]
enum Attempt {
    Create(GithubError),
    Final(GithubError),
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Create(e) | Self::Final(e) => e.fmt(f),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(login: &str, kind: Option<&str>) -> Login {
        Login {
            login: login.into(),
            kind: kind.map(Into::into),
        }
    }

    #[test]
    fn without_its_own_login_the_token_owns_only_bots_comments() {
        let app = user("perf-app[bot]", Some("Bot"));
        let actions = user(ACTIONS_BOT_LOGIN, Some("Bot"));
        let mallory = user("mallory", Some("User"));
        assert!(Author::AnyBot.is(Some(&app)) && Author::AnyBot.is(Some(&actions)));
        assert!(!Author::AnyBot.is(Some(&mallory)) && !Author::AnyBot.is(None));
        assert!(Author::AnyBot.is(Some(&user("x[bot]", None))));
        assert!(!Author::AnyBot.is(Some(&user("mallory", None))));
        let me = Author::Login("me".into());
        assert!(me.is(Some(&user("me", Some("User")))) && !me.is(Some(&app)));
    }
}
