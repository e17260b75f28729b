//! The memtier_benchmark command line for a workload, exactly as the local target and the ECS tasks
//! run it (JSON + HDR outputs, the five reported percentiles, distinct client seeds), and its
//! display form with the password redacted. Pure.

use crate::config::{Secret, Workload};

/// The fixed percentiles every run prints.
pub const PRINT_PERCENTILES: &str = "50,90,99,99.9,99.99";

/// What one memtier invocation does.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The timed run, in whole seconds.
    Timed(u64),
    /// Prefill: every key of the range once (`--ratio 1:0 --key-pattern P:P --requests allkeys`).
    Prefill,
}

/// One memtier invocation.
#[derive(Clone, Debug)]
pub struct MemtierCommand<'a> {
    /// Server host.
    pub host: &'a str,
    /// Server port.
    pub port: u16,
    /// ACL user.
    pub username: Option<&'a str>,
    /// Password.
    pub password: Option<&'a Secret>,
    /// TLS in transit.
    pub tls: bool,
    /// The workload.
    pub workload: &'a Workload,
    /// Timed or prefill.
    pub mode: Mode,
    /// Prefix of output files (`<dir>/memtier` → `memtier.json`, `memtier_hdr_*`).
    pub out_prefix: &'a str,
}

/// One argument: plain, or the secret (kept apart so that display can redact it).
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A plain argument.
    Plain(String),
    /// `--authenticate=<secret>`.
    Authenticate(Secret),
}

impl MemtierCommand<'_> {
    /// The arguments after the program name.
    pub fn args(&self) -> Vec<Arg> {
        let w = self.workload;
        let mut a: Vec<String> = vec![
            format!("--server={}", self.host),
            format!("--port={}", self.port),
            "--protocol=redis".into(),
        ];
        if self.tls {
            a.push("--tls".into());
        }
        a.push(format!("--threads={}", w.threads));
        a.push(format!("--clients={}", w.clients));
        a.push(format!("--pipeline={}", w.pipeline));
        a.push(format!("--key-minimum={}", w.key_minimum));
        a.push(format!("--key-maximum={}", w.key_maximum));
        a.push(format!("--key-prefix={}", w.key_prefix));
        a.push(format!("--data-size={}", w.data_size));
        match self.mode {
            Mode::Timed(secs) => {
                a.push(format!("--ratio={}:{}", w.ratio_set, w.ratio_get));
                a.push(format!(
                    "--key-pattern={}:{}",
                    w.key_pattern_set.letter(),
                    w.key_pattern_get.letter()
                ));
                a.push(format!("--test-time={secs}"));
            }
            Mode::Prefill => {
                a.push("--ratio=1:0".into());
                a.push("--key-pattern=P:P".into());
                a.push("--requests=allkeys".into());
            }
        }
        a.push("--distinct-client-seed".into());
        a.push(format!("--print-percentiles={PRINT_PERCENTILES}"));
        a.push(format!("--json-out-file={}.json", self.out_prefix));
        a.push(format!("--hdr-file-prefix={}_hdr", self.out_prefix));
        let mut out: Vec<Arg> = a.into_iter().map(Arg::Plain).collect();
        if let Some(pw) = self.password {
            let v = match self.username {
                Some(u) => format!("{u}:{}", pw.expose()),
                None => pw.expose().to_string(),
            };
            out.insert(2, Arg::Authenticate(Secret::new(v)));
        }
        out
    }

    /// The real argument strings (contain the password: pass to the process only).
    pub fn argv(&self) -> Vec<String> {
        self.args()
            .into_iter()
            .map(|a| match a {
                Arg::Plain(s) => s,
                Arg::Authenticate(s) => format!("--authenticate={}", s.expose()),
            })
            .collect()
    }

    /// The command line for people and logs, password redacted.
    pub fn display(&self) -> String {
        let mut s = String::from("memtier_benchmark");
        for a in self.args() {
            s.push(' ');
            match a {
                Arg::Plain(p) => s.push_str(&p),
                Arg::Authenticate(_) => s.push_str("--authenticate=***"),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeyPattern;

    fn workload() -> Workload {
        Workload {
            threads: 2,
            clients: 5,
            pipeline: 1,
            ratio_set: 1,
            ratio_get: 10,
            key_pattern_set: KeyPattern::Random,
            key_pattern_get: KeyPattern::Random,
            key_minimum: 0,
            key_maximum: 1000,
            key_prefix: "memtier-".into(),
            data_size: 100,
        }
    }

    #[test]
    fn password_is_passed_but_never_displayed() {
        let w = workload();
        let pw = Secret::new("hunter2");
        let c = MemtierCommand {
            host: "127.0.0.1",
            port: 6379,
            username: Some("bob"),
            password: Some(&pw),
            tls: false,
            workload: &w,
            mode: Mode::Timed(30),
            out_prefix: "/tmp/t/memtier",
        };
        assert!(c.argv().contains(&"--authenticate=bob:hunter2".to_string()));
        let shown = c.display();
        assert!(
            !shown.contains("hunter2") && shown.contains("--authenticate=***"),
            "{shown}"
        );
        for want in [
            "--test-time=30",
            "--distinct-client-seed",
            "--print-percentiles=50,90,99,99.9,99.99",
            "--json-out-file=/tmp/t/memtier.json",
            "--hdr-file-prefix=/tmp/t/memtier_hdr",
            "--ratio=1:10",
        ] {
            assert!(shown.contains(want), "{want} missing from {shown}");
        }
    }

    #[test]
    fn prefill_writes_every_key_once() {
        let w = workload();
        let c = MemtierCommand {
            host: "h",
            port: 1,
            username: None,
            password: None,
            tls: true,
            workload: &w,
            mode: Mode::Prefill,
            out_prefix: "p",
        };
        let argv = c.argv();
        for want in [
            "--ratio=1:0",
            "--key-pattern=P:P",
            "--requests=allkeys",
            "--tls",
        ] {
            assert!(argv.contains(&want.to_string()), "{want}");
        }
        assert!(!argv.iter().any(|a| a.starts_with("--test-time")));
    }
}
