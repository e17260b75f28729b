//! The built-in load generator against a real redis-server on 127.0.0.1 (each test starts its own
//! on a free port, in a temporary folder, and kills it on drop). redis-server is required: a
//! missing binary fails the tests loudly rather than skipping them.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use elasticache_perf::loadgen::{self, resp, KeyPattern, LoadgenConfig, LoadgenError, Stop};
use elasticache_perf::workload::Workload;
use tokio_util::sync::CancellationToken;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

struct Redis {
    child: Child,
    port: u16,
    password: Option<String>,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(password: Option<&str>) -> Self {
        assert!(
            Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: these tests need a real redis-server (apt-get install -y redis-server)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd.spawn().expect("starting redis-server");
        let server = Self {
            child,
            port,
            password: password.map(str::to_string),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.try_command(&[b"PING"]).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Send one command (after AUTH when the server has a password) and return the reply as text.
    fn try_command(&self, args: &[&[u8]]) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut out = Vec::new();
        if let Some(p) = &self.password {
            resp::encode(&mut out, &[b"AUTH", p.as_bytes()]);
        }
        resp::encode(&mut out, args);
        s.write_all(&out)?;
        let want = if self.password.is_some() { 2 } else { 1 };
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let mut at = 0;
            let mut replies = Vec::new();
            while let Ok(Some((r, used))) = resp::parse(&buf[at..]) {
                replies.push(match r {
                    resp::Reply::Bulk(b) | resp::Reply::Simple(b) => {
                        String::from_utf8_lossy(b).into_owned()
                    }
                    resp::Reply::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                });
                at += used;
            }
            if replies.len() >= want {
                return Ok(replies.pop().unwrap_or_default());
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("closed"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn command(&self, args: &[&[u8]]) -> String {
        self.try_command(args).expect("a reply from redis-server")
    }

    /// GET + SET calls from `INFO commandstats`.
    fn get_set_calls(&self) -> u64 {
        let info = self.command(&[b"INFO", b"commandstats"]);
        info.lines()
            .filter(|l| l.starts_with("cmdstat_get:") || l.starts_with("cmdstat_set:"))
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn config(server: &Redis) -> LoadgenConfig {
    LoadgenConfig {
        id: "test".into(),
        host: "127.0.0.1".into(),
        port: server.port,
        workload: Workload {
            threads: 2,
            clients: 4,
            pipeline: 4,
            ratio_set: 1,
            ratio_get: 1,
            key_maximum: 10_000,
            ..Workload::default()
        },
        stop: Stop::Duration(Duration::from_secs(1)),
        ..LoadgenConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_agree_with_the_servers_commandstats() {
    let server = Redis::start(None);
    let before = server.get_set_calls();
    let cfg = LoadgenConfig {
        stop: Stop::Duration(Duration::from_secs(3)),
        ..config(&server)
    };
    let (tx, rx) = tokio::sync::watch::channel(loadgen::Progress::default());
    let r = loadgen::run(&cfg, CancellationToken::new(), Some(tx))
        .await
        .expect("a 3 s run");
    let served = server.get_set_calls() - before;
    let ours = r.totals.count;
    assert!(ours > 0);
    let diff = ours.abs_diff(served) as f64 / served as f64;
    assert!(
        diff <= 0.01,
        "generator counted {ours}, server processed {served}"
    );

    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(!r.interrupted);
    let secs = r.duration_ms.expect("a duration") as f64 / 1000.0;
    // 3 s plus the drain of the last in-flight replies (bounded by 2 s).
    assert!((3.0..5.5).contains(&secs), "ran {secs} s");
    let (get, set) = (&r.commands["get"], &r.commands["set"]);
    assert_eq!(get.count + set.count, ours);
    assert!(get.count.abs_diff(set.count) <= 8 * 4, "1:1 interleave");
    assert_eq!(set.hits_per_sec, None);
    assert!(get.hits_per_sec.is_some() && r.totals.misses_per_sec.is_some());
    assert_eq!(r.totals.histogram.as_ref().map(|h| h.len()), Some(ours));
    assert!(r.totals.series.len() >= 3);
    let series_sum: u64 = r.totals.series.iter().map(|s| s.count).sum();
    assert_eq!(series_sum, ours);
    assert!(r
        .totals
        .series
        .iter()
        .all(|s| s.histogram.as_ref().map(|h| h.len()) == Some(s.count)));
    let get_series: u64 = get
        .series
        .iter()
        .filter_map(|s| Some(s.hits? + s.misses?))
        .sum();
    assert_eq!(get_series, get.count, "every GET is a hit or a miss");
    assert_eq!(r.source, elasticache_perf::client::ClientSource::Builtin);
    assert!(r
        .generator
        .as_deref()
        .is_some_and(|g| g.starts_with("elasticache-perf builtin")));
    let p = rx.borrow().clone();
    assert!(
        p.ops > 0 && p.elapsed_secs >= 1.0,
        "progress was reported: {p:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_fast_with_a_clear_error() {
    let server = Redis::start(Some("right-password"));
    let cfg = LoadgenConfig {
        password: Some("wrong-password".into()),
        stop: Stop::Duration(Duration::from_secs(30)),
        ..config(&server)
    };
    let t0 = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        loadgen::run(&cfg, CancellationToken::new(), None),
    )
    .await
    .expect("an answer within 5 s");
    let e = r.expect_err("a wrong password is an error");
    let msg = format!("{e:#}");
    assert!(
        matches!(
            e.downcast_ref::<LoadgenError>(),
            Some(LoadgenError::AuthFailed { .. })
        ),
        "{msg}"
    );
    assert!(
        msg.contains("authentication") && msg.contains("WRONGPASS"),
        "{msg}"
    );
    assert!(
        !msg.contains("wrong-password"),
        "the password leaked: {msg}"
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_works() {
    let server = Redis::start(Some("s3cret"));
    let cfg = LoadgenConfig {
        password: Some("s3cret".into()),
        ..config(&server)
    };
    let r = loadgen::run(&cfg, CancellationToken::new(), None)
        .await
        .expect("an authenticated run");
    assert!(r.totals.count > 0);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.workload.authenticated, Some(true));
    assert!(!format!("{r:?}").contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noauth_replies_are_errors_not_misses() {
    let server = Redis::start(Some("s3cret"));
    let r = loadgen::run(&config(&server), CancellationToken::new(), None)
        .await
        .expect("the run starts; every reply is an error");
    assert_eq!(r.totals.count, 0);
    assert!(r.error_count("noauth") > 0, "{:?}", r.errors);
    assert_eq!(r.commands["get"].misses_per_sec, Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_run_keeps_what_was_measured() {
    let mut server = Redis::start(None);
    let cfg = LoadgenConfig {
        stop: Stop::Duration(Duration::from_secs(6)),
        ..config(&server)
    };
    let run = tokio::spawn(async move { loadgen::run(&cfg, CancellationToken::new(), None).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    let r = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the run ends once the connections are gone")
        .expect("the run task")
        .expect("partial results, not an error");
    assert!(
        r.totals.count > 0,
        "the measurements before the kill are kept"
    );
    assert!(r.error_count("connection_dropped") >= 1, "{:?}", r.errors);
    assert_eq!(r.connection_errors, r.error_count("connection_dropped"));
    assert!(
        r.duration_ms.expect("a duration") < 5000,
        "it stopped early"
    );
    assert!(!r.totals.series.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_returns_partial_results_marked_interrupted() {
    let server = Redis::start(None);
    let cfg = LoadgenConfig {
        stop: Stop::Duration(Duration::from_secs(30)),
        ..config(&server)
    };
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        c2.cancel();
    });
    let r = loadgen::run(&cfg, cancel, None)
        .await
        .expect("partial results");
    assert!(r.interrupted);
    assert!(r.totals.count > 0);
    assert!(r.duration_ms.expect("a duration") < 3000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_request_mode_writes_the_whole_key_range() {
    let server = Redis::start(None);
    let base = config(&server);
    let cfg = LoadgenConfig {
        workload: Workload {
            ratio_set: 1,
            ratio_get: 0,
            key_pattern_set: KeyPattern::Parallel,
            key_pattern_get: KeyPattern::Parallel,
            key_minimum: 1,
            key_maximum: 1000,
            ..base.workload.clone()
        },
        stop: Stop::Requests(125), // 1000 keys / (2 threads × 4 clients)
        ..base
    };
    let r = loadgen::run(&cfg, CancellationToken::new(), None)
        .await
        .expect("a request-mode run");
    assert_eq!(r.totals.count, 1000);
    assert_eq!(server.command(&[b"DBSIZE"]), "1000");
    assert_eq!(
        server.command(&[b"EXISTS", b"memtier-1", b"memtier-1000"]),
        "2"
    );
    assert_eq!(
        server.command(&[b"EXISTS", b"memtier-0", b"memtier-1001"]),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let cfg = LoadgenConfig {
        port,
        workload: Workload {
            threads: 1,
            clients: 2,
            ..Workload::default()
        },
        ..LoadgenConfig::default()
    };
    let e = loadgen::run(&cfg, CancellationToken::new(), None)
        .await
        .expect_err("nothing listens");
    match e.downcast_ref::<LoadgenError>() {
        Some(LoadgenError::Connect { kind, .. }) => assert_eq!(*kind, "connection_refused"),
        _ => panic!("expected a connect error, got {e:#}"),
    }
}

#[test]
fn the_cli_writes_results_that_match_the_schema() {
    let server = Redis::start(None);
    let out = tempfile::tempdir().expect("a temporary folder");
    let assert = assert_cmd::Command::cargo_bin("elasticache-perf")
        .expect("the binary")
        .args([
            "loadgen",
            "--host",
            "127.0.0.1",
            "--port",
            &server.port.to_string(),
        ])
        .args([
            "--threads",
            "1",
            "--clients",
            "4",
            "--ratio",
            "1:1",
            "--test-time",
            "2",
        ])
        .arg("--out")
        .arg(out.path())
        .timeout(Duration::from_secs(30))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.starts_with("ops_per_sec=") && stdout.contains(" p99_ms="),
        "{stdout}"
    );
    let text = std::fs::read_to_string(out.path().join("results.json")).expect("results.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let schema: serde_json::Value =
        serde_json::from_str(elasticache_perf::results::JSON_SCHEMA).expect("the schema");
    let validator = jsonschema::validator_for(&schema).expect("a validator");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["tasks"][0]["source"], "builtin");
    assert_eq!(doc["steady_state"]["latency_scope"], "window");
}

#[test]
fn the_cli_rejects_bad_input_with_exit_2() {
    let assert = assert_cmd::Command::cargo_bin("elasticache-perf")
        .expect("the binary")
        .args(["loadgen", "--pipeline", "0"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("input 'pipeline' must be at least 1; got '0'"),
        "{stderr}"
    );
}
