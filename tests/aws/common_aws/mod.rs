//! Helpers of the AWS tests: a moto server (with the project's patches, tests/support/moto_server.py)
//! on a free 127.0.0.1 port for each test, SDK clients pointed at it, and moto's default VPC.
//! Only 127.0.0.1 is ever contacted; credentials are fixed test values.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr, unreachable_pub)]

use std::io::Read as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use elasticache_perf::aws::Clients;

pub mod fargate;
pub mod faults;
pub mod inventory;
pub mod plan;
pub mod run;

#[allow(unused_imports)]
pub use fargate::hold_tasks_until_stopped;

/// A running moto server, stopped when dropped.
pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    child: Child,
    log: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    use std::io::Write as _;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") && &buf[9..12] == b"200"
}

impl Moto {
    /// Start moto. `managed_policies` loads AWS managed IAM policies (needed to attach
    /// AmazonECSTaskExecutionRolePolicy). Fails loudly when the server cannot be started: run
    /// scripts/test, which installs it into .venv.
    pub fn start(managed_policies: bool) -> Self {
        Self::start_with(managed_policies, &[])
    }

    /// [`Moto::start`] with extra environment for the launcher (e.g. `ECP_MOTO_RG_*_SECONDS`).
    pub fn start_with(managed_policies: bool, env: &[(&str, &str)]) -> Self {
        let python = root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "moto is not installed: {} is missing; run scripts/test (it creates .venv and installs moto[server])",
            python.display()
        );
        for _ in 0..3 {
            let port = free_port();
            let log_path = std::env::temp_dir().join(format!("ecp-moto-{port}.log"));
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(&python)
                .arg(root().join("tests/support/moto_server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env(
                    "MOTO_IAM_LOAD_MANAGED_POLICIES",
                    if managed_policies { "true" } else { "false" },
                )
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("starting moto");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(status)) = child.try_wait() {
                    eprintln!("moto on port {port} exited with {status}; retrying on another port");
                    break;
                }
                if ready(port) {
                    return Self {
                        endpoint: format!("http://127.0.0.1:{port}"),
                        child,
                        log: log_path,
                    };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto could not be started (see the ecp-moto-*.log files in the temp folder)");
    }

    /// SDK clients pointed at this server.
    pub async fn clients(&self) -> Clients {
        Clients::for_endpoint("us-east-1", &self.endpoint).await
    }

    /// Environment for a child process of the product that must reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the server's log only when the test failed.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// moto's default VPC and its subnets.
pub async fn default_vpc(c: &Clients) -> (String, Vec<String>) {
    let vpcs = c.ec2.describe_vpcs().send().await.unwrap();
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.is_default() == Some(true))
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let subnets = c
        .ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    ids.sort();
    ids.truncate(2);
    (vpc, ids)
}

/// Create a bucket.
pub async fn bucket(c: &Clients, name: &str) {
    c.s3.create_bucket().bucket(name).send().await.unwrap();
}

/// POST a JSON body to moto's own API (`/moto-api/...`) on 127.0.0.1.
pub fn moto_api(endpoint: &str, path: &str, body: &str) {
    use std::io::Write as _;
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(
        resp.starts_with("HTTP/1.") && resp[9..12].starts_with('2'),
        "{path}: {resp}"
    );
}
