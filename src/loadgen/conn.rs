//! One connection: open it (TCP_NODELAY, AUTH) and drive the closed loop that keeps `pipeline`
//! requests in flight, writing each batch with one call and parsing replies in place.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::{LoadgenConfig, Stop};
use super::keys::{KeyGen, KeyPattern, Mix, Op, Rng};
use super::recorder::ConnRecorder;
use super::resp::{self, Reply};

/// How long in-flight replies are awaited after the deadline before the connection gives up.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Initial read buffer; it grows when one reply is larger.
const READ_BUF_BYTES: usize = 64 * 1024;
/// Free space below which the read buffer is compacted before reading.
const MIN_READ_SPACE: usize = 16 * 1024;

/// Why a connection could not be opened.
#[derive(Debug)]
pub(super) struct OpenError {
    /// Stable kind (`connection_refused`, `connect_timeout`, `connection_error`, `auth_failed`).
    pub(super) kind: &'static str,
    /// In words, never with the password.
    pub(super) message: String,
}

impl OpenError {
    fn io(e: &io::Error) -> Self {
        let kind = match e.kind() {
            io::ErrorKind::ConnectionRefused => "connection_refused",
            _ => "connection_error",
        };
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

/// Connect, set TCP_NODELAY and authenticate when a password is set.
pub(super) async fn open(addr: SocketAddr, cfg: &LoadgenConfig) -> Result<TcpStream, OpenError> {
    let stream = match tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(OpenError {
                kind: "connect_timeout",
                message: format!("no connection within {:?}", cfg.connect_timeout),
            })
        }
        Ok(Err(e)) => return Err(OpenError::io(&e)),
        Ok(Ok(s)) => s,
    };
    stream.set_nodelay(true).map_err(|e| OpenError::io(&e))?;
    let mut stream = stream;
    if let Some(password) = &cfg.password {
        let auth = auth(&mut stream, cfg.username.as_deref(), password);
        match tokio::time::timeout(cfg.connect_timeout, auth).await {
            Err(_) => {
                return Err(OpenError {
                    kind: "auth_failed",
                    message: format!("no reply to AUTH within {:?}", cfg.connect_timeout),
                })
            }
            Ok(r) => r?,
        }
    }
    Ok(stream)
}

async fn auth(stream: &mut TcpStream, user: Option<&str>, password: &str) -> Result<(), OpenError> {
    let mut out = Vec::new();
    match user {
        Some(u) => resp::encode(&mut out, &[b"AUTH", u.as_bytes(), password.as_bytes()]),
        None => resp::encode(&mut out, &[b"AUTH", password.as_bytes()]),
    };
    stream
        .write_all(&out)
        .await
        .map_err(|e| OpenError::io(&e))?;
    let mut buf = Vec::with_capacity(256);
    loop {
        match resp::parse(&buf) {
            Ok(Some((Reply::Simple(_), _))) => return Ok(()),
            Ok(Some((Reply::Error(msg), _))) => {
                return Err(OpenError {
                    kind: "auth_failed",
                    message: format!("the server replied '-{}'", String::from_utf8_lossy(msg)),
                })
            }
            Ok(Some((other, _))) => {
                return Err(OpenError {
                    kind: "auth_failed",
                    message: format!("unexpected reply to AUTH: {other:?}"),
                })
            }
            Ok(None) => {}
            Err(e) => {
                return Err(OpenError {
                    kind: "auth_failed",
                    message: format!("reply to AUTH: {e}"),
                })
            }
        }
        let n = stream
            .read_buf(&mut buf)
            .await
            .map_err(|e| OpenError::io(&e))?;
        if n == 0 {
            return Err(OpenError {
                kind: "auth_failed",
                message: "the server closed the connection after AUTH".into(),
            });
        }
    }
}

/// What every connection of a run shares, prepared once.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) prefix: Vec<u8>,
    pub(super) value: Vec<u8>,
    pub(super) pipeline: usize,
    /// Requests per connection (`u64::MAX` in duration mode).
    pub(super) requests: u64,
    /// When to stop sending (duration mode).
    pub(super) deadline: Option<Instant>,
    pub(super) ratio: (u32, u32),
    pub(super) patterns: (KeyPattern, KeyPattern),
    pub(super) key_range: (u64, u64),
    pub(super) seed: u64,
    pub(super) connections: u64,
}

impl Plan {
    pub(super) fn new(cfg: &LoadgenConfig, start: Instant) -> Self {
        let (requests, deadline) = match cfg.stop {
            Stop::Duration(d) => (u64::MAX, Some(start + d)),
            Stop::Requests(n) => (n, None),
        };
        Self {
            prefix: cfg.workload.key_prefix.as_bytes().to_vec(),
            // memtier's default value is a run of 'x'.
            value: vec![b'x'; usize::try_from(cfg.workload.data_size).unwrap_or(0)],
            pipeline: cfg.workload.pipeline as usize,
            requests,
            deadline,
            ratio: (cfg.workload.ratio_set, cfg.workload.ratio_get),
            patterns: (cfg.workload.key_pattern_set, cfg.workload.key_pattern_get),
            key_range: (cfg.workload.key_minimum, cfg.workload.key_maximum),
            seed: cfg.seed,
            connections: cfg.connections(),
        }
    }
}

/// How a connection's loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// Deadline or request count reached.
    Done,
    /// The run was cancelled.
    Cancelled,
    /// The connection broke (counted as an error).
    Dropped,
}

struct InFlight {
    op: Op,
    sent: Instant,
    tx: u32,
}

/// The closed loop of one connection. Records into `rec`; the caller flushes it.
pub(super) async fn drive(
    mut stream: TcpStream,
    plan: Arc<Plan>,
    index: u64,
    rec: &mut ConnRecorder,
    cancel: CancellationToken,
) -> Ended {
    let (min, max) = plan.key_range;
    let mut requests = Requests {
        rng: Rng::new(plan.seed, index),
        set_keys: KeyGen::new(plan.patterns.0, min, max, index, plan.connections),
        get_keys: KeyGen::new(plan.patterns.1, min, max, index, plan.connections),
        mix: Mix::new(plan.ratio.0, plan.ratio.1),
    };
    let mut inflight: VecDeque<InFlight> = VecDeque::with_capacity(plan.pipeline);
    let mut wbuf: Vec<u8> = Vec::with_capacity(plan.pipeline * (plan.value.len() + 64));
    let mut rbuf = vec![0u8; READ_BUF_BYTES.max(plan.value.len() + 64)];
    let (mut head, mut tail) = (0usize, 0usize);
    let mut sent = 0u64;
    let mut stopping = false;

    // Both futures are created once and polled by reference: no timer or waiter is registered
    // per request. Each connection has its own child token, so no lock is shared between them.
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    let timer = tokio::time::sleep_until(plan.deadline.unwrap_or_else(Instant::now));
    tokio::pin!(timer);
    let mut timer_armed = plan.deadline.is_some();

    loop {
        let now = Instant::now();
        if !stopping {
            requests.fill(&plan, &mut inflight, &mut wbuf, &mut sent, now);
        }
        if !wbuf.is_empty() {
            let written = tokio::select! {
                biased;
                r = stream.write_all(&wbuf) => r,
                () = &mut cancelled => return Ended::Cancelled,
            };
            if let Err(e) = written {
                rec.error("connection_dropped", || format!("writing: {e}"));
                return Ended::Dropped;
            }
            wbuf.clear();
        }
        if inflight.is_empty() {
            return Ended::Done;
        }

        make_room(&mut rbuf, &mut head, &mut tail);
        let read = tokio::select! {
            biased;
            r = stream.read(&mut rbuf[tail..]) => r,
            () = &mut cancelled => return Ended::Cancelled,
            () = &mut timer, if timer_armed => {
                if stopping {
                    rec.error("drain_timeout", || format!(
                        "{} repl(ies) still missing {DRAIN_GRACE:?} after the deadline", inflight.len()
                    ));
                    return Ended::Done;
                }
                stopping = true;
                timer.as_mut().reset(Instant::now() + DRAIN_GRACE);
                continue;
            }
        };
        match read {
            Ok(0) => {
                rec.error("connection_dropped", || {
                    "the server closed the connection".to_string()
                });
                return Ended::Dropped;
            }
            Err(e) => {
                rec.error("connection_dropped", || format!("reading: {e}"));
                return Ended::Dropped;
            }
            Ok(n) => tail += n,
        }
        let now = Instant::now();
        rec.tick(now);
        match take_replies(&rbuf[..tail], head, &mut inflight, rec, now) {
            Ok(h) => head = h,
            Err(ended) => return ended,
        }
        if let Some(deadline) = plan.deadline {
            if !stopping && now >= deadline {
                stopping = true;
                timer.as_mut().reset(now + DRAIN_GRACE);
                timer_armed = true;
            }
        }
    }
}

/// What picks a connection's next request: the set:get mix, each kind's keys, and the random source
/// the keys draw from.
struct Requests {
    rng: Rng,
    set_keys: KeyGen,
    get_keys: KeyGen,
    mix: Mix,
}

impl Requests {
    /// Encode requests into `wbuf` until the pipeline is full or the request count is reached.
    fn fill(
        &mut self,
        plan: &Plan,
        inflight: &mut VecDeque<InFlight>,
        wbuf: &mut Vec<u8>,
        sent: &mut u64,
        now: Instant,
    ) {
        while inflight.len() < plan.pipeline && *sent < plan.requests {
            let op = self.mix.next_op();
            let tx = match op {
                Op::Set => resp::encode_set(
                    wbuf,
                    &plan.prefix,
                    self.set_keys.next_index(&mut self.rng),
                    &plan.value,
                ),
                Op::Get => {
                    resp::encode_get(wbuf, &plan.prefix, self.get_keys.next_index(&mut self.rng))
                }
            };
            inflight.push_back(InFlight {
                op,
                sent: now,
                tx: u32::try_from(tx).unwrap_or(u32::MAX),
            });
            *sent += 1;
        }
    }
}

/// Room for the next read: an empty buffer starts over; one with too little space left moves its
/// unread bytes to the front, and doubles when that is not enough.
fn make_room(rbuf: &mut Vec<u8>, head: &mut usize, tail: &mut usize) {
    if *head == *tail {
        *head = 0;
        *tail = 0;
    } else if rbuf.len() - *tail < MIN_READ_SPACE {
        rbuf.copy_within(*head..*tail, 0);
        *tail -= *head;
        *head = 0;
        if rbuf.len() - *tail < MIN_READ_SPACE {
            let grown = rbuf.len() * 2;
            rbuf.resize(grown, 0);
        }
    }
}

/// Match the complete replies in `read[head..]` to the requests in flight, in order, and record
/// each; returns where the unread bytes start. A reply that cannot be parsed, or one with no
/// request in flight, ends the connection.
fn take_replies(
    read: &[u8],
    mut head: usize,
    inflight: &mut VecDeque<InFlight>,
    rec: &mut ConnRecorder,
    now: Instant,
) -> Result<usize, Ended> {
    loop {
        let (reply, used) = match resp::parse(&read[head..]) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(head),
            Err(e) => {
                rec.error("protocol_error", || e.to_string());
                return Err(Ended::Dropped);
            }
        };
        let Some(req) = inflight.pop_front() else {
            rec.error("protocol_error", || {
                "a reply arrived with no request in flight".into()
            });
            return Err(Ended::Dropped);
        };
        let latency = now.saturating_duration_since(req.sent);
        match (reply, req.op) {
            (Reply::Error(msg), _) => {
                let kind = if msg.starts_with(b"NOAUTH") {
                    "noauth"
                } else if msg.starts_with(b"WRONGPASS") {
                    "auth_failed"
                } else {
                    "error_reply"
                };
                rec.error(kind, || format!("-{}", String::from_utf8_lossy(msg)));
            }
            (Reply::Nil, Op::Get) => rec.record(Op::Get, latency, used, req.tx, Some(false)),
            (_, Op::Get) => rec.record(Op::Get, latency, used, req.tx, Some(true)),
            (_, Op::Set) => rec.record(Op::Set, latency, used, req.tx, None),
        }
        head += used;
    }
}
