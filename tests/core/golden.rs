//! `results.json` byte for byte. The memtier fixtures analysed (every scenario, the failures
//! included) and `results.json` files written by runs (local and AWS shapes, with every run detail
//! and status the product writes, plus a detail it does not know) read and written back equal the
//! committed files under `tests/golden/`. A change there is a change of the format that every
//! stored history and baseline carries: `UPDATE_GOLDEN=1` rewrites them, and the diff is reviewed.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use elasticache_perf::analyze::{analyze, AnalyzeRequest};
use elasticache_perf::results::RunResult;
use elasticache_perf::stats::window::WindowSpec;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The memtier scenarios: each a task folder or a parent of several.
const SCENARIOS: &[&str] = &[
    "single",
    "single-combined",
    "multi",
    "cluster",
    "long",
    "prefill",
    "tls-or-auth/auth",
    "tls-or-auth/tls-auth",
    "failure/conn-refused",
    "failure/interrupted-sigint",
    "failure/noauth",
    "failure/server-killed",
    "failure/server-restarted-reconnect",
    "failure/terminated-sigterm",
    "failure/wrong-password",
];

/// The tool's version is the one thing a release changes in every file.
fn without_version(text: &str) -> String {
    text.replacen(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"<version>\"",
        1,
    )
}

/// Where `got` first differs from `want`, if it does.
fn difference(what: &Path, want: &str, got: &str) -> Option<String> {
    (want != got).then(|| {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| want.lines().count().min(got.lines().count()));
        format!(
            "{} differs from line {}:\n  want: {:?}\n  got:  {:?}",
            what.display(),
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        )
    })
}

/// Compare with (or, with `UPDATE_GOLDEN=1`, write) the golden file; returns a problem, if any.
fn check(golden: &Path, got: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(golden, got).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(golden)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
    difference(golden, &want, got)
}

#[test]
fn the_fixture_runs_analyse_to_the_same_bytes() {
    let mut problems = Vec::new();
    for s in SCENARIOS {
        let out = tempfile::tempdir().unwrap();
        let req = AnalyzeRequest {
            paths: vec![root().join("tests/fixtures/memtier").join(s)],
            out_dir: out.path().to_path_buf(),
            window: WindowSpec::default(),
        };
        analyze(&req).unwrap_or_else(|e| panic!("{s}: {e:#}"));
        let written = std::fs::read_to_string(out.path().join("results.json")).unwrap();
        let golden = root()
            .join("tests/golden/analyze")
            .join(format!("{}.json", s.replace('/', "-")));
        problems.extend(check(&golden, &without_version(&written)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `results.json` files as runs wrote them: the two under `tests/golden/runs/` and the real local
/// runs the GitHub and gate tests use, all written before `run.details` had a type.
fn written_by_runs() -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("tests/golden/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    names.extend(
        [
            "github/results.json",
            "gate-one-run/run-2/results.json",
            "gate-one-run/run-4/results.json",
            "gate-one-run/slowed/results.json",
        ]
        .map(|f| root().join("tests/fixtures").join(f)),
    );
    names
}

/// The detail no version of the product writes, in `runs/aws-matrix-workload.json`.
const FOREIGN_DETAIL: &str = "from_an_older_version";

#[test]
fn results_written_by_runs_read_back_to_the_same_bytes() {
    // These are inputs, never rewritten: valid under the schema, every detail the product writes
    // read into its typed field, and written back to the same bytes.
    let schema = serde_json::from_str(elasticache_perf::results::JSON_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut problems = Vec::new();
    for p in written_by_runs() {
        let text = std::fs::read_to_string(&p).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        problems.extend(
            validator
                .iter_errors(&doc)
                .map(|e| format!("{}: {e} at {}", p.display(), e.instance_path)),
        );
        let r: RunResult =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let untyped: Vec<&String> = r
            .run
            .details
            .other
            .keys()
            .filter(|k| *k != FOREIGN_DETAIL)
            .collect();
        if !untyped.is_empty() {
            problems.push(format!(
                "{}: details without a type: {untyped:?}",
                p.display()
            ));
        }
        if r.run.details.command.is_none() {
            problems.push(format!("{}: no command detail read", p.display()));
        }
        // Files saved by hand may end with a newline the product does not write.
        problems.extend(difference(
            &p,
            text.trim_end(),
            &serde_json::to_string_pretty(&r).unwrap(),
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
