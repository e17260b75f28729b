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
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, hyper::Error>;

/// The wire protocol of a request, which decides the shape of its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// awsJson 1.x (`x-amz-target`): ECS, Logs, Resource Groups Tagging.
    AwsJson,
    /// EC2's query dialect (form body with `Version=2016-11-15`).
    Ec2Query,
    /// awsQuery (form body with `Action=`): ElastiCache, IAM, CloudWatch, STS.
    AwsQuery,
    /// REST-XML, path-style: S3.
    S3,
}

/// What an injected fault looked like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The protocol's throttling error.
    Throttle,
    /// A plain 500 (`InternalError` / `InternalFailure`).
    Internal,
    /// A 503 (`ServiceUnavailable`; for EC2 and S3 the throttling codes already are 503s).
    Unavailable,
}

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

/// SplitMix64: small, seedable, good enough to pick faults.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct State {
    upstream: String,
    probability: f64,
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

/// The protocol of a request, from its headers and (form) body.
fn protocol(req: &hyper::http::request::Parts, body: &[u8]) -> Protocol {
    let form = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    if req.headers.contains_key("x-amz-target") {
        Protocol::AwsJson
    } else if form && has(b"Version=2016-11-15") {
        Protocol::Ec2Query
    } else if form && has(b"Action=") {
        Protocol::AwsQuery
    } else {
        Protocol::S3
    }
}

/// The error response of `kind` in protocol `p`.
fn fault(p: Protocol, kind: FaultKind, id: &str, head: bool) -> Response<Body> {
    use FaultKind::{Internal, Throttle, Unavailable};
    let (status, ctype, body) = match (p, kind) {
        (Protocol::AwsJson, _) => {
            let (s, code, msg) = match kind {
                Throttle => (400, "ThrottlingException", "Rate exceeded"),
                Internal => (500, "InternalFailure", "Internal failure"),
                Unavailable => (503, "ServiceUnavailable", "Service unavailable"),
            };
            let b = format!(r#"{{"__type":"{code}","message":"{msg}"}}"#);
            (s, "application/x-amz-json-1.1", b)
        }
        (Protocol::Ec2Query, _) => {
            let (s, code, msg) = match kind {
                Throttle | Unavailable => (503, "RequestLimitExceeded", "Request limit exceeded."),
                Internal => (500, "InternalError", "An internal error has occurred."),
            };
            let b = format!("<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>{id}</RequestID></Response>");
            (s, "text/xml;charset=UTF-8", b)
        }
        (Protocol::AwsQuery, _) => {
            let (s, ty, code, msg) = match kind {
                Throttle => (400, "Sender", "Throttling", "Rate exceeded"),
                Internal => (500, "Receiver", "InternalFailure", "Internal failure"),
                Unavailable => (503, "Receiver", "ServiceUnavailable", "Service unavailable"),
            };
            let b = format!("<ErrorResponse><Error><Type>{ty}</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>");
            (s, "text/xml", b)
        }
        (Protocol::S3, _) => {
            let (s, code, msg) = match kind {
                Throttle | Unavailable => (503, "SlowDown", "Please reduce your request rate."),
                Internal => (
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ),
            };
            let b = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>{id}</RequestId></Error>");
            (s, "application/xml", b)
        }
    };
    // A HEAD response has no body; the SDK then goes by the status alone.
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(CONTENT_TYPE, ctype)
        .header(CONTENT_LENGTH, body.len())
        .header("x-amzn-requestid", id)
        .header("x-amz-request-id", id)
        .body(full(body))
        .unwrap()
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
        let p = protocol(&parts, &body);
        let pick = {
            let mut rng = st.rng.lock().unwrap();
            (rng.unit() < st.probability).then(|| (rng.unit(), rng.next_u64()))
        };
        let mut counts = st.counts.lock().unwrap();
        counts.requests += 1;
        *counts.seen.entry(p).or_default() += 1;
        if let Some((r, n)) = pick {
            // Mostly throttling; the rest split between 500 and 503.
            let kind = match r {
                r if r < 0.6 => FaultKind::Throttle,
                r if r < 0.8 => FaultKind::Internal,
                _ => FaultKind::Unavailable,
            };
            *counts.injected.entry((p, kind)).or_default() += 1;
            let id = format!("{n:016x}-fault");
            return Ok(fault(p, kind, &id, parts.method == Method::HEAD));
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
