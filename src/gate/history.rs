//! The run history's layout and reading rules: one object per run under
//! `history/{profile}/{branch}/{start}-{run id}.json` (never read-modify-write, so concurrent runs
//! cannot lose each other's results), the newest N picked by key, and every object checked before
//! use. Pure: the stores in `crate::history` do the I/O.

use crate::results::{RunResult, SCHEMA_ID};

use super::profile::{sanitize, ProfileKey};

/// The top folder of the history in the export bucket.
pub const HISTORY_ROOT: &str = "history";

/// Why a stored object cannot serve as a baseline run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryObjectError {
    /// Not JSON, or JSON that is not a `RunResult`.
    #[error("'{key}' is not a readable results.json ({reason})")]
    Corrupt {
        /// The object's key or path.
        key: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A results document of another schema (or none at all).
    #[error("'{key}' has schema '{schema}', not '{SCHEMA_ID}'")]
    Foreign {
        /// The object's key or path.
        key: String,
        /// The schema it declares.
        schema: String,
    },
}

/// The branch as a single path segment (`feature/x` → `feature_x`).
pub fn branch_segment(branch: &str) -> String {
    sanitize(branch.trim())
}

/// The folder of one profile and branch: `history/{profile}/{branch}/`.
pub fn prefix(profile: &ProfileKey, branch: &str) -> String {
    format!(
        "{HISTORY_ROOT}/{}/{}/",
        profile.slug(),
        branch_segment(branch)
    )
}

/// `2026-11-26T20:30:52.237Z` → `20261126T203052.237Z`: fixed width, so keys sort by time.
fn compact_stamp(rfc3339: &str) -> Option<String> {
    let s: String = rfc3339.chars().filter(|c| *c != '-' && *c != ':').collect();
    let ok = s.len() >= 15
        && s.as_bytes().get(8) == Some(&b'T')
        && s[..8].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(s)
}

/// The key of a run's object: `history/{profile}/{branch}/{start}-{run id}.json`. The start time
/// leads so that a listing sorts oldest first; the run id keeps two runs that started in the same
/// millisecond apart.
pub fn object_key(r: &RunResult, branch: &str) -> String {
    let stamp = r
        .run
        .started_at
        .as_deref()
        .and_then(compact_stamp)
        .unwrap_or_else(|| "00000000T000000Z".into());
    let id = sanitize(r.run.id.as_deref().unwrap_or("unnamed"));
    format!(
        "{}{}-{id}.json",
        prefix(&super::ProfileKey::of(r), branch),
        sanitize(&stamp)
    )
}

/// The keys to read, newest first: the `.json` keys sorted by name (= by start time), reversed.
/// Callers read them in this order until they have N good runs, so a corrupt object costs one
/// extra read instead of a smaller baseline.
pub fn newest_first(mut keys: Vec<String>) -> Vec<String> {
    keys.retain(|k| k.ends_with(".json"));
    keys.sort();
    keys.dedup();
    keys.reverse();
    keys
}

/// Parse and check one stored object.
pub fn parse_run(key: &str, bytes: &[u8]) -> Result<RunResult, HistoryObjectError> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| HistoryObjectError::Corrupt {
            key: key.to_string(),
            reason: e.to_string(),
        })?;
    let schema = v
        .get("schema")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("none");
    if schema != SCHEMA_ID {
        return Err(HistoryObjectError::Foreign {
            key: key.to_string(),
            schema: schema.to_string(),
        });
    }
    serde_json::from_value(v).map_err(|e| HistoryObjectError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// Runs sorted oldest first by their start time (runs without one first), keeping the last `n`.
pub fn last_n_by_start(mut runs: Vec<RunResult>, n: usize) -> Vec<RunResult> {
    runs.sort_by(|a, b| a.run.started_at.cmp(&b.run.started_at));
    let skip = runs.len().saturating_sub(n);
    runs.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testing::nth_run;

    #[test]
    fn keys_follow_the_layout_and_sort_by_time() {
        let a = nth_run(1, &[1.0], &[1.0]);
        let b = nth_run(2, &[1.0], &[1.0]);
        let ka = object_key(&a, "main");
        let kb = object_key(&b, "feature/x");
        let slug = ProfileKey::of(&a).slug();
        assert_eq!(
            ka,
            format!("history/{slug}/main/20010909T020100.000Z-run-001.json")
        );
        assert!(kb.starts_with(&format!("history/{slug}/feature_x/")));
        let mut b_main = object_key(&b, "main");
        assert!(ka < b_main);
        b_main.push('x'); // not .json
        let order = newest_first(vec![ka.clone(), object_key(&b, "main"), b_main, ka.clone()]);
        assert_eq!(order, vec![object_key(&b, "main"), ka]);
    }

    #[test]
    fn corrupt_and_foreign_objects_are_told_apart() {
        assert!(matches!(
            parse_run("k", b"{not json"),
            Err(HistoryObjectError::Corrupt { .. })
        ));
        let foreign = parse_run("k", br#"{"schema": "something/else", "x": 1}"#).unwrap_err();
        assert_eq!(
            foreign,
            HistoryObjectError::Foreign {
                key: "k".into(),
                schema: "something/else".into()
            }
        );
        assert!(matches!(
            parse_run("k", br#"{"schema": "elasticache-perf/result/v1"}"#),
            Err(HistoryObjectError::Corrupt { .. })
        ));
        let good = serde_json::to_vec(&nth_run(3, &[5.0], &[1.0])).unwrap();
        assert_eq!(
            parse_run("k", &good).unwrap().run.id.as_deref(),
            Some("run-003")
        );
    }

    #[test]
    fn last_n_keeps_the_newest() {
        let runs: Vec<_> = [3, 1, 2, 0]
            .iter()
            .map(|&i| nth_run(i, &[1.0], &[1.0]))
            .collect();
        let kept = last_n_by_start(runs, 2);
        let ids: Vec<_> = kept.iter().map(|r| r.run.id.clone().unwrap()).collect();
        assert_eq!(ids, vec!["run-002", "run-003"]);
    }
}
