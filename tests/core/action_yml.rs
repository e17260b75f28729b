//! action.yml against the CLI's own definition: every `INPUT_*` of the commands the action can run
//! is an input with the same default (bar the documented exceptions) and every input is one of
//! them, so an input added to the CLI (the AWS ones, the gate's) fails here until action.yml has
//! it. Also: outputs, entrypoints, the Dockerfile's entrypoint paths, and the README's tables,
//! which are generated from action.yml (`UPDATE_README=1 cargo test --test core action_yml` rewrites them).

#![allow(clippy::unwrap_used)]

use crate::action_harness;

use std::collections::BTreeMap;

use action_harness::{action_inputs, action_yml, root};
use clap::CommandFactory as _;
use elasticache_perf::cli::{Cli, ACTION_COMMANDS, ACTION_ENTRYPOINT, POST_ENTRYPOINT};

/// Inputs whose action default differs from the CLI's, and why.
const DEFAULT_EXCEPTIONS: [(&str, &str, &str); 2] = [
    // The action exists to benchmark the managed service; a workstation defaults to local.
    ("target", "aws", "local"),
    // The runner does not hand the job's token to a container; the input does.
    ("github_token", "${{ github.token }}", ""),
];

/// Inputs of the action that are not flags: `command` picks the subcommand.
const ACTION_ONLY: [&str; 1] = ["command"];

/// `input name → CLI default` for every `INPUT_*` of the action's commands.
fn cli_inputs() -> BTreeMap<String, String> {
    let cli = Cli::command();
    let mut out = BTreeMap::new();
    for name in ACTION_COMMANDS {
        let sub = cli
            .get_subcommands()
            .find(|s| s.get_name() == name)
            .unwrap_or_else(|| panic!("no '{name}' subcommand"));
        for arg in sub.get_arguments() {
            let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
                continue;
            };
            let Some(input) = env.strip_prefix("INPUT_") else {
                continue;
            };
            let default = arg
                .get_default_values()
                .first()
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(prev) = out.insert(input.to_lowercase(), default.clone()) {
                assert_eq!(prev, default, "input '{input}' has two defaults in the CLI");
            }
        }
    }
    out
}

#[test]
fn every_cli_input_is_an_action_input_with_the_same_default() {
    let cli = cli_inputs();
    let action: BTreeMap<String, String> = action_inputs().into_iter().collect();
    for (name, cli_default) in &cli {
        let Some(action_default) = action.get(name) else {
            panic!(
                "the CLI reads INPUT_{} but action.yml has no input '{name}'",
                name.to_uppercase()
            );
        };
        let expected = DEFAULT_EXCEPTIONS
            .iter()
            .find(|(n, _, _)| n == name)
            .map_or(cli_default.as_str(), |(_, a, c)| {
                assert_eq!(
                    cli_default, c,
                    "the CLI default of '{name}' changed; review the exception"
                );
                a
            });
        assert_eq!(action_default, expected, "default of input '{name}'");
    }
    for name in action.keys() {
        assert!(
            cli.contains_key(name) || ACTION_ONLY.contains(&name.as_str()),
            "action.yml input '{name}' is read by no command of the action"
        );
    }
}

#[test]
fn every_input_is_snake_case_and_described_with_a_default() {
    let y = action_yml();
    for (k, v) in y["inputs"].as_mapping().unwrap() {
        let name = k.as_str().unwrap();
        assert!(
            name.chars().next().unwrap().is_ascii_lowercase()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "input '{name}' is not snake_case"
        );
        let d = v["description"].as_str().unwrap_or("");
        assert!(d.len() > 10, "input '{name}' needs a description");
        assert!(v.get("default").is_some(), "input '{name}' needs a default");
        // The runner does not enforce `required`; the tool validates instead.
        assert_ne!(
            v["required"].as_bool(),
            Some(true),
            "input '{name}': validate in the tool"
        );
    }
}

#[test]
fn outputs_are_the_ones_the_tool_writes() {
    let y = action_yml();
    let names: Vec<&str> = y["outputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            assert!(v["description"].as_str().is_some_and(|d| d.len() > 10));
            k.as_str().unwrap()
        })
        .collect();
    assert_eq!(names, elasticache_perf::github::outputs::NAMES);
}

#[test]
fn runs_is_a_docker_action_with_main_and_post_entrypoints() {
    let y = action_yml();
    let runs = &y["runs"];
    assert_eq!(runs["using"].as_str(), Some("docker"));
    let image = runs["image"].as_str().unwrap();
    assert!(
        image == "Dockerfile" || image.starts_with("docker://ghcr.io/"),
        "image '{image}': the runner takes a Dockerfile or docker://"
    );
    assert_eq!(
        runs["entrypoint"].as_str(),
        Some(format!("/usr/local/bin/{ACTION_ENTRYPOINT}").as_str())
    );
    assert_eq!(
        runs["post-entrypoint"].as_str(),
        Some(format!("/usr/local/bin/{POST_ENTRYPOINT}").as_str())
    );
    assert_eq!(runs["post-if"].as_str(), Some("always()"));
    assert!(
        runs.get("args").is_none(),
        "args would reach the post step too"
    );
    assert!(y["branding"]["icon"].as_str().is_some() && y["branding"]["color"].as_str().is_some());
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    for entry in [ACTION_ENTRYPOINT, POST_ENTRYPOINT] {
        assert!(
            dockerfile.contains(&format!("ln -s elasticache-perf /out/{entry}")),
            "the image has no {entry}"
        );
    }
    assert!(dockerfile.contains("COPY --from=builder /out/ /usr/local/bin/"));
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The README's input and output tables, from action.yml.
fn tables() -> String {
    let y = action_yml();
    let mut s = String::from("| input | default | description |\n| --- | --- | --- |\n");
    for (k, v) in y["inputs"].as_mapping().unwrap() {
        let default = match v["default"].as_str().unwrap_or("") {
            "" => "_(empty)_".to_string(),
            d => format!("`{d}`"),
        };
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            k.as_str().unwrap(),
            cell(&default),
            cell(v["description"].as_str().unwrap())
        ));
    }
    s.push_str("\n| output | description |\n| --- | --- |\n");
    for (k, v) in y["outputs"].as_mapping().unwrap() {
        s.push_str(&format!(
            "| `{}` | {} |\n",
            k.as_str().unwrap(),
            cell(v["description"].as_str().unwrap())
        ));
    }
    s
}

#[test]
fn the_readme_tables_match_action_yml() {
    const START: &str =
        "<!-- action-tables:start (generated from action.yml by tests/core/action_yml.rs) -->\n";
    const END: &str = "<!-- action-tables:end -->";
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (a, rest) = readme
        .split_once(START)
        .expect("README has no action-tables:start marker");
    let (current, b) = rest
        .split_once(END)
        .expect("README has no action-tables:end marker");
    let expected = tables();
    if current != expected {
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(&path, format!("{a}{START}{expected}{END}{b}")).unwrap();
        } else {
            panic!("README tables differ from action.yml; run UPDATE_README=1 cargo test --test core action_yml\n\n{expected}");
        }
    }
}

/// Every workflow file of the repository: CI, release and the examples.
fn workflow_files() -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for dir in [".github/workflows", ".github/examples"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

#[test]
fn workflows_pass_only_declared_inputs_to_the_action() {
    // The validator does not check `with:` keys against the action; a typo would be ignored by
    // the runner with only a warning.
    let inputs: Vec<String> = action_inputs().into_iter().map(|(k, _)| k).collect();
    let mut uses_ours = 0;
    for f in workflow_files() {
        let y: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for (_, job) in y["jobs"].as_mapping().unwrap() {
            for step in job["steps"].as_sequence().into_iter().flatten() {
                let uses = step["uses"].as_str().unwrap_or("");
                if uses != "./" && !uses.starts_with("org/elasticache-perf@") {
                    continue;
                }
                uses_ours += 1;
                for (k, _) in step["with"].as_mapping().into_iter().flatten() {
                    let k = k.as_str().unwrap();
                    assert!(
                        inputs.iter().any(|i| i == k),
                        "{}: input '{k}' is not in action.yml",
                        f.display()
                    );
                }
            }
        }
    }
    assert!(
        uses_ours >= 6,
        "the workflows use the action {uses_ours} times"
    );
}

#[test]
fn third_party_actions_are_pinned_by_commit() {
    for f in workflow_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let Some(uses) = line.trim().trim_start_matches("- ").strip_prefix("uses: ") else {
                continue;
            };
            if uses == "./" || uses.starts_with("org/elasticache-perf@") {
                continue;
            }
            let (_, r) = uses.split_once('@').unwrap();
            let sha = r.split_whitespace().next().unwrap();
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{}: '{uses}' is not pinned to a commit",
                f.display()
            );
        }
    }
}

#[test]
fn the_readme_shows_the_pr_gate_nightly_and_sweep_examples_as_they_are() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for f in ["pr-gate.yml", "nightly.yml", "sweep.yml"] {
        let text = std::fs::read_to_string(root().join(".github/examples").join(f)).unwrap();
        assert!(
            readme.contains(&format!("```yaml\n{text}```")),
            "README's copy of {f} differs from the file"
        );
    }
}

/// `rust-version` of Cargo.toml.
fn rust_version() -> String {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml has a rust-version")
        .to_string()
}

#[test]
fn the_msrv_job_checks_cargo_tomls_rust_version() {
    let msrv = rust_version();
    let ci: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root().join(".github/workflows/ci.yml")).unwrap(),
    )
    .unwrap();
    let job = &ci["jobs"]["msrv"];
    assert_eq!(
        job["name"].as_str(),
        Some(format!("MSRV ({msrv})").as_str())
    );
    let runs: Vec<&str> = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains(&format!("rustup toolchain install {msrv} "))),
        "{runs:?}"
    );
    assert!(
        runs.iter()
            .any(|r| r.contains(&format!("cargo +{msrv} check --locked"))),
        "{runs:?}"
    );
    // Every toolchain the job names is the MSRV.
    let re = regex::Regex::new(r"(?:\+|install |Rust )(\d+\.\d+(?:\.\d+)?)").unwrap();
    for r in &runs {
        for c in re.captures_iter(r) {
            assert_eq!(&c[1], msrv, "{r}");
        }
    }
    // The aggregate `ci` job needs it, so the two must agree for CI to be green.
    let needs: Vec<&str> = ci["jobs"]["ci"]["needs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(needs.contains(&"msrv") && needs.contains(&"test"));
}

#[test]
fn the_toolchain_is_pinned_at_or_above_the_msrv_and_the_image_builds_with_it() {
    let text = std::fs::read_to_string(root().join("rust-toolchain.toml")).unwrap();
    let channel = text
        .lines()
        .find_map(|l| l.strip_prefix("channel = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("rust-toolchain.toml pins a channel");
    let parse = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    assert_eq!(parse(channel).len(), 3, "a release, not '{channel}'");
    assert!(parse(channel) >= parse(&rust_version()));
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("ARG RUST_VERSION={channel}\n")),
        "the image builds with another toolchain than {channel}"
    );
    // CI's test job installs what the file names instead of a moving `stable`.
    let ci = std::fs::read_to_string(root().join(".github/workflows/ci.yml")).unwrap();
    assert!(
        !ci.contains("stable"),
        "ci.yml still names a moving toolchain"
    );
}

#[test]
fn the_image_ships_a_stripped_binary_labelled_with_its_source() {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let dist = toml
        .split("[profile.dist]\n")
        .nth(1)
        .expect("Cargo.toml has a dist profile")
        .split("\n[")
        .next()
        .unwrap();
    for want in ["inherits = \"release\"", "debug = false", "strip = true"] {
        assert!(
            dist.lines().any(|l| l == want),
            "[profile.dist] lacks {want}"
        );
    }
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("cargo chef cook --profile dist "));
    assert!(dockerfile.contains("cargo build --profile dist "));
    assert!(dockerfile.contains("cp target/dist/elasticache-perf /out/"));
    assert!(dockerfile.contains("LABEL org.opencontainers.image.source=\"https://github.com/"));
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    for dir in ["target/", ".tools/", ".venv/", ".git/"] {
        assert!(
            ignore.lines().any(|l| l == dir),
            "{dir} is sent to the build"
        );
    }
}

#[test]
fn pinned_actions_are_on_their_node_24_majors() {
    // The runners dropped Node 20; these are the first majors of each that run on Node 24.
    const MIN_MAJOR: [(&str, u32); 4] = [
        ("actions/checkout", 5),
        ("actions/upload-artifact", 6),
        ("actions/download-artifact", 5),
        ("aws-actions/configure-aws-credentials", 5),
    ];
    let mut seen = 0;
    for f in workflow_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let Some(uses) = line.trim().trim_start_matches("- ").strip_prefix("uses: ") else {
                continue;
            };
            let Some((action, rest)) = uses.split_once('@') else {
                continue;
            };
            let Some((_, min)) = MIN_MAJOR.iter().find(|(a, _)| *a == action) else {
                continue;
            };
            seen += 1;
            let major: u32 = rest
                .split_once("# v")
                .and_then(|(_, v)| v.split('.').next())
                .and_then(|m| m.parse().ok())
                .unwrap_or_else(|| panic!("{}: '{uses}' has no version comment", f.display()));
            assert!(
                major >= *min,
                "{}: '{uses}' runs on Node 20; v{min} or later runs on Node 24",
                f.display()
            );
        }
    }
    assert!(seen >= 15, "only {seen} pinned actions found");
}

#[test]
fn the_release_moves_no_tag_before_the_image_pulls_anonymously_and_the_action_ran() {
    let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap(),
    )
    .unwrap();
    let jobs = &y["jobs"];
    let needs = |job: &str| -> Vec<String> {
        match &jobs[job]["needs"] {
            serde_yaml_ng::Value::String(s) => vec![s.clone()],
            v => v
                .as_sequence()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect(),
        }
    };
    assert_eq!(needs("tag"), ["smoke"]);
    let smoke = serde_yaml_ng::to_string(&jobs["smoke"]).unwrap();
    assert!(smoke.contains("DOCKER_CONFIG=\"$(mktemp -d)\"") && smoke.contains("docker pull"));
    assert!(smoke.contains("uses: ./") && smoke.contains("target: local"));
    assert!(smoke.contains("ref: release/v${{ inputs.version }}"));
    // Only the tag job pushes tags.
    for (name, job) in jobs.as_mapping().unwrap() {
        let text = serde_yaml_ng::to_string(job).unwrap();
        if name.as_str() != Some("tag") {
            assert!(!text.contains("git tag"), "{name:?} tags");
        }
    }
}
