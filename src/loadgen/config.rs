//! The load generator's settings ([`LoadgenConfig`]), memtier's defaults, their validation, and the
//! parsing of memtier-style `SET:GET` strings.

use std::fmt;
use std::time::Duration;

use super::keys::KeyPattern;
use crate::client::Workload as Recorded;
pub use crate::error::ConfigError;
use crate::workload::Workload;

/// When a run stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After this much time (memtier's `--test-time`); in-flight replies are still awaited briefly.
    Duration(Duration),
    /// After this many requests on each connection (memtier's `--requests`).
    Requests(u64),
}

/// A setting error naming the input, the value given and what is allowed.
fn err(input: &'static str, value: impl fmt::Display, allowed: impl Into<String>) -> ConfigError {
    ConfigError::new(
        input,
        value.to_string(),
        format!("must be {}", allowed.into()),
    )
}

/// Most connections one generator opens (threads × clients); beyond this, run several generators.
pub const MAX_CONNECTIONS: u64 = 65_536;
/// Most requests kept in flight per connection.
pub const MAX_PIPELINE: u32 = 65_536;
/// Largest value, as Redis' `proto-max-bulk-len` default.
pub const MAX_DATA_SIZE: usize = super::resp::MAX_BULK_LEN;

/// Everything one built-in load generator run needs. Field meanings follow memtier's flags.
#[derive(Clone)]
pub struct LoadgenConfig {
    /// Task id written into the result.
    pub id: String,
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// ACL user for `AUTH user password` (requires `password`).
    pub username: Option<String>,
    /// Password for `AUTH`; never printed (see the manual `Debug`).
    pub password: Option<String>,
    /// What it does (memtier's `--threads`, `--clients`, `--pipeline`, `--ratio`, `--key-pattern`,
    /// `--key-minimum`, `--key-maximum`, `--key-prefix`, `--data-size`).
    pub workload: Workload,
    /// When to stop.
    pub stop: Stop,
    /// Limit on connecting and on the AUTH reply, per connection.
    pub connect_timeout: Duration,
    /// Seed of the key choice (each connection derives its own stream from it).
    pub seed: u64,
}

impl Default for LoadgenConfig {
    /// memtier 2.3.0's defaults, except a 10 s duration instead of 10000 requests per client.
    fn default() -> Self {
        Self {
            id: "builtin-1".into(),
            host: "127.0.0.1".into(),
            port: 6379,
            username: None,
            password: None,
            workload: Workload::default(),
            stop: Stop::Duration(Duration::from_secs(10)),
            connect_timeout: Duration::from_secs(5),
            seed: 0x5EED,
        }
    }
}

impl fmt::Debug for LoadgenConfig {
    // Written by hand so that the password can never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadgenConfig")
            .field("id", &self.id)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("workload", &self.workload)
            .field("stop", &self.stop)
            .field("connect_timeout", &self.connect_timeout)
            .field("seed", &self.seed)
            .finish()
    }
}

impl LoadgenConfig {
    /// All connections: threads × clients.
    pub fn connections(&self) -> u64 {
        self.workload.connections()
    }

    /// Check every field and the combinations between them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(err("host", "an empty string", "a host name or address"));
        }
        if self.port == 0 {
            return Err(err("port", 0, "between 1 and 65535"));
        }
        at_least_one("threads", u64::from(self.workload.threads))?;
        at_least_one("clients", u64::from(self.workload.clients))?;
        at_least_one("pipeline", u64::from(self.workload.pipeline))?;
        if self.workload.pipeline > MAX_PIPELINE {
            return Err(err(
                "pipeline",
                self.workload.pipeline,
                format!("at most {MAX_PIPELINE}"),
            ));
        }
        if self.connections() > MAX_CONNECTIONS {
            return Err(err(
                "clients",
                format!(
                    "{} threads × {} clients = {}",
                    self.workload.threads,
                    self.workload.clients,
                    self.connections()
                ),
                format!(
                    "at most {MAX_CONNECTIONS} connections in all; run several generators instead"
                ),
            ));
        }
        if self.workload.ratio_set == 0 && self.workload.ratio_get == 0 {
            return Err(err(
                "ratio",
                "0:0",
                "SET:GET with at least one side above 0",
            ));
        }
        if self.workload.key_maximum < self.workload.key_minimum {
            return Err(err(
                "key_maximum",
                self.workload.key_maximum,
                format!("at least key_minimum ({})", self.workload.key_minimum),
            ));
        }
        let uses_parallel = (self.workload.ratio_set > 0
            && self.workload.key_pattern_set == KeyPattern::Parallel)
            || (self.workload.ratio_get > 0
                && self.workload.key_pattern_get == KeyPattern::Parallel);
        let range = u128::from(self.workload.key_maximum - self.workload.key_minimum) + 1;
        if uses_parallel && range < u128::from(self.connections()) {
            return Err(err(
                "key_maximum",
                self.workload.key_maximum,
                format!(
                    "such that the key range holds at least one key per connection for pattern P \
                     ({} connections, range {range})",
                    self.connections()
                ),
            ));
        }
        if self.workload.data_size == 0
            || usize::try_from(self.workload.data_size).map_or(true, |d| d > MAX_DATA_SIZE)
        {
            return Err(err(
                "data_size",
                self.workload.data_size,
                format!("between 1 and {MAX_DATA_SIZE} bytes"),
            ));
        }
        match self.stop {
            Stop::Duration(d) if d.is_zero() => {
                return Err(err("test_time", "0 s", "at least 1 second"));
            }
            Stop::Requests(0) => return Err(err("requests", 0, "at least 1")),
            _ => {}
        }
        if self.connect_timeout.is_zero() {
            return Err(err("connect_timeout", "0 s", "above 0"));
        }
        if self.username.is_some() && self.password.is_none() {
            return Err(err(
                "username",
                "a user without a password",
                "given together with a password",
            ));
        }
        Ok(())
    }

    /// The workload as recorded in results (never the password).
    pub fn recorded(&self) -> Recorded {
        let (test_time_secs, requests) = match self.stop {
            Stop::Duration(d) => (Some(d.as_secs()), None),
            Stop::Requests(n) => (None, Some(n)),
        };
        Recorded {
            server: Some(self.host.clone()),
            port: Some(u64::from(self.port)),
            threads: Some(u64::from(self.workload.threads)),
            clients: Some(u64::from(self.workload.clients)),
            pipeline: Some(u64::from(self.workload.pipeline)),
            ratio: Some(format!(
                "{}:{}",
                self.workload.ratio_set, self.workload.ratio_get
            )),
            key_pattern: Some(format!(
                "{}:{}",
                self.workload.key_pattern_set, self.workload.key_pattern_get
            )),
            key_minimum: Some(self.workload.key_minimum),
            key_maximum: Some(self.workload.key_maximum),
            data_size: Some(u64::from(self.workload.data_size)),
            test_time_secs,
            requests,
            tls: Some(false),
            authenticated: self.password.is_some().then_some(true),
            protocol: Some("resp2".into()),
        }
    }
}

fn at_least_one(input: &'static str, v: u64) -> Result<(), ConfigError> {
    if v == 0 {
        Err(err(input, 0, "at least 1"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(LoadgenConfig::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_input_value_and_rule() {
        let mut cfg = LoadgenConfig::default();
        cfg.workload.pipeline = 0;
        let e = cfg.validate().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("input 'pipeline' must be at least 1; got '0'")
        );
        let mut cfg = LoadgenConfig::default();
        cfg.workload.ratio_set = 0;
        cfg.workload.ratio_get = 0;
        assert_eq!(cfg.validate().map_err(|e| e.input), Err("ratio"));
        let mut cfg = LoadgenConfig::default();
        cfg.workload.key_pattern_set = KeyPattern::Parallel;
        cfg.workload.key_minimum = 1;
        cfg.workload.key_maximum = 10;
        assert_eq!(cfg.validate().map_err(|e| e.input), Err("key_maximum"));
        let cfg = LoadgenConfig {
            stop: Stop::Requests(0),
            ..LoadgenConfig::default()
        };
        assert_eq!(cfg.validate().map_err(|e| e.input), Err("requests"));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let cfg = LoadgenConfig {
            username: Some("app".into()),
            password: Some("hunter2-secret".into()),
            ..LoadgenConfig::default()
        };
        let d = format!("{cfg:?} {cfg:#?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("<redacted>"));
        let w = serde_json::to_string(&cfg.recorded()).unwrap_or_default();
        assert!(
            !w.contains("hunter2") && w.contains("\"authenticated\":true"),
            "{w}"
        );
    }
}
