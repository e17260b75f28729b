//! The crate's layers, read from its sources: every `crate::…` and `super::…` path in `src/`
//! (imports and inline paths, test modules included) is an arrow from the module it is written in
//! to the module it names. Between top-level modules the arrows point down only:
//!
//! leaves (clock, error, outcome, retry, workload) → pure core (client, config, plan, memtier, stats, results, report, gate)
//! → the outside world (aws, local, loadgen, history, github, files) → commands (run, compare, analyze)
//! → cli and the crate root (lib.rs).
//!
//! Inside a layer, and between the children of any folder module (`aws/`, `report/`, …), the
//! arrows may point either way but must not close a circle. There are no exceptions: an arrow
//! that climbs or closes a circle fails the test.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module missing here fails the test: new modules get a layer.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaf", &["clock", "error", "outcome", "retry", "workload"]),
    (
        "pure core",
        &[
            "client", "config", "plan", "memtier", "stats", "results", "report", "gate",
        ],
    ),
    (
        "outside world",
        &["aws", "local", "loadgen", "history", "github", "files"],
    ),
    ("command", &["run", "compare", "analyze"]),
    ("top", &["cli", "lib"]),
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir` with its module path (`src/aws/mod.rs` → `["aws"]`).
fn files(dir: &Path, module: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            let mut m = module.to_vec();
            m.push(name);
            files(&p, &m, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let mut m = module.to_vec();
            match name.as_str() {
                // The binary is its own crate: its `crate::` is not the library's.
                "main" if module.is_empty() => continue,
                "lib" | "mod" => {}
                _ => m.push(name),
            }
            out.push((p, m));
        }
    }
}

/// The source with comments, string and char literals blanked out (so a `crate::` in a doc
/// comment or a message is not an edge).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<Tok> {
    let b: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
            continue;
        }
        out.push(match c {
            '{' => Tok::Open,
            '}' => Tok::Close,
            ',' => Tok::Comma,
            '*' => Tok::Star,
            _ => Tok::Other,
        });
        i += 1;
    }
    out
}

/// The paths of a use tree starting at `t[i]` (after `crate::`): `a::b`, `a::{b, c::d}`, `{a, b}`.
fn use_tree(t: &[Tok], mut i: usize) -> Vec<Vec<String>> {
    match t.get(i) {
        Some(Tok::Open) => {
            let mut paths = Vec::new();
            let mut depth = 0;
            i += 1;
            let mut start = true;
            while let Some(tok) = t.get(i) {
                match tok {
                    Tok::Close if depth == 0 => break,
                    Tok::Open => depth += 1,
                    Tok::Close => depth -= 1,
                    Tok::Comma if depth == 0 => start = true,
                    _ if start && depth == 0 => {
                        paths.extend(use_tree(t, i));
                        start = false;
                    }
                    _ => {}
                }
                i += 1;
            }
            paths
        }
        Some(Tok::Ident(name)) => {
            let rest = if t.get(i + 1) == Some(&Tok::Path) {
                use_tree(t, i + 2)
            } else {
                Vec::new()
            };
            if rest.is_empty() {
                vec![vec![name.clone()]]
            } else {
                rest.into_iter()
                    .map(|mut p| {
                        p.insert(0, name.clone());
                        p
                    })
                    .collect()
            }
        }
        _ => Vec::new(),
    }
}

/// Every path a file names through `crate::` or `super::`, as (the module it is written in,
/// the absolute path it names). Inline modules (`mod tests { … }`) are followed.
fn references(file_module: &[String], code: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let t = tokens(code);
    let mut out = Vec::new();
    // Inline modules: (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let here = || {
            let mut m = file_module.to_vec();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        match &t[i] {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(k) if k == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (t.get(i + 1), t.get(i + 2)) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Tok::Ident(k)
                if (k == "crate" || k == "super")
                    && t.get(i + 1) == Some(&Tok::Path)
                    && !(i > 0 && t[i - 1] == Tok::Path) =>
            {
                let from = here();
                let mut base = if k == "crate" {
                    Vec::new()
                } else {
                    from[..from.len().saturating_sub(1)].to_vec()
                };
                let mut j = i + 2;
                while let (Some(Tok::Ident(s)), Some(Tok::Path)) = (t.get(j), t.get(j + 1)) {
                    if s != "super" {
                        break;
                    }
                    base.pop();
                    j += 2;
                }
                for p in use_tree(&t, j) {
                    let mut abs = base.clone();
                    abs.extend(p);
                    out.push((from.clone(), abs));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A module-to-module arrow, with the file and the path that make it.
#[derive(Clone, Debug)]
struct Edge {
    from: Vec<String>,
    to: Vec<String>,
    file: String,
    path: String,
}

impl Edge {
    fn source(&self) -> String {
        name(&self.from)
    }
    fn target(&self) -> String {
        name(&self.to)
    }
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

/// The crate's module tree as read from the files: every module path that is a file or folder.
fn module_set(fs: &[(PathBuf, Vec<String>)]) -> BTreeSet<Vec<String>> {
    let mut set = BTreeSet::new();
    for (_, m) in fs {
        for k in 0..=m.len() {
            set.insert(m[..k].to_vec());
        }
    }
    set
}

/// Every edge of the crate, resolved to the modules it joins: the longest known module prefix
/// of the path it names (`crate::aws::ledger::Ledger` → `aws::ledger`; `crate::InputError` →
/// the crate root).
fn edges() -> (Vec<Edge>, BTreeSet<Vec<String>>) {
    let mut fs = Vec::new();
    files(&src(), &[], &mut fs);
    let modules = module_set(&fs);
    let mut out = Vec::new();
    for (path, file_module) in &fs {
        let text = std::fs::read_to_string(path).unwrap();
        for (from, abs) in references(file_module, &code_only(&text)) {
            // The file's own module (and its inline modules) resolved to a known module.
            let known = |p: &[String]| {
                (0..=p.len())
                    .rev()
                    .map(|k| p[..k].to_vec())
                    .find(|q| modules.contains(q))
                    .unwrap_or_default()
            };
            out.push(Edge {
                from: known(&from),
                to: known(&abs),
                file: path
                    .strip_prefix(src().parent().unwrap())
                    .unwrap()
                    .display()
                    .to_string(),
                path: abs.join("::"),
            });
        }
    }
    (out, modules)
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&top))
}

/// A circle in `graph`, if any, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// One circle for every group of modules that reach each other (a strongly connected component
/// of more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = vec![from];
        while let Some(n) = todo.pop() {
            for m in graph.get(n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m);
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in graph.keys() {
        let fwd = reach(n);
        if done.contains(n) || !fwd.contains(n) {
            continue;
        }
        let group: BTreeSet<String> = fwd
            .iter()
            .filter(|m| reach(m).contains(n))
            .cloned()
            .collect();
        let sub: BTreeMap<String, BTreeSet<String>> = group
            .iter()
            .map(|a| {
                let next = graph[a].intersection(&group).cloned().collect();
                (a.clone(), next)
            })
            .collect();
        out.extend(find_cycle(&sub));
        done.extend(group);
    }
    out
}

/// What is wrong with a set of edges: arrows that climb a layer and circles (between top-level
/// modules, and between the children of every folder module).
fn violations(edges: &[Edge], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    let top = |m: &[String]| m.first().cloned().unwrap_or_else(|| "lib".into());
    // Every top-level module has a layer.
    for m in modules.iter().filter(|m| m.len() == 1) {
        if layer_of(&m[0]).is_none() {
            problems.push(format!(
                "module '{}' is in no layer: add it to LAYERS",
                m[0]
            ));
        }
    }
    // Top level: no climbing arrow; no circle.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in edges {
        let (a, b) = (top(&e.from), top(&e.to));
        if a == b {
            continue;
        }
        let (Some(la), Some(lb)) = (layer_of(&a), layer_of(&b)) else {
            continue;
        };
        if lb > la {
            problems.push(format!(
                "{} ({}) → {} ({}) climbs: {} names crate::{}",
                e.source(),
                LAYERS[la].0,
                e.target(),
                LAYERS[lb].0,
                e.file,
                e.path
            ));
        }
        graph.entry(a).or_default().insert(b);
    }
    for c in cycles(&graph) {
        problems.push(format!(
            "circle between top-level modules: {}",
            c.join(" → ")
        ));
    }
    // Inside every folder module: no circle between its children.
    for parent in modules.iter().filter(|m| !m.is_empty()) {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let n = parent.len();
        for e in edges {
            let child = |m: &[String]| (m.len() > n && m[..n] == parent[..]).then(|| m[n].clone());
            let (Some(a), Some(b)) = (child(&e.from), child(&e.to)) else {
                continue;
            };
            if a == b {
                continue;
            }
            graph.entry(a).or_default().insert(b);
        }
        for c in cycles(&graph) {
            let at = parent.join("::");
            let c: Vec<String> = c.iter().map(|m| format!("{at}::{m}")).collect();
            problems.push(format!("circle: {}", c.join(" → ")));
        }
    }
    problems
}

#[test]
fn arrows_point_down_and_close_no_circle() {
    let (edges, modules) = edges();
    // The reader sees the crate: enough edges, and the ones every reader knows are there.
    assert!(edges.len() > 300, "only {} edges read", edges.len());
    for (from, to) in [("aws::provision", "aws::ledger"), ("run::gate", "history")] {
        assert!(
            edges.iter().any(|e| e.source() == from && e.target() == to),
            "the edge {from} → {to} was not read"
        );
    }
    let problems = violations(&edges, &modules);
    assert!(
        problems.is_empty(),
        "the crate's layers are broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_new_climbing_arrow_or_circle_fails() {
    let (mut edges, modules) = edges();
    assert!(violations(&edges, &modules).is_empty());
    let m = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let edge = |from: &str, to: &str| Edge {
        from: m(from),
        to: m(to),
        file: "src/test.rs".into(),
        path: to.into(),
    };
    // A pure module that imports the outside world.
    let mut climbing = edges.clone();
    climbing.push(edge("stats::merge", "aws::s3"));
    let p = violations(&climbing, &modules);
    assert!(
        p.iter()
            .any(|p| p.contains("stats::merge (pure core) → aws::s3 (outside world) climbs")),
        "{p:?}"
    );
    // Two siblings that import each other.
    edges.push(edge("aws::ledger", "aws::provision"));
    let p = violations(&edges, &modules);
    assert!(
        p.iter()
            .any(|p| p.starts_with("circle: aws::") && p.contains("aws::ledger")),
        "{p:?}"
    );
}

#[test]
fn the_reader_follows_use_trees_inline_modules_and_super() {
    let code = code_only(
        r#"
        use crate::{a::{b, c::D}, e};
        // crate::commented::out
        const S: &str = "crate::in_a_string";
        fn f<'a>(x: &'a str) -> char { crate::g::h(x); 'x' }
        mod tests {
            use super::super::k::L;
            use crate::m::*;
        }
        use super::n;
    "#,
    );
    let here = vec!["p".to_string(), "q".to_string()];
    let refs: Vec<(String, String)> = references(&here, &code)
        .into_iter()
        .map(|(f, t)| (f.join("::"), t.join("::")))
        .collect();
    let want = [
        ("p::q", "a::b"),
        ("p::q", "a::c::D"),
        ("p::q", "e"),
        ("p::q", "g::h"),
        ("p::q::tests", "p::k::L"),
        ("p::q::tests", "m"),
        ("p::q", "p::n"),
    ];
    assert_eq!(
        refs,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}
