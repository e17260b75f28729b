//! The load generator's settings ([`LoadgenConfig`]), memtier's defaults, their validation, and the
//! parsing of memtier-style `SET:GET` strings.

use std::fmt;
use std::time::Duration;

use super::keys::KeyPattern;
use crate::client::Workload;
pub use crate::config::ConfigError;

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
    /// Task groups (memtier's `--threads`).
    pub threads: u32,
    /// Connections per thread (memtier's `--clients`).
    pub clients: u32,
    /// Requests in flight per connection (memtier's `--pipeline`).
    pub pipeline: u32,
    /// SETs per cycle (memtier's `--ratio` left side).
    pub ratio_set: u32,
    /// GETs per cycle (memtier's `--ratio` right side).
    pub ratio_get: u32,
    /// Key pattern of SETs.
    pub key_pattern_set: KeyPattern,
    /// Key pattern of GETs.
    pub key_pattern_get: KeyPattern,
    /// Lowest key index (inclusive).
    pub key_minimum: u64,
    /// Highest key index (inclusive).
    pub key_maximum: u64,
    /// Key name prefix.
    pub key_prefix: String,
    /// Value size of SETs in bytes.
    pub data_size: usize,
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
            threads: 4,
            clients: 50,
            pipeline: 1,
            ratio_set: 1,
            ratio_get: 10,
            key_pattern_set: KeyPattern::Random,
            key_pattern_get: KeyPattern::Random,
            key_minimum: 0,
            key_maximum: 10_000_000,
            key_prefix: "memtier-".into(),
            data_size: 32,
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
            .field("threads", &self.threads)
            .field("clients", &self.clients)
            .field("pipeline", &self.pipeline)
            .field(
                "ratio",
                &format_args!("{}:{}", self.ratio_set, self.ratio_get),
            )
            .field(
                "key_pattern",
                &format_args!("{}:{}", self.key_pattern_set, self.key_pattern_get),
            )
            .field("key_minimum", &self.key_minimum)
            .field("key_maximum", &self.key_maximum)
            .field("key_prefix", &self.key_prefix)
            .field("data_size", &self.data_size)
            .field("stop", &self.stop)
            .field("connect_timeout", &self.connect_timeout)
            .field("seed", &self.seed)
            .finish()
    }
}

impl LoadgenConfig {
    /// All connections: threads × clients.
    pub fn connections(&self) -> u64 {
        u64::from(self.threads) * u64::from(self.clients)
    }

    /// Check every field and the combinations between them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(err("host", "an empty string", "a host name or address"));
        }
        if self.port == 0 {
            return Err(err("port", 0, "between 1 and 65535"));
        }
        at_least_one("threads", u64::from(self.threads))?;
        at_least_one("clients", u64::from(self.clients))?;
        at_least_one("pipeline", u64::from(self.pipeline))?;
        if self.pipeline > MAX_PIPELINE {
            return Err(err(
                "pipeline",
                self.pipeline,
                format!("at most {MAX_PIPELINE}"),
            ));
        }
        if self.connections() > MAX_CONNECTIONS {
            return Err(err(
                "clients",
                format!(
                    "{} threads × {} clients = {}",
                    self.threads,
                    self.clients,
                    self.connections()
                ),
                format!(
                    "at most {MAX_CONNECTIONS} connections in all; run several generators instead"
                ),
            ));
        }
        if self.ratio_set == 0 && self.ratio_get == 0 {
            return Err(err(
                "ratio",
                "0:0",
                "SET:GET with at least one side above 0",
            ));
        }
        if self.key_maximum < self.key_minimum {
            return Err(err(
                "key_maximum",
                self.key_maximum,
                format!("at least key_minimum ({})", self.key_minimum),
            ));
        }
        let uses_parallel = (self.ratio_set > 0 && self.key_pattern_set == KeyPattern::Parallel)
            || (self.ratio_get > 0 && self.key_pattern_get == KeyPattern::Parallel);
        let range = u128::from(self.key_maximum - self.key_minimum) + 1;
        if uses_parallel && range < u128::from(self.connections()) {
            return Err(err(
                "key_maximum",
                self.key_maximum,
                format!(
                    "such that the key range holds at least one key per connection for pattern P \
                     ({} connections, range {range})",
                    self.connections()
                ),
            ));
        }
        if self.data_size == 0 || self.data_size > MAX_DATA_SIZE {
            return Err(err(
                "data_size",
                self.data_size,
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
    pub fn workload(&self) -> Workload {
        let (test_time_secs, requests) = match self.stop {
            Stop::Duration(d) => (Some(d.as_secs()), None),
            Stop::Requests(n) => (None, Some(n)),
        };
        Workload {
            server: Some(self.host.clone()),
            port: Some(u64::from(self.port)),
            threads: Some(u64::from(self.threads)),
            clients: Some(u64::from(self.clients)),
            pipeline: Some(u64::from(self.pipeline)),
            ratio: Some(format!("{}:{}", self.ratio_set, self.ratio_get)),
            key_pattern: Some(format!("{}:{}", self.key_pattern_set, self.key_pattern_get)),
            key_minimum: Some(self.key_minimum),
            key_maximum: Some(self.key_maximum),
            data_size: Some(self.data_size as u64),
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

/// Parse memtier's `--ratio` (`SET:GET`, e.g. `1:10`).
pub fn parse_ratio(s: &str) -> Result<(u32, u32), ConfigError> {
    let bad = || err("ratio", s, "SET:GET with two whole numbers, e.g. 1:10");
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a = a.trim().parse().map_err(|_| bad())?;
    let b = b.trim().parse().map_err(|_| bad())?;
    Ok((a, b))
}

/// Parse memtier's `--key-pattern` (`SET:GET` letters, e.g. `R:R`, `P:P`).
pub fn parse_key_pattern(s: &str) -> Result<(KeyPattern, KeyPattern), ConfigError> {
    let bad = || {
        err(
            "key_pattern",
            s,
            "SET:GET letters from R (random), S (sequential), P (parallel), G (gaussian), e.g. R:R",
        )
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let one = |x: &str| {
        let mut cs = x.trim().chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => KeyPattern::from_letter(c),
            _ => None,
        }
    };
    Ok((one(a).ok_or_else(bad)?, one(b).ok_or_else(bad)?))
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
        let cfg = LoadgenConfig {
            pipeline: 0,
            ..LoadgenConfig::default()
        };
        let e = cfg.validate().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("input 'pipeline' must be at least 1; got '0'")
        );
        let cfg = LoadgenConfig {
            ratio_set: 0,
            ratio_get: 0,
            ..LoadgenConfig::default()
        };
        assert_eq!(cfg.validate().map_err(|e| e.input), Err("ratio"));
        let cfg = LoadgenConfig {
            key_pattern_set: KeyPattern::Parallel,
            key_minimum: 1,
            key_maximum: 10,
            ..LoadgenConfig::default()
        };
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
        let w = serde_json::to_string(&cfg.workload()).unwrap_or_default();
        assert!(
            !w.contains("hunter2") && w.contains("\"authenticated\":true"),
            "{w}"
        );
    }

    #[test]
    fn parses_memtier_strings() {
        assert_eq!(parse_ratio("1:10"), Ok((1, 10)));
        assert_eq!(parse_ratio("0:1"), Ok((0, 1)));
        assert!(parse_ratio("abc").is_err());
        assert!(parse_ratio("1:-1").is_err());
        assert_eq!(
            parse_key_pattern("P:r"),
            Ok((KeyPattern::Parallel, KeyPattern::Random))
        );
        assert!(parse_key_pattern("Z:R").is_err());
        assert!(parse_key_pattern("RR").is_err());
    }
}
