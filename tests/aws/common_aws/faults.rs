//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1 in front of a moto endpoint: with a seeded
//! probability it answers a request itself, before forwarding, with the throttling or 5xx error of
//! the request's protocol (which the AWS SDK retries); otherwise it forwards the request to moto
//! and streams the response back. It counts what it saw and what it injected.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};

mod wire;

pub use wire::{FaultKind, Protocol};

type Body = BoxBody<Bytes, hyper::Error>;

/// Shared counters of a proxy.
#[derive(Debug, Default, Clone)]
pub struct FaultCounts {
    /// Requests received (moto's own API not included).
    pub requests: u64,
    /// Requests received, by protocol.
    pub seen: BTreeMap<Protocol, u64>,
    /// Faults injected, by protocol and kind.
    pub injected: BTreeMap<(Protocol, FaultKind), u64>,
}

impl FaultCounts {
    /// Faults injected in all.
    pub fn total_injected(&self) -> u64 {
        self.injected.values().sum()
    }

    /// Faults injected for one protocol.
    pub fn injected_for(&self, p: Protocol) -> u64 {
        self.injected
            .iter()
            .filter(|((q, _), _)| *q == p)
            .map(|(_, n)| n)
            .sum()
    }
}

#[path = "../../support/splitmix.rs"]
mod splitmix;
use splitmix::Rng;

struct State {
    upstream: String,
    probability: f64,
    /// Calls of this operation fail every time (with a 500).
    always: Mutex<Option<String>>,
    rng: Mutex<Rng>,
    counts: Mutex<FaultCounts>,
    client: Client<HttpConnector, Body>,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: point the product's `AWS_ENDPOINT_URL` here.
    pub endpoint: String,
    /// The seed in use (`ECP_FAULT_SEED` overrides the one the test asked for).
    pub seed: u64,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Start a proxy in front of `upstream` (`http://127.0.0.1:<port>`) that fails a request with
    /// probability `probability`. Must be called inside a tokio runtime.
    pub async fn start(upstream: &str, probability: f64, seed: u64) -> Self {
        assert!(
            upstream.starts_with("http://127.0.0.1:"),
            "the fault proxy only forwards to 127.0.0.1, not {upstream}"
        );
        let seed = std::env::var("ECP_FAULT_SEED")
            .ok()
            .map_or(seed, |s| s.trim().parse().expect("ECP_FAULT_SEED: a u64"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        eprintln!("fault proxy {endpoint} -> {upstream}: p={probability}, seed={seed} (set ECP_FAULT_SEED to replay)");
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            probability,
            always: Mutex::new(None),
            rng: Mutex::new(Rng(seed)),
            counts: Mutex::new(FaultCounts::default()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            seed,
            state,
            task,
        }
    }

    /// From now on, fail every call of the awsJson or (EC2) query operation `op` (e.g.
    /// `GetResources`), as a service that is down would.
    pub fn always_fail(&self, op: &str) {
        *self.state.always.lock().unwrap() = Some(op.to_string());
    }

    /// A snapshot of the counters.
    pub fn counts(&self) -> FaultCounts {
        self.state.counts.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let (mut parts, incoming) = req.into_parts();
    // Read the whole request first, as a server would: the form body tells the protocol, and an
    // unread body would cost the client its connection.
    let body = match incoming.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(bad_gateway(&format!("reading the request: {e}"))),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    if !path.starts_with("/moto-api/") {
        let p = wire::protocol(&parts, &body);
        let doomed = st.always.lock().unwrap().as_deref().is_some_and(|op| {
            p != Protocol::S3 && wire::operation(&parts, &body).as_deref() == Some(op)
        });
        let pick = {
            let mut rng = st.rng.lock().unwrap();
            if doomed {
                Some((0.7, rng.next_u64()))
            } else {
                (rng.unit() < st.probability).then(|| (rng.unit(), rng.next_u64()))
            }
        };
        let mut counts = st.counts.lock().unwrap();
        counts.requests += 1;
        *counts.seen.entry(p).or_default() += 1;
        if let Some((r, n)) = pick {
            // Mostly throttling; the rest split between 500 and 503 (a doomed request: 500).
            let kind = match r {
                r if r < 0.6 => FaultKind::Throttle,
                r if r < 0.8 => FaultKind::Internal,
                _ => FaultKind::Unavailable,
            };
            *counts.injected.entry((p, kind)).or_default() += 1;
            let id = format!("{n:016x}-fault");
            return Ok(wire::fault(p, kind, &id, parts.method == Method::HEAD));
        }
    }
    parts.uri = format!("{}{path}", st.upstream).parse().unwrap();
    parts.headers.remove(CONNECTION);
    if parts.headers.remove(TRANSFER_ENCODING).is_some() {
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let fwd = Request::from_parts(parts, full(body));
    match st.client.request(fwd).await {
        Ok(resp) => {
            let (mut rp, b) = resp.into_parts();
            rp.headers.remove(CONNECTION);
            rp.headers.remove("keep-alive");
            Ok(Response::from_parts(rp, b.boxed()))
        }
        Err(e) => Ok(bad_gateway(&format!("forwarding {path}: {e}"))),
    }
}

fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|never| match never {}).boxed()
}

fn bad_gateway(why: &str) -> Response<Body> {
    eprintln!("fault proxy: {why}");
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .body(full(Bytes::from(why.to_string())))
        .unwrap()
}
