//! The verdict on one built-in generator result: ok, degraded or failed, with reasons. Pure.
//! (memtier's verdict lives in `memtier::judge` and reads memtier's outputs; this one only needs
//! the result, because the built-in generator never hides a failure behind exit code 0.)

use crate::client::{ClientResult, JudgedClient, TaskStatus};

/// Share of error replies among all replies above which the result counts as failed.
const FAILED_ERROR_REPLY_SHARE: f64 = 0.5;

/// Judge a built-in generator's result.
pub fn judge(result: ClientResult) -> JudgedClient {
    let mut failed = Vec::new();
    let mut degraded = Vec::new();
    let c = &result;
    let errs = |k: &str| c.error_count(k);
    let replies_in_error = errs("error_reply") + errs("noauth") + errs("auth_failed");
    let replies = c.totals.count + replies_in_error;

    if c.totals.count == 0 {
        let why = if errs("noauth") > 0 {
            "every reply was NOAUTH: the server requires a password and none was given".to_string()
        } else if replies_in_error > 0 {
            format!("every reply was an error, e.g. {}", first_example(c))
        } else if c.interrupted {
            "interrupted before anything completed".to_string()
        } else if c.connection_errors > 0 {
            "the connections failed".to_string()
        } else {
            "nothing ran".to_string()
        };
        failed.push(format!("no operations completed: {why}"));
    } else if replies_in_error > 0 {
        let msg = format!(
            "{replies_in_error} of {replies} replies were errors (not counted as operations), e.g. {}",
            first_example(c)
        );
        if replies_in_error as f64 / replies as f64 >= FAILED_ERROR_REPLY_SHARE {
            failed.push(msg);
        } else {
            degraded.push(msg);
        }
    }
    if failed.is_empty() {
        if c.interrupted {
            degraded.push(format!(
                "interrupted after {:.1} s: results cover only that part",
                c.duration_ms.unwrap_or(0) as f64 / 1000.0
            ));
        }
        let dropped = errs("connection_dropped");
        if dropped > 0 {
            degraded.push(format!(
                "{dropped} connection(s) dropped during the run; what they measured before is kept"
            ));
        }
        let not_opened =
            errs("connection_refused") + errs("connect_timeout") + errs("connection_error");
        if not_opened > 0 {
            degraded.push(format!(
                "{not_opened} connection(s) could not be opened; the load was lower than configured"
            ));
        }
        if errs("protocol_error") > 0 || errs("drain_timeout") > 0 {
            degraded.push(format!(
                "{} protocol error(s), {} connection(s) still waiting for replies at the end",
                errs("protocol_error"),
                errs("drain_timeout")
            ));
        }
    }
    let (status, reasons) = if !failed.is_empty() {
        (TaskStatus::Failed, failed)
    } else if !degraded.is_empty() {
        (TaskStatus::Degraded, degraded)
    } else {
        (TaskStatus::Ok, Vec::new())
    };
    JudgedClient {
        result,
        status,
        reasons,
    }
}

fn first_example(c: &ClientResult) -> String {
    c.errors
        .iter()
        .find(|e| matches!(e.kind.as_str(), "error_reply" | "noauth" | "auth_failed"))
        .map_or_else(String::new, |e| format!("'{}'", e.example))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSource, ErrorCount};

    fn with(count: u64, errors: &[(&str, u64)]) -> ClientResult {
        let mut c = ClientResult::new("t", ClientSource::Builtin);
        c.totals.count = count;
        c.errors = errors
            .iter()
            .map(|(k, n)| ErrorCount {
                kind: (*k).into(),
                count: *n,
                example: format!("-{k}"),
            })
            .collect();
        c
    }

    #[test]
    fn verdicts() {
        assert_eq!(judge(with(100, &[])).status, TaskStatus::Ok);
        assert_eq!(judge(with(0, &[("noauth", 10)])).status, TaskStatus::Failed);
        assert_eq!(
            judge(with(100, &[("error_reply", 1)])).status,
            TaskStatus::Degraded
        );
        assert_eq!(
            judge(with(10, &[("error_reply", 90)])).status,
            TaskStatus::Failed
        );
        let j = judge(with(100, &[("connection_dropped", 4)]));
        assert_eq!(j.status, TaskStatus::Degraded);
        assert!(j.reasons[0].contains("dropped"), "{:?}", j.reasons);
    }
}
