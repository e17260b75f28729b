//! A small stateful fake of the GitHub REST API on loopback (wiremock): issue comments that can be
//! listed (paginated, 100 a page), created and updated, `GET /user` refused as for a workflow
//! token or an App installation token (whose comments are by `<app>[bot]`, `type: Bot`), pull
//! requests with a head commit, and switches for a read-only token, rate limits and failures.
//! It serves under any path prefix, so GHES's `/api/v3` works too.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The author of comments made with the workflow token.
pub const BOT: &str = "github-actions[bot]";

/// A comment in the fake.
#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub pr: u64,
    pub login: String,
    pub body: String,
}

/// An issue in the fake.
#[derive(Clone, Debug)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub login: String,
}

/// The fake's state.
#[derive(Debug, Default)]
pub struct State {
    pub comments: Vec<Comment>,
    pub issues: Vec<Issue>,
    pub next_id: u64,
    pub creates: usize,
    pub updates: usize,
    /// Writes answer 403 (a fork PR's read-only token).
    pub read_only: bool,
    /// Answer this many list requests with 502 first.
    pub fail_lists: usize,
    /// Head commit of every PR.
    pub head_sha: String,
    /// The login the token writes as: `github-actions[bot]`, or an App's `<app>[bot]`.
    pub author: String,
    /// Answer this many requests with a rate-limited 403 first (`retry-after: 1`,
    /// `x-ratelimit-remaining: 0`), as GitHub does for a secondary rate limit.
    pub rate_limit: usize,
    /// How many rate-limited answers were given.
    pub rate_limited: usize,
    /// Each comment written, in order: `create` or `update`, and when.
    pub writes: Vec<(&'static str, std::time::SystemTime)>,
}

/// The fake server.
pub struct FakeGithub {
    pub server: MockServer,
    pub state: Arc<Mutex<State>>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    base: String,
}

/// A user object as GitHub returns it: bots (whose logins end in `[bot]`) have `type: Bot`.
fn user_json(login: &str) -> serde_json::Value {
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({"login": login, "type": kind})
}

fn comment_json(c: &Comment) -> serde_json::Value {
    json!({"id": c.id, "body": c.body, "user": user_json(&c.login),
           "html_url": format!("https://github.com/o/r/pull/{}#issuecomment-{}", c.pr, c.id)})
}

/// The `body` of a request's JSON.
fn body_of(req: &Request) -> String {
    let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    v["body"].as_str().unwrap().to_string()
}

/// GitHub's answer to a write with a read-only token.
fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
    }))
}

impl Responder {
    /// GET the comments of a pull request: 100 a page, with a `link` header to the next.
    fn list_comments(&self, s: &mut State, req: &Request, n: &str) -> ResponseTemplate {
        if s.fail_lists > 0 {
            s.fail_lists -= 1;
            return ResponseTemplate::new(502).set_body_string("bad gateway");
        }
        let pr: u64 = n.parse().unwrap();
        let page: usize = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .map_or(1, |(_, v)| v.parse().unwrap());
        let all: Vec<&Comment> = s.comments.iter().filter(|c| c.pr == pr).collect();
        let items: Vec<serde_json::Value> = all
            .iter()
            .skip((page - 1) * 100)
            .take(100)
            .map(|c| comment_json(c))
            .collect();
        let mut t = ResponseTemplate::new(200).set_body_json(items);
        if all.len() > page * 100 {
            t = t.insert_header(
                "link",
                format!(
                    "<{}/repos/o/r/issues/{pr}/comments?per_page=100&page={}>; rel=\"next\"",
                    self.base,
                    page + 1
                )
                .as_str(),
            );
        }
        t
    }

    /// POST a comment (403 when the token is read-only).
    fn create_comment(&self, s: &mut State, req: &Request, n: &str) -> ResponseTemplate {
        if s.read_only {
            return forbidden();
        }
        s.next_id += 1;
        let c = Comment {
            id: 1000 + s.next_id,
            pr: n.parse().unwrap(),
            login: s.author.clone(),
            body: body_of(req),
        };
        s.creates += 1;
        s.writes.push(("create", std::time::SystemTime::now()));
        s.comments.push(c.clone());
        ResponseTemplate::new(201).set_body_json(comment_json(&c))
    }

    /// PATCH a comment's body (403 when the token is read-only, 404 when there is no such comment).
    fn update_comment(&self, s: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        if s.read_only {
            return forbidden();
        }
        let id: u64 = id.parse().unwrap();
        let text = body_of(req);
        s.updates += 1;
        s.writes.push(("update", std::time::SystemTime::now()));
        match s.comments.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.body = text;
                let j = comment_json(c);
                ResponseTemplate::new(200).set_body_json(j)
            }
            None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }

    /// GET the issues (by their creator when asked), with a pull request among them as GitHub does.
    fn list_issues(&self, s: &mut State, req: &Request) -> ResponseTemplate {
        let q: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let creator = q
            .iter()
            .find(|(k, _)| k == "creator")
            .map(|(_, v)| v.clone());
        let items: Vec<serde_json::Value> = s
            .issues
            .iter()
            .filter(|i| creator.as_ref().is_none_or(|c| *c == i.login))
            .map(|i| {
                json!({"number": i.number, "title": i.title, "body": i.body,
                            "user": user_json(&i.login), "state": "open"})
            })
            // The issues list also returns pull requests.
            .chain(std::iter::once(json!({"number": 1, "title": "a PR",
                "user": user_json(BOT), "state": "open", "pull_request": {"url": "x"}})))
            .collect();
        ResponseTemplate::new(200).set_body_json(items)
    }

    /// POST an issue (403 when the token is read-only).
    fn create_issue(&self, s: &mut State, req: &Request) -> ResponseTemplate {
        if s.read_only {
            return forbidden();
        }
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        s.next_id += 1;
        let i = Issue {
            number: 500 + s.next_id,
            title: v["title"].as_str().unwrap().into(),
            body: v["body"].as_str().unwrap().into(),
            login: s.author.clone(),
        };
        s.issues.push(i.clone());
        ResponseTemplate::new(201).set_body_json(json!({"number": i.number, "title": i.title}))
    }
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        let path = req.url.path();
        let path = path.strip_prefix("/api/v3").unwrap_or(path);
        let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
        let method = req.method.as_str();
        if s.rate_limit > 0 {
            s.rate_limit -= 1;
            s.rate_limited += 1;
            return ResponseTemplate::new(403)
                .insert_header("retry-after", "1")
                .insert_header("x-ratelimit-remaining", "0")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                }));
        }
        match (method, seg.as_slice()) {
            ("GET", ["user"]) => forbidden(),
            ("GET", ["repos", "o", "r", "issues", n, "comments"]) => {
                self.list_comments(&mut s, req, n)
            }
            ("POST", ["repos", "o", "r", "issues", n, "comments"]) => {
                self.create_comment(&mut s, req, n)
            }
            ("PATCH", ["repos", "o", "r", "issues", "comments", id]) => {
                self.update_comment(&mut s, req, id)
            }
            ("GET", ["repos", "o", "r", "issues"]) => self.list_issues(&mut s, req),
            ("POST", ["repos", "o", "r", "issues"]) => self.create_issue(&mut s, req),
            ("GET", ["repos", "o", "r", "pulls", n]) => ResponseTemplate::new(200).set_body_json(
                json!({"number": n.parse::<u64>().unwrap(), "head": {"sha": s.head_sha}}),
            ),
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

impl FakeGithub {
    /// Start a fake serving under `prefix` (`""` for github.com, `"/api/v3"` for GHES).
    pub async fn start(prefix: &str) -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            head_sha: "0123abc".into(),
            author: BOT.into(),
            ..State::default()
        }));
        let base = format!("{}{prefix}", server.uri());
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                state: state.clone(),
                base,
            })
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// `GITHUB_API_URL` for this fake.
    pub fn api_url(&self, prefix: &str) -> String {
        format!("{}{prefix}", self.server.uri())
    }

    /// Comments on `pr`, oldest first.
    pub fn comments(&self, pr: u64) -> Vec<Comment> {
        let s = self.state.lock().unwrap();
        s.comments.iter().filter(|c| c.pr == pr).cloned().collect()
    }

    /// Add a comment by `login` (a user, or the bot from an earlier run).
    pub fn seed(&self, pr: u64, login: &str, body: &str) -> u64 {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = 1000 + s.next_id;
        s.comments.push(Comment {
            id,
            pr,
            login: login.into(),
            body: body.into(),
        });
        id
    }

    /// Every request's Authorization header, and whether any request carried the token elsewhere.
    pub async fn auth_headers(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                r.headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}
