//! Parsers for the inputs with a syntax of their own: durations, ratios and endpoints.

use std::time::Duration;

use super::{ConfigError, Endpoint, KeyPattern, Secret};

/// An optional input: trimmed, `None` when empty.
pub(super) fn opt(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A yes/no input: `true`/`false` (also yes/no, 1/0, on/off, any case). An empty value is
/// `empty` when given, else an error naming the input.
pub fn parse_bool(input: &'static str, v: &str, empty: Option<bool>) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        "" if empty.is_some() => Ok(empty.unwrap_or_default()),
        _ => Err(ConfigError::new(input, v, "must be true or false")),
    }
}

/// Longest test a run accepts.
const MAX_DURATION_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// A duration: a bare number in `unit_secs` units (fractions allowed), or a number with a unit
/// suffix `s`, `m` or `h`. Must be more than zero and at most a week.
pub fn parse_duration(
    input: &'static str,
    v: &str,
    unit_secs: u64,
) -> Result<Duration, ConfigError> {
    let t = v.trim();
    let allowed = "must be a positive number (in minutes for test_duration_minutes, seconds for test_duration_seconds) \
                   or a number with a unit: 30s, 5m, 1h";
    let (num, mult) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, unit_secs as f64),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(input, v, allowed))?;
    let secs = n * mult;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(ConfigError::new(input, v, "must be more than zero"));
    }
    if secs > MAX_DURATION_SECS {
        return Err(ConfigError::new(input, v, "must be at most a week"));
    }
    if secs < 1.0 {
        return Err(ConfigError::new(input, v, "must be at least one second"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `redis://[user:pass@]host:port` (or `host:port`). The value shown in errors never includes the
/// password.
pub fn parse_endpoint(v: &str) -> Result<Endpoint, ConfigError> {
    let rest = v.trim();
    let rest = rest.strip_prefix("redis://").unwrap_or(rest);
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    let shown = match auth {
        Some(_) => format!("redis://***@{hostport}"),
        None => v.trim().to_string(),
    };
    let err = |why: &str| ConfigError::new("endpoint", shown.clone(), why.to_string());
    if rest.starts_with("rediss://") || v.trim().starts_with("rediss://") {
        return Err(err("TLS endpoints (rediss://) are not supported by the local target; use redis://host:port"));
    }
    let hostport = hostport.trim_end_matches('/');
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, p) = h
            .split_once("]:")
            .ok_or_else(|| err("must be redis://[user:pass@]host:port"))?;
        (h, p)
    } else {
        hostport
            .rsplit_once(':')
            .ok_or_else(|| err("must be redis://[user:pass@]host:port"))?
    };
    if host.is_empty() {
        return Err(err("must name a host"));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| err("must end with a port from 1 to 65535"))?;
    let (username, password) = match auth {
        None => (None, None),
        Some(a) => match a.split_once(':') {
            Some((u, p)) => (
                (!u.is_empty()).then(|| u.to_string()),
                (!p.is_empty()).then(|| Secret::new(p)),
            ),
            None => (None, (!a.is_empty()).then(|| Secret::new(a))),
        },
    };
    Ok(Endpoint {
        host: host.to_string(),
        port,
        username,
        password,
    })
}
/// Parse memtier's `--ratio` (`SET:GET`, e.g. `1:10`).
pub fn parse_ratio(s: &str) -> Result<(u32, u32), ConfigError> {
    let bad = || {
        ConfigError::new(
            "ratio",
            s,
            "must be SET:GET with two whole numbers, e.g. 1:10",
        )
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a = a.trim().parse().map_err(|_| bad())?;
    let b = b.trim().parse().map_err(|_| bad())?;
    Ok((a, b))
}

/// Parse memtier's `--key-pattern` (`SET:GET` letters, e.g. `R:R`, `P:P`).
pub fn parse_key_pattern(s: &str) -> Result<(KeyPattern, KeyPattern), ConfigError> {
    let bad = || {
        ConfigError::new(
            "key_pattern",
            s,
            "must be SET:GET letters from R (random), S (sequential), P (parallel), G (gaussian), e.g. R:R",
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
