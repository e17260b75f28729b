//! The profile key in a PR comment's marker, so that the runs of a matrix (other engine, workload
//! or task count) each keep their own comment while re-runs of one profile update theirs. Pure.
//!
//! The key is the gate's profile key (`gate::ProfileKey`: engine, version, node type, topology,
//! workload, task count, load generator), shortened to a few readable parts and its fingerprint,
//! and made safe inside an HTML comment. A `profile` input overrides the derived key.

use crate::error::ConfigError;
use crate::gate::ProfileKey;
use crate::results::RunResult;

/// Longest accepted `profile` input.
pub const MAX_PROFILE_CHARS: usize = 100;

/// Check a user-given profile key: it goes into an HTML comment, so only a safe alphabet, and no
/// `--` (which would end the comment early).
pub fn validate(input: &str) -> Result<String, ConfigError> {
    let p = input.trim();
    let ok = !p.is_empty()
        && p.chars().count() <= MAX_PROFILE_CHARS
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '=' | ':' | '/' | '-'))
        && !p.contains("--");
    if ok {
        Ok(p.to_string())
    } else {
        Err(ConfigError::new(
            "profile",
            input,
            format!("must be 1 to {MAX_PROFILE_CHARS} letters, digits or . _ = : / - (no '--')"),
        ))
    }
}

fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

/// The key of a run: readable parts (engine version, load generator, task count) and a hash of
/// every field, e.g. `redis-7.0.15.builtin.x1.6c1f09a2`.
pub fn derive(r: &RunResult) -> String {
    let k = ProfileKey::of(r);
    let version = if k.engine_version == "unknown" {
        &k.engine
    } else {
        &k.engine_version
    };
    let readable = sanitize(&format!("{version}.{}.x{}", k.load_generator, k.task_count));
    let mut head: String = readable.chars().take(60).collect();
    if head.is_empty() {
        head = "run".into();
    }
    format!("{head}.{:08x}", k.fingerprint())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(details: serde_json::Value, workload: serde_json::Value, tasks: usize) -> RunResult {
        let mut r: RunResult = serde_json::from_value(json!({
            "schema": "elasticache-perf/result/v1",
            "tool": {"name": "elasticache-perf", "version": "0"},
            "status": "ok",
            "run": {"target": "local", "task_count": tasks},
            "whole_run": {"total": {"count": 0, "ops_per_sec": null, "hits_per_sec": null,
                "misses_per_sec": null, "kb_per_sec": null, "latency_ms": {}},
                "commands": {}, "latency_exact": true},
            "steady_state": {"window": {"start": null, "end": null, "start_unix_ms": null,
                "end_unix_ms": null, "duration_secs": null, "warmup_secs": 0,
                "rampdown_secs": 0, "method": "x"}, "latency_scope": "window",
                "total": {"count": 0, "ops_per_sec": null, "hits_per_sec": null,
                "misses_per_sec": null, "kb_per_sec": null, "latency_ms": {}}, "commands": {}},
            "series": [], "tasks": [], "histograms": {}, "notes": []
        }))
        .unwrap();
        r.run.details = serde_json::from_value(details).unwrap();
        r.run.workload = Some(workload);
        r
    }

    #[test]
    fn same_profile_same_key_whatever_the_port_or_duration() {
        let d = json!({"engine": "redis", "engine_version": "redis 7.0.15", "load_generator": "builtin"});
        let a = result(
            d.clone(),
            json!({"threads": 2, "clients": 4, "port": 1, "test_time_secs": 8}),
            1,
        );
        let b = result(
            d,
            json!({"threads": 2, "clients": 4, "port": 2, "test_time_secs": 60}),
            1,
        );
        assert_eq!(derive(&a), derive(&b));
        assert!(
            derive(&a).starts_with("redis-7.0.15.builtin.x1."),
            "{}",
            derive(&a)
        );
    }

    #[test]
    fn other_workload_engine_or_task_count_other_key() {
        let d = json!({"engine": "redis", "engine_version": "redis 7.0.15", "load_generator": "builtin"});
        let base = derive(&result(d.clone(), json!({"clients": 4}), 1));
        assert_ne!(base, derive(&result(d.clone(), json!({"clients": 8}), 1)));
        assert_ne!(base, derive(&result(d, json!({"clients": 4}), 2)));
        let v = json!({"engine": "valkey", "engine_version": "redis 7.0.15", "load_generator": "builtin"});
        assert_ne!(base, derive(&result(v, json!({"clients": 4}), 1)));
    }

    #[test]
    fn hostile_details_cannot_break_the_marker() {
        let d = json!({"engine": "--> <b>", "engine_version": "a--b -->", "load_generator": "x"});
        let k = derive(&result(d, json!({}), 1));
        assert!(
            !k.contains("--") && !k.contains('>') && !k.contains(' '),
            "{k}"
        );
    }

    #[test]
    fn profile_input_is_checked() {
        assert_eq!(validate(" redis7/large ").unwrap(), "redis7/large");
        for bad in ["", "a--b", "a b", "x-->", &"a".repeat(101)] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}
