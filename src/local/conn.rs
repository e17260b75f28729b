//! A small control connection to a Redis/Valkey server (PING, AUTH, INFO, DBSIZE): RESP2 over TCP,
//! for the orchestration only — the load itself goes through the load generators.

use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::config::Secret;

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `-ERR …`.
    Error(String),
    /// `:1`.
    Int(i64),
    /// `$…` (None for nil).
    Bulk(Option<Vec<u8>>),
    /// `*…` (None for nil).
    Array(Option<Vec<Reply>>),
}

/// A control connection.
#[derive(Debug)]
pub struct Conn {
    stream: BufReader<TcpStream>,
    timeout: Duration,
}

/// Why a connection could not be made ready: callers tell a refused password from a dead server.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// AUTH was refused, or the server wants a password that was not given.
    #[error("the server at {addr} refused authentication: {reply}")]
    Auth {
        /// host:port.
        addr: String,
        /// The server's reply (never includes the password).
        reply: String,
    },
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Conn {
    /// Connect (bounded by `timeout`), authenticate when a password is given, and check with PING.
    pub async fn open(
        host: &str,
        port: u16,
        username: Option<&str>,
        password: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Self, ConnError> {
        let addr = format!("{host}:{port}");
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| ConnError::Connect {
                addr: addr.clone(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
            })?
            .map_err(|source| ConnError::Connect {
                addr: addr.clone(),
                source,
            })?;
        stream.set_nodelay(true).ok();
        let mut c = Self {
            stream: BufReader::new(stream),
            timeout,
        };
        if let Some(pw) = password {
            let reply = match username {
                Some(u) => {
                    c.cmd(&[b"AUTH", u.as_bytes(), pw.expose().as_bytes()])
                        .await?
                }
                None => c.cmd(&[b"AUTH", pw.expose().as_bytes()]).await?,
            };
            if let Reply::Error(e) = reply {
                return Err(ConnError::Auth { addr, reply: e });
            }
        }
        match c.cmd(&[b"PING"]).await? {
            Reply::Error(e) if e.starts_with("NOAUTH") || e.starts_with("WRONGPASS") => {
                Err(ConnError::Auth { addr, reply: e })
            }
            Reply::Error(e) => Err(ConnError::Other(anyhow::anyhow!(
                "PING to {addr} failed: {e}"
            ))),
            _ => Ok(c),
        }
    }

    /// Send one command and read its reply, bounded by the connection's timeout.
    pub async fn cmd(&mut self, args: &[&[u8]]) -> anyhow::Result<Reply> {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.stream
                .get_mut()
                .write_all(&buf)
                .await
                .context("sending a command")?;
            read_reply(&mut self.stream).await
        })
        .await
        .context("the server did not answer in time")?
    }

    /// `INFO` as text.
    pub async fn info(&mut self) -> anyhow::Result<String> {
        match self.cmd(&[b"INFO", b"everything"]).await? {
            Reply::Bulk(Some(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            other => bail!("unexpected INFO reply: {other:?}"),
        }
    }
}

async fn read_line(r: &mut BufReader<TcpStream>) -> anyhow::Result<String> {
    let mut line = String::new();
    let n = r.read_line(&mut line).await.context("reading a reply")?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn read_reply(r: &mut BufReader<TcpStream>) -> anyhow::Result<Reply> {
    let line = read_line(r).await?;
    let (kind, rest) = line.split_at(line.len().min(1));
    Ok(match kind {
        "+" => Reply::Simple(rest.to_string()),
        "-" => Reply::Error(rest.to_string()),
        ":" => Reply::Int(rest.parse().context("bad integer reply")?),
        "$" => {
            let n: i64 = rest.parse().context("bad bulk length")?;
            if n < 0 {
                Reply::Bulk(None)
            } else {
                let n = usize::try_from(n).context("bulk length")?;
                let mut b = vec![0; n + 2];
                r.read_exact(&mut b).await.context("reading a bulk reply")?;
                b.truncate(n);
                Reply::Bulk(Some(b))
            }
        }
        "*" => {
            let n: i64 = rest.parse().context("bad array length")?;
            if n < 0 {
                Reply::Array(None)
            } else {
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(Box::pin(read_reply(r)).await?);
                }
                Reply::Array(Some(items))
            }
        }
        _ => bail!("not a RESP reply: {line:?}"),
    })
}
