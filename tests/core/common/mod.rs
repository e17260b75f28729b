//! Helpers shared by the integration tests: fixture paths, and an independent reading of memtier's
//! own numbers (straight from its JSON with serde_json::Value, not through the product's parser).

#![allow(
    dead_code,
    clippy::unwrap_used,
    unreachable_pub,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::path::PathBuf;

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use serde_json::Value;

/// The project's copy of the memtier fixtures.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/memtier")
}

/// Every fixture folder that holds a memtier.json which memtier finished writing.
pub fn finished_json_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() == "memtier.json" {
                let text = std::fs::read_to_string(&p).unwrap();
                if serde_json::from_str::<Value>(&text).is_ok() {
                    out.push(d.clone());
                }
            }
        }
    }
    out.sort();
    out
}

/// memtier's JSON as a plain value.
pub fn memtier_json(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("memtier.json")).unwrap()).unwrap()
}

/// Decode a memtier compressed histogram.
pub fn decode(b64: &str) -> Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    Deserializer::new().deserialize(&mut &bytes[..]).unwrap()
}

/// HdrHistogram_c's percentile (memtier-formats §7.3), written independently of the product.
pub fn c_pct_ms(h: &Histogram<u64>, p: f64) -> f64 {
    let target = (((p.min(100.0) / 100.0) * h.len() as f64) + 0.5) as u64;
    let target = target.max(1);
    let mut acc = 0;
    for v in h.iter_recorded() {
        acc += v.count_at_value();
        if acc >= target {
            return h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        }
    }
    h.max() as f64 / 1000.0
}

/// Run the product's binary.
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("elasticache-perf").unwrap()
}

/// Run `analyze` on `paths` into a fresh temp dir; returns (exit code, stdout, stderr, results.json).
pub fn analyze(paths: &[PathBuf]) -> (i32, String, String, Option<Value>) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = bin();
    cmd.arg("analyze")
        .args(paths)
        .arg("--out")
        .arg(out.path())
        .arg("--no-reports");
    let o = cmd.output().unwrap();
    let results = std::fs::read_to_string(out.path().join("results.json"))
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        results,
    )
}

/// Validate a results.json against the committed schema; panics with the errors.
pub fn assert_valid(results: &Value) {
    let schema: Value = serde_json::from_str(elasticache_perf::results::JSON_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(results)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "results.json violates the schema: {errors:#?}"
    );
}

/// memtier's type name → the product's command key.
pub fn command_key(type_name: &str) -> String {
    type_name
        .strip_suffix('s')
        .unwrap_or(type_name)
        .to_ascii_lowercase()
}

/// Float equality to memtier's printed precision.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// A redis-server started by a test on a free loopback port; killed when dropped. Panics (fails the
/// test) when redis-server is not installed: `scripts/test` installs it.
pub struct TestRedis {
    pub child: std::process::Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl TestRedis {
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 10,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Run redis-cli against this server.
    pub fn cli(&self, args: &[&str]) -> String {
        let o = std::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli must be installed");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether anything accepts connections on 127.0.0.1:port.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}
