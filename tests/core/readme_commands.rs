//! Every `elasticache-perf …` command line in the README's shell blocks, as a user would paste it:
//! it parses with the binary's own flags, and a `run` passes the run's whole input validation
//! (its settings, the workload matrix included) — so a snippet can never drift from the binary.

#![allow(clippy::unwrap_used)]

use clap::Parser as _;
use elasticache_perf::cli::{Cli, Command};

/// Split one shell command line into words: single and double quotes, backslash-newline already
/// joined; enough for the README's snippets (no expansions beyond plain `$i`, kept as text).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in: {line}");
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The README's `elasticache-perf` command lines (from ```sh blocks), each cut at a `;` or a
/// trailing comment, continuation lines joined.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(crate::action_harness::root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut block = String::new();
    for line in readme.lines() {
        if !in_sh {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if line.trim() == "```" {
            in_sh = false;
            let joined = block.replace("\\\n", " ");
            for l in joined.lines() {
                let Some(at) = l.find("elasticache-perf ") else {
                    continue;
                };
                let cmd = &l[at..];
                let cmd = cmd.split(" #").next().unwrap_or(cmd);
                let cmd = cmd.split(';').next().unwrap_or(cmd);
                // A path that ends in the binary's name (target/release/elasticache-perf) is prose.
                if l[..at].trim_end().ends_with('/') {
                    continue;
                }
                out.push(cmd.trim().to_string());
            }
            block.clear();
            continue;
        }
        block.push_str(line);
        block.push('\n');
    }
    out
}

#[test]
fn every_readme_command_parses_and_a_run_validates() {
    let cmds = readme_commands();
    assert!(
        cmds.len() >= 8,
        "only {} commands found: {cmds:?}",
        cmds.len()
    );
    let mut runs = 0;
    for cmd in &cmds {
        let argv = words(cmd);
        let cli = Cli::try_parse_from(&argv)
            .unwrap_or_else(|e| panic!("README command `{cmd}` does not parse:\n{e}"));
        if let Command::Run(a) = cli.command {
            let mut inputs = a.inputs;
            if inputs.aws_region.as_deref().is_none_or(str::is_empty) {
                inputs.aws_region = Some("us-east-1".into());
            }
            elasticache_perf::run::settings::Settings::from_inputs(&inputs)
                .unwrap_or_else(|e| panic!("README command `{cmd}` is refused: {e:#}"));
            runs += 1;
        }
    }
    assert!(runs >= 3, "{cmds:?}");
}

#[test]
fn the_splitter_keeps_quoted_words_whole() {
    assert_eq!(
        words(r#"elasticache-perf run --workloads '[{"name": "a"}]' --out "my dir""#),
        [
            "elasticache-perf",
            "run",
            "--workloads",
            r#"[{"name": "a"}]"#,
            "--out",
            "my dir"
        ]
    );
}
