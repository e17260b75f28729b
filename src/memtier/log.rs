//! memtier's stderr (or a combined log): per-second progress lines (split on `\r`) and error lines,
//! classified into kinds a person can read.

use std::sync::OnceLock;

use regex::Regex;

use crate::client::ErrorCount;

/// One progress update (`[RUN #1 13%,   1 secs] … ops/sec … msec latency`).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Run number.
    pub run: u32,
    /// Percent complete (can exceed 100 when memtier hangs).
    pub percent: u32,
    /// Seconds (the average client duration: may repeat or skip).
    pub secs: u32,
    /// Threads still running.
    pub threads: u32,
    /// Cumulative operations.
    pub ops: u64,
    /// Ops/s over the last second.
    pub ops_per_sec: u64,
    /// Mean latency over the last second, ms (`None` for `-nan`).
    pub latency_ms: Option<f64>,
}

/// What a log says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSummary {
    /// Progress updates in order.
    pub progress: Vec<Progress>,
    /// Error kinds with counts, in order of first appearance.
    pub errors: Vec<ErrorCount>,
    /// Whether memtier said it was interrupted.
    pub interrupted: bool,
    /// Whether any memtier status line was seen (the text looks like memtier's stderr).
    pub looks_like_memtier: bool,
}

fn progress_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        #[allow(clippy::unwrap_used)] // a constant pattern
        Regex::new(
            r"\[RUN #(\d+) +(\d+)%, +(\d+) secs\] +(\d+) threads +\d+ conns(?: \d+ conn errors)?: +(\d+) ops, +(\d+) \(avg: +\d+\) ops/sec, [^,]+, +(-?[\d.]+|-?nan) \(avg:",
        )
        .unwrap()
    })
}

/// The kind of an error line, or `None` for a line that is not an error.
pub fn classify(line: &str) -> Option<&'static str> {
    let l = line.trim();
    if l.is_empty() {
        return None;
    }
    let kind = if l.contains("authentication failed") || l.contains("-WRONGPASS") {
        "auth_failed"
    } else if l.contains("-NOAUTH") {
        "noauth"
    } else if l.contains("handle error response") {
        "error_reply"
    } else if l.starts_with("TLS connection error") || l.contains("SSL") && l.contains("error") {
        "tls_error"
    } else if l.starts_with("Connection error: Connection refused") {
        "connection_refused"
    } else if l.starts_with("Connection error:") {
        "connection_error"
    } else if l.starts_with("connection dropped") || l.starts_with("Connection dropped") {
        "connection_dropped"
    } else if l.starts_with("Reconnection successful") {
        "reconnected"
    } else if l.starts_with("Restarting thread") {
        "thread_restart"
    } else if l.contains("Interrupted by user") {
        "interrupted"
    } else if l.contains("Name or service not known")
        || l.contains("unrecognized option")
        || l.starts_with("error:")
    {
        "fatal"
    } else {
        return None;
    };
    Some(kind)
}

/// Parse stderr or a combined log.
pub fn parse(text: &str) -> LogSummary {
    scan(text, true)
}

/// Like [`parse`], but progress lines are only recognised, not read (`progress` stays empty). For
/// when the JSON already holds the per-second series: the progress regex is most of the cost of
/// reading a long run's stderr (one line per second), while errors must still be found.
pub fn parse_errors(text: &str) -> LogSummary {
    scan(text, false)
}

fn scan(text: &str, read_progress: bool) -> LogSummary {
    let mut out = LogSummary::default();
    for raw in text.split(['\n', '\r']) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("[RUN #") {
            out.looks_like_memtier = true;
            let captures = if read_progress {
                progress_re().captures(line)
            } else {
                None
            };
            if let Some(c) = captures {
                let n = |i: usize| c.get(i).map_or("", |m| m.as_str());
                out.progress.push(Progress {
                    run: n(1).parse().unwrap_or(0),
                    percent: n(2).parse().unwrap_or(0),
                    secs: n(3).parse().unwrap_or(0),
                    threads: n(4).parse().unwrap_or(0),
                    ops: n(5).parse().unwrap_or(0),
                    ops_per_sec: n(6).parse().unwrap_or(0),
                    latency_ms: n(7).parse().ok().filter(|v: &f64| v.is_finite()),
                });
            }
            if line.contains("Interrupted by user") {
                out.interrupted = true;
                add(&mut out.errors, "interrupted", line);
            }
            continue;
        }
        if line.starts_with("Writing results to") || line.starts_with("Json file") {
            out.looks_like_memtier = true;
        }
        if let Some(kind) = classify(line) {
            add(&mut out.errors, kind, line);
        }
    }
    out
}

fn add(errors: &mut Vec<ErrorCount>, kind: &str, line: &str) {
    if let Some(e) = errors.iter_mut().find(|e| e.kind == kind) {
        e.count += 1;
        return;
    }
    let mut example: String = line.trim().chars().take(200).collect();
    if example.len() < line.trim().len() {
        example.push('…');
    }
    errors.push(ErrorCount {
        kind: kind.to_string(),
        count: 1,
        example,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_documented_lines() {
        assert_eq!(
            classify("Connection error: Connection refused"),
            Some("connection_refused")
        );
        assert_eq!(classify("connection dropped."), Some("connection_dropped"));
        assert_eq!(
            classify("error: authentication failed [-WRONGPASS invalid username-password pair or user is disabled.]"),
            Some("auth_failed")
        );
        assert_eq!(
            classify(
                "server 127.0.0.1:6391 handle error response: -NOAUTH Authentication required."
            ),
            Some("noauth")
        );
        assert_eq!(
            classify("TLS connection error: certificate verify failed"),
            Some("tls_error")
        );
        assert_eq!(
            classify("Restarting thread 0 (restart #1)..."),
            Some("thread_restart")
        );
        assert_eq!(classify("[RUN #1] Launching threads now..."), None);
    }

    #[test]
    fn parse_errors_is_parse_without_progress() {
        let logs = [
            include_str!("../../tests/fixtures/memtier/long/stderr.txt"),
            include_str!("../../tests/fixtures/memtier/failure/interrupted-sigint/stderr.txt"),
            include_str!("../../tests/fixtures/memtier/failure/noauth/stderr.txt"),
            include_str!(
                "../../tests/fixtures/memtier/failure/server-restarted-reconnect/stderr.txt"
            ),
            include_str!("../../tests/fixtures/memtier/failure/wrong-password/stderr.txt"),
            include_str!("../../tests/fixtures/memtier/single-combined/combined.txt"),
        ];
        for text in logs {
            let full = parse(text);
            assert!(!full.progress.is_empty());
            let errors_only = parse_errors(text);
            assert_eq!(
                errors_only,
                LogSummary {
                    progress: Vec::new(),
                    ..full
                }
            );
        }
    }

    #[test]
    fn reads_progress_with_conn_errors_and_nan() {
        let l = "[RUN #1 180%,   9 secs]  2 threads  4 conns 3 conn errors:           0 ops,       0 (avg:       0) ops/sec, 0.00KB/sec (avg: 0.00KB/sec), -nan (avg:  -nan) msec latency\r";
        let s = parse(l);
        assert_eq!(s.progress.len(), 1);
        assert_eq!(s.progress[0].percent, 180);
        assert_eq!(s.progress[0].latency_ms, None);
    }
}
