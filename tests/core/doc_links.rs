//! What the docs point at exists: every relative link in README.md and docs/*.md names a file of
//! the repository (and, with `#anchor`, a heading of it), and every `src/…`, `tests/…`,
//! `scripts/…` or `schema/…` path they quote in backticks is there. Moving a file without fixing
//! the docs fails here.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every markdown file under docs/.
fn docs() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    out.extend(more);
    out
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation other than `-`/`_` gone.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(doc: &Path) -> Vec<String> {
    std::fs::read_to_string(doc)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

/// The targets of `](target)` links that are not URLs.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(t, _)| t.to_string()))
        .filter(|t| !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

/// Paths quoted in backticks that start with one of the repository's folders.
fn quoted_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            ["src/", "tests/", "scripts/", "schema/"]
                .iter()
                .any(|p| s.starts_with(p))
                && !s.contains(['*', '{', '<', ' ', '…'])
        })
        .map(|s| s.split(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_link_and_quoted_path_in_the_docs_exists() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in docs() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        for l in links(&text) {
            checked += 1;
            let (file, frag) = l
                .split_once('#')
                .map_or((l.as_str(), None), |(f, a)| (f, Some(a)));
            let target = if file.is_empty() {
                doc.clone()
            } else {
                dir.join(file)
            };
            if !target.exists() {
                problems.push(format!("{}: link to missing '{l}'", doc.display()));
            } else if let Some(a) = frag.filter(|_| target.extension().is_some_and(|e| e == "md")) {
                if !anchors(&target).iter().any(|h| h == a) {
                    problems.push(format!(
                        "{}: no heading for '#{a}' in '{file}'",
                        doc.display()
                    ));
                }
            }
        }
        for p in quoted_paths(&text) {
            checked += 1;
            if !root().join(&p).exists() {
                problems.push(format!("{}: names missing '{p}'", doc.display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} links and paths read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_a_broken_link_and_a_moved_file() {
    let text = "see [x](docs/nope.md) and `src/gone.rs:12` and [y](https://example.com)";
    assert_eq!(links(text), ["docs/nope.md"]);
    assert_eq!(quoted_paths(text), ["src/gone.rs"]);
    assert_eq!(
        anchor("Measured: false alarms and detection (`scripts/bench-gate`)"),
        "measured-false-alarms-and-detection-scriptsbench-gate"
    );
}
