//! The verdict on one load generator: ok, degraded or failed, with reasons a person understands.
//! memtier exits 0 on most failures, so the verdict comes from what the outputs say.

use super::{Evidence, JsonState};
use crate::client::{ClientResult, ClientSource, TaskStatus};

/// Share of error replies among all operations above which a task counts as failed.
const FAILED_ERROR_REPLY_SHARE: f64 = 0.5;
/// A run shorter than this share of its configured time (and not said to be interrupted) is degraded.
const SHORT_RUN_SHARE: f64 = 0.9;

/// Judge a client result. Pure.
pub fn judge(c: &ClientResult, ev: &Evidence) -> (TaskStatus, Vec<String>) {
    let mut failed: Vec<String> = Vec::new();
    let mut degraded: Vec<String> = Vec::new();
    stopped_with_an_error(c, &mut failed);
    no_results(c, ev, &mut failed);
    error_replies(c, &mut failed, &mut degraded);
    if failed.is_empty() {
        degradations(c, ev, &mut degraded);
    }

    if !failed.is_empty() {
        (TaskStatus::Failed, failed)
    } else if !degraded.is_empty() {
        (TaskStatus::Degraded, degraded)
    } else {
        (TaskStatus::Ok, Vec::new())
    }
}

/// Failures that stopped memtier: authentication refused, a fatal error.
fn stopped_with_an_error(c: &ClientResult, failed: &mut Vec<String>) {
    let errs = |k: &str| c.error_count(k);
    if errs("auth_failed") > 0 {
        failed.push(format!(
            "authentication failed ({} connection(s) refused the password): no traffic was sent",
            errs("auth_failed")
        ));
    }
    if errs("fatal") > 0 {
        let ex = c
            .errors
            .iter()
            .find(|e| e.kind == "fatal")
            .map_or("", |e| e.example.as_str());
        failed.push(format!("memtier stopped with an error: {ex}"));
    }
}

/// Failures that left no results: no summary (and why: a signal, a kill, an exit code, a truncated
/// or unreadable JSON, an empty stdout), or a summary without a single operation (and why).
fn no_results(c: &ClientResult, ev: &Evidence, failed: &mut Vec<String>) {
    let errs = |k: &str| c.error_count(k);
    if !ev.has_summary {
        let why = match c.exit_code {
            Some(143) => {
                "it was terminated by SIGTERM (exit 143) and writes its summary only at the end"
                    .to_string()
            }
            Some(137) => "it was killed (exit 137), e.g. by a timeout after hanging".to_string(),
            Some(code) if code != 0 => format!("it exited with code {code}"),
            _ => "its output ends before the summary".to_string(),
        };
        let what = match ev.json {
            JsonState::Truncated => {
                "no results: the JSON is truncated and there is no summary table, because "
            }
            JsonState::Invalid(_) => {
                "no results: the JSON is unreadable and there is no summary table, because "
            }
            _ if ev.stdout_empty => "no results: stdout is empty, because ",
            _ => "no results, because ",
        };
        failed.push(format!("{what}{why}"));
        if c.source == ClientSource::MemtierProgress && c.totals.count > 0 {
            failed.push(format!(
                "progress lines show {} operations before it stopped; they are not counted",
                c.totals.count
            ));
        }
    } else if c.totals.count == 0 {
        let why = if errs("connection_refused") > 0 {
            format!(
                "could not connect to the server (connection refused, {} attempt(s))",
                errs("connection_refused")
            )
        } else if errs("tls_error") > 0 {
            "the TLS handshake failed".to_string()
        } else if errs("connection_dropped") > 0 {
            "the server went away (connection dropped) and memtier discarded the traffic counted before \
             restarting its threads"
                .to_string()
        } else if errs("connection_error") > 0 {
            "connection errors".to_string()
        } else {
            "nothing ran".to_string()
        };
        failed.push(format!("no operations completed: {why}"));
    }
}

/// Error replies: a failure when they are at least half of the replies, else a degradation.
fn error_replies(c: &ClientResult, failed: &mut Vec<String>, degraded: &mut Vec<String>) {
    let errs = |k: &str| c.error_count(k);
    let error_replies = errs("noauth") + errs("error_reply");
    if error_replies > 0 && c.totals.count > 0 {
        let share = error_replies as f64 / c.totals.count as f64;
        let what = if errs("noauth") > 0 {
            "NOAUTH: the server requires a password and none was given"
        } else {
            "error replies"
        };
        let msg = format!(
            "{error_replies} of {} replies were errors ({what}); memtier counts them as completed operations",
            c.totals.count
        );
        if share >= FAILED_ERROR_REPLY_SHARE {
            failed.push(msg);
        } else {
            degraded.push(msg);
        }
    }
}

/// What degrades results that are there: an interrupted or short run, connection problems, TLS
/// errors, a non-zero exit, a JSON that could not be read.
fn degradations(c: &ClientResult, ev: &Evidence, degraded: &mut Vec<String>) {
    let errs = |k: &str| c.error_count(k);
    if c.interrupted {
        let secs = c.duration_ms.map(|ms| ms as f64 / 1000.0);
        degraded.push(match (secs, ev.configured_secs) {
            (Some(s), Some(t)) => {
                format!("interrupted after {s:.1} s of a {t} s run: results cover only that part")
            }
            (Some(s), None) => {
                format!("interrupted after {s:.1} s: results cover only that part")
            }
            _ => "interrupted: results cover only part of the run".to_string(),
        });
    } else if let (Some(ms), Some(t)) = (c.duration_ms, ev.configured_secs) {
        if (ms as f64) < SHORT_RUN_SHARE * 1000.0 * t as f64 {
            degraded.push(format!(
                "ran {:.1} s of the configured {t} s",
                ms as f64 / 1000.0
            ));
        }
    }
    let restarts = errs("thread_restart");
    let dropped =
        errs("connection_dropped") + errs("connection_refused") + errs("connection_error");
    if restarts > 0 || dropped > 0 || errs("reconnected") > 0 {
        let mut msg =
            format!("connection problems during the run ({dropped} connection error line(s)");
        if restarts > 0 {
            msg.push_str(&format!(
                ", {restarts} thread restart(s): memtier discards a thread's counts when it restarts it, \
                 so the results cover only part of the run"
            ));
        }
        if errs("reconnected") > 0 {
            msg.push_str(&format!(", {} reconnect(s)", errs("reconnected")));
        }
        msg.push(')');
        degraded.push(msg);
    } else if c.connection_errors > 0 {
        degraded.push(format!(
            "{} connection error(s) counted by memtier",
            c.connection_errors
        ));
    }
    if errs("tls_error") > 0 {
        degraded.push(format!("{} TLS error line(s)", errs("tls_error")));
    }
    if let Some(code) = c.exit_code.filter(|&c| c != 0) {
        degraded.push(format!(
            "memtier exited with code {code} although it wrote results"
        ));
    }
    if matches!(ev.json, JsonState::Truncated | JsonState::Invalid(_)) {
        degraded.push(
            "the JSON is unreadable: numbers come from the stdout table (no histograms)".into(),
        );
    }
}
