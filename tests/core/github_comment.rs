//! The PR comment against a fake GitHub REST API on loopback (wiremock): two runs on one PR make
//! one comment and then update it, another profile gets its own, a user's comment that quotes the
//! marker is left alone, a 403 is a warning with exit 0, GHES's `/api/v3` prefix works, the
//! `publish` command checks a PR number handed over by another workflow, and the token never
//! appears anywhere but in the Authorization header.

#![allow(clippy::unwrap_used)]

use crate::action_harness;
use crate::github_fake;

use std::process::Output;
use std::time::Duration;

use action_harness::*;
use elasticache_perf::config::Secret;
use elasticache_perf::github::comment::{self, Author, PullRequest, Upserted};
use github_fake::{FakeGithub, BOT};
use serde_json::json;

fn pr_event(n: u64) -> serde_json::Value {
    json!({"pull_request": {"number": n, "head": {"sha": "0123abc"}}})
}

fn check_no_token(step: &Step, o: &Output) {
    let (stdout, stderr) = text(o);
    assert_no_token("stdout", &stdout);
    assert_no_token("stderr", &stderr);
    for (p, t) in step.all_written_text() {
        assert!(!t.contains(TOKEN), "the token leaked into {}", p.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_comment_per_pr_and_profile_updated_in_place() {
    let gh = FakeGithub::start("").await;
    let api = gh.api_url("");
    // A user quoting our marker must not have their comment taken over.
    let quoted = gh.seed(
        5,
        "mallory",
        "<!-- elasticache-perf:comment profile=anything -->",
    );

    let step = Step::new("pull_request", &pr_event(5));
    let o = run(step.main(&Step::local_inputs("ecp-gh-1", &[]), &api)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    check_no_token(&step, &o);
    let mine: Vec<_> = gh
        .comments(5)
        .into_iter()
        .filter(|c| c.login == BOT)
        .collect();
    assert_eq!(mine.len(), 1, "one comment created");
    let first = mine[0].clone();
    assert!(
        first
            .body
            .starts_with("<!-- elasticache-perf:comment profile=redis-"),
        "{}",
        first.body
    );
    assert!(first.body.contains("run ecp-gh-1"), "{}", first.body);
    assert!(first.body.contains("```mermaid"));
    assert!(text(&o)
        .1
        .contains(&format!("PR #5: comment {} created", first.id)));

    // The same profile again: the comment is updated, no second one.
    let step2 = Step::new("pull_request", &pr_event(5));
    let o = run(step2.main(&Step::local_inputs("ecp-gh-2", &[]), &api)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    check_no_token(&step2, &o);
    let mine: Vec<_> = gh
        .comments(5)
        .into_iter()
        .filter(|c| c.login == BOT)
        .collect();
    assert_eq!(mine.len(), 1, "updated, not doubled");
    assert_eq!(mine[0].id, first.id);
    assert!(mine[0].body.contains("run ecp-gh-2") && !mine[0].body.contains("run ecp-gh-1"));

    // Another profile (another workload) keeps its own comment.
    let step3 = Step::new("pull_request", &pr_event(5));
    let o = run(step3.main(&Step::local_inputs("ecp-gh-3", &[("clients", "3")]), &api)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let mine: Vec<_> = gh
        .comments(5)
        .into_iter()
        .filter(|c| c.login == BOT)
        .collect();
    assert_eq!(mine.len(), 2, "a second profile, a second comment");
    assert_eq!(mine[0].id, first.id);
    assert!(
        mine[0].body.contains("run ecp-gh-2"),
        "the first profile's comment is untouched"
    );
    assert!(mine[1].body.contains("run ecp-gh-3"));
    let marker = |b: &str| b.lines().next().unwrap().to_string();
    assert_ne!(marker(&mine[0].body), marker(&mine[1].body));

    {
        let s = gh.state.lock().unwrap();
        assert_eq!((s.creates, s.updates), (2, 1));
    }
    let untouched = gh.comments(5).into_iter().find(|c| c.id == quoted).unwrap();
    assert_eq!(
        untouched.body,
        "<!-- elasticache-perf:comment profile=anything -->"
    );
    for c in gh.comments(5) {
        assert!(!c.body.contains(TOKEN));
    }
    let auth = gh.auth_headers().await;
    assert!(!auth.is_empty());
    assert!(
        auth.iter().all(|a| a == &format!("Bearer {TOKEN}")),
        "{auth:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_token_is_a_warning_and_the_step_passes_on_ghes() {
    let gh = FakeGithub::start("/api/v3").await;
    gh.state.lock().unwrap().read_only = true;
    let step = Step::new("pull_request", &pr_event(9));
    let o = run(step.main(&Step::local_inputs("ecp-gh-4", &[]), &gh.api_url("/api/v3"))).await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("::warning title=PR comment::"))
        .unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(
        warning.contains("cannot comment on PR #9 (HTTP 403 from creating a comment on PR #9: Resource not accessible by integration)"),
        "{warning}"
    );
    assert!(warning.contains("the report is in the job summary"));
    assert!(step
        .read(&step.summary)
        .starts_with("### elasticache-perf: OK"));
    assert!(step.read(&step.output).contains("verdict=none\n"));
    assert!(gh.comments(9).is_empty());
    check_no_token(&step, &o);
    let paths: Vec<String> = gh
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(paths.iter().all(|p| p.starts_with("/api/v3/")), "{paths:?}");
}

fn publish_step(event: &serde_json::Value) -> Step {
    let step = Step::new("workflow_run", event);
    let dir = step.workspace.join("artifact");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/github/results.json"),
        dir.join("results.json"),
    )
    .unwrap();
    step
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_comments_on_a_handed_over_pr_only_at_the_runs_commit() {
    let gh = FakeGithub::start("").await;
    let api = gh.api_url("");
    let inputs = [
        ("command", "publish"),
        ("results_path", "artifact/results.json"),
        ("pr_number", "7"),
    ];
    // A fork PR: workflow_run lists no PR, the number comes from the artifact.
    let event = |sha: &str| json!({"workflow_run": {"head_sha": sha, "pull_requests": []}});

    let step = publish_step(&event("ffff999"));
    let o = run(step.main(&inputs, &api)).await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("::warning title=PR comment::PR #7 is not at the commit"),
        "{stderr}"
    );
    assert!(gh.comments(7).is_empty());

    let step = publish_step(&event("0123abc"));
    let o = run(step.main(&inputs, &api)).await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(gh.comments(7).len(), 1, "{stderr}");
    assert!(step
        .read(&step.output)
        .contains("results_path=artifact/results.json\n"));
    assert_eq!(step.read(&step.state), "", "publish creates nothing");
    check_no_token(&step, &o);
}

#[tokio::test]
async fn publish_rejects_what_is_not_a_results_file() {
    let step = publish_step(&json!({}));
    std::fs::write(
        step.workspace.join("artifact/results.json"),
        "{\"schema\": \"x\"}",
    )
    .unwrap();
    let o = run(step.main(
        &[
            ("command", "publish"),
            ("results_path", "artifact/results.json"),
        ],
        "http://127.0.0.1:9",
    ))
    .await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input 'results_path'"), "{stderr}");
}

const FAST: Duration = Duration::from_millis(10);

/// Whose comments are ours with a workflow token (`GET /user` refused).
fn bot() -> Author {
    Author::AnyBot
}

const PR: PullRequest<'static> = PullRequest {
    owner: "o",
    repo: "r",
    number: 11,
};

#[tokio::test]
async fn our_comment_is_found_on_a_later_page() {
    let gh = FakeGithub::start("").await;
    for i in 0..150 {
        gh.seed(11, "someone", &format!("comment {i}"));
    }
    let ours = gh.seed(11, BOT, "<!-- elasticache-perf:comment profile=p -->\nold");
    let octo =
        elasticache_perf::github::client::client(&gh.api_url(""), &Secret::new(TOKEN)).unwrap();
    let marker = "<!-- elasticache-perf:comment profile=p -->";
    let body = format!("{marker}\nnew");
    let r = comment::upsert(&octo, PR, &body, marker, &bot(), true, FAST)
        .await
        .unwrap();
    assert_eq!(r, Upserted::Updated(ours));
    assert_eq!(gh.comments(11).len(), 151);
    let r = comment::upsert(&octo, PR, &body, marker, &bot(), true, FAST)
        .await
        .unwrap();
    assert_eq!(
        r,
        Upserted::Unchanged(ours),
        "nothing to send when nothing changed"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_without_a_user_any_bot_is_the_author() {
    let gh = FakeGithub::start("").await;
    gh.state.lock().unwrap().fail_lists = 2;
    let octo =
        elasticache_perf::github::client::client(&gh.api_url(""), &Secret::new(TOKEN)).unwrap();
    assert_eq!(
        comment::author(&octo, FAST).await,
        Author::AnyBot,
        "GET /user is refused to a workflow token"
    );
    let marker = "<!-- elasticache-perf:comment profile=q -->";
    let r = comment::upsert(&octo, PR, marker, marker, &bot(), true, FAST)
        .await
        .unwrap();
    assert!(matches!(r, Upserted::Created(_)), "{r:?}");

    gh.state.lock().unwrap().fail_lists = 3;
    let e = comment::upsert(&octo, PR, "x", "y", &bot(), true, FAST)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(502), "three attempts at most: {e}");
    assert!(
        e.to_string().contains("listing the comments of PR #11"),
        "{e}"
    );
}

#[tokio::test]
async fn on_regression_without_a_comment_creates_none() {
    let gh = FakeGithub::start("").await;
    let octo =
        elasticache_perf::github::client::client(&gh.api_url(""), &Secret::new(TOKEN)).unwrap();
    let marker = "<!-- elasticache-perf:comment profile=r -->";
    let r = comment::upsert(&octo, PR, marker, marker, &bot(), false, FAST)
        .await
        .unwrap();
    assert_eq!(r, Upserted::Skipped);
    assert!(gh.comments(11).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_token_finds_its_own_comment_and_updates_it() {
    // An installation token: GET /user is refused, the comments are by `<app>[bot]`.
    let gh = FakeGithub::start("").await;
    gh.state.lock().unwrap().author = "perf-app[bot]".into();
    let api = gh.api_url("");
    let quoted = gh.seed(
        8,
        "mallory",
        "<!-- elasticache-perf:comment profile=ci-app -->",
    );
    let inputs = |id| Step::local_inputs(id, &[("profile", "ci-app")]);
    for (i, id) in ["ecp-app-1", "ecp-app-2"].into_iter().enumerate() {
        let step = Step::new("pull_request", &pr_event(8));
        let o = run(step.main(&inputs(id), &api)).await;
        assert_eq!(o.status.code(), Some(0), "run {i}: {}", text(&o).1);
        check_no_token(&step, &o);
    }
    let comments = gh.comments(8);
    let mine: Vec<_> = comments
        .iter()
        .filter(|c| c.login == "perf-app[bot]")
        .collect();
    assert_eq!(mine.len(), 1, "one comment, then updated: {comments:?}");
    assert!(mine[0].body.contains("ecp-app-2"), "{}", mine[0].body);
    let s = gh.state.lock().unwrap();
    assert_eq!((s.creates, s.updates), (1, 1));
    let q = comments.iter().find(|c| c.id == quoted).unwrap();
    assert_eq!(q.body, "<!-- elasticache-perf:comment profile=ci-app -->");
}

#[tokio::test]
async fn a_rate_limited_403_is_waited_out_and_a_refusal_is_not() {
    let gh = FakeGithub::start("").await;
    let octo =
        elasticache_perf::github::client::client(&gh.api_url(""), &Secret::new(TOKEN)).unwrap();
    let marker = "<!-- elasticache-perf:comment profile=rl -->";
    // The list and the create are each answered with a rate limit once first.
    gh.state.lock().unwrap().rate_limit = 1;
    let t0 = std::time::Instant::now();
    let r = comment::upsert(&octo, PR, marker, marker, &bot(), true, FAST)
        .await
        .unwrap();
    assert!(matches!(r, Upserted::Created(_)), "{r:?}");
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "retry-after: 1 was honoured"
    );
    assert_eq!(gh.state.lock().unwrap().rate_limited, 1);

    // Rate limited on every attempt: the error says so; it is not taken for a read-only token.
    gh.state.lock().unwrap().rate_limit = 3;
    let e = comment::upsert(&octo, PR, "x", "y", &bot(), true, FAST)
        .await
        .unwrap_err();
    assert!(
        e.is_transient() && e.to_string().contains("rate limited"),
        "{e}"
    );
    assert_eq!(gh.state.lock().unwrap().rate_limited, 4);

    // A plain 403 (a read-only token) is refused at once.
    gh.state.lock().unwrap().read_only = true;
    let before = gh.server.received_requests().await.unwrap().len();
    let e = comment::upsert(&octo, PR, "z", "<!-- none -->", &bot(), true, FAST)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            elasticache_perf::github::client::GithubError::Forbidden { .. }
        ),
        "{e}"
    );
    let after = gh.server.received_requests().await.unwrap().len();
    assert_eq!(after - before, 2, "one list, one create, no retry");
}
