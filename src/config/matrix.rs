//! The workload matrix: input `workloads`, a JSON or YAML list of named workloads that run one
//! after another on one server. Each item has a `name` (`[a-z0-9-]`, unique) and any workload
//! setting; unset settings inherit the top-level inputs. Each item is validated as the top-level
//! inputs are (the same rules, the same messages), before anything starts, and an error names the
//! workload and the key. Pure: the caller reads a file named by the input.

use super::{Config, ConfigError, RunInputs};

/// Most workloads one matrix may hold.
pub const MAX_WORKLOADS: usize = 20;
/// Longest workload name.
pub const MAX_NAME_LEN: usize = 32;

/// The keys a workload may set, each with the top-level input it overrides.
pub const KEYS: &[&str] = &[
    "threads",
    "clients",
    "pipeline",
    "ratio",
    "key_pattern",
    "key_minimum",
    "key_maximum",
    "key_prefix",
    "data_size",
    "prefill",
    "test_duration",
    "warmup_seconds",
    "extra_memtier_args",
];

/// One workload of a matrix: its name, its inputs (the top-level ones with its own on top) and
/// their validated configuration.
#[derive(Clone, Debug)]
pub struct NamedWorkload {
    /// `[a-z0-9-]`, unique in the matrix; names its output folder.
    pub name: String,
    /// The inputs the workload runs with.
    pub inputs: RunInputs,
    /// Their configuration.
    pub config: Config,
}

/// Whether the `workloads` input holds the list itself (JSON or YAML) rather than a file's path.
pub fn is_inline(v: &str) -> bool {
    let t = v.trim_start();
    t.starts_with('[') || t.starts_with('-') || t.contains('\n')
}

fn err(value: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::new("workloads", value, problem)
}

/// A YAML scalar as the input string it stands for.
fn scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Set one key of a workload on its inputs.
fn set(i: &mut RunInputs, key: &str, v: String) {
    match key {
        "threads" => i.threads = v,
        "clients" => i.clients = v,
        "pipeline" => i.pipeline = v,
        "ratio" => i.ratio = v,
        "key_pattern" => i.key_pattern = v,
        "key_minimum" => i.key_minimum = v,
        "key_maximum" => i.key_maximum = v,
        "key_prefix" => i.key_prefix = v,
        "data_size" => i.data_size = v,
        "prefill" => i.prefill = v,
        "test_duration" => {
            i.test_duration_minutes = Some(v);
            i.test_duration_seconds = None;
        }
        "warmup_seconds" => i.warmup_seconds = Some(v),
        "extra_memtier_args" => i.extra_memtier_args = Some(v),
        _ => {}
    }
}

/// The workload key an input error is about.
fn key_of(input: &str) -> &str {
    match input {
        "test_duration_minutes" | "test_duration_seconds" => "test_duration",
        other => other,
    }
}

/// Parse and validate the matrix in `text` on top of the top-level inputs `base`.
pub fn parse(text: &str, base: &RunInputs) -> Result<Vec<NamedWorkload>, ConfigError> {
    let shown: String = text.trim().chars().take(80).collect();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        err(
            &shown,
            format!("is not a JSON or YAML list of workloads: {e}"),
        )
    })?;
    let Some(items) = doc.as_sequence() else {
        return Err(err(
            &shown,
            "must be a list of workloads, each with a 'name' (e.g. [{\"name\": \"reads\", \"ratio\": \"0:1\"}])",
        ));
    };
    if items.is_empty() || items.len() > MAX_WORKLOADS {
        return Err(err(
            &shown,
            format!(
                "must hold 1 to {MAX_WORKLOADS} workloads, not {}",
                items.len()
            ),
        ));
    }
    let mut out: Vec<NamedWorkload> = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let Some(map) = item.as_mapping() else {
            return Err(err(
                format!("item {}", n + 1),
                "must be a mapping with a 'name' and workload settings",
            ));
        };
        let name = map
            .get("name")
            .and_then(scalar)
            .ok_or_else(|| err(format!("item {}", n + 1), "has no 'name'"))?;
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-');
        if !valid {
            return Err(err(
                &name,
                format!(
                    "workload name '{name}' must be 1 to {MAX_NAME_LEN} of a-z, 0-9 and '-', not starting with '-' (it names a folder)"
                ),
            ));
        }
        if out.iter().any(|w| w.name == name) {
            return Err(err(&name, format!("workload name '{name}' is given twice")));
        }
        let mut inputs = base.clone();
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                return Err(err(
                    format!("{k:?}"),
                    format!("workload '{name}': keys must be names"),
                ));
            };
            if key == "name" {
                continue;
            }
            if !KEYS.contains(&key) {
                return Err(err(
                    key,
                    format!(
                        "workload '{name}': unknown key '{key}' (allowed: name, {})",
                        KEYS.join(", ")
                    ),
                ));
            }
            let Some(v) = scalar(v) else {
                return Err(err(
                    format!("{key}: {v:?}"),
                    format!("workload '{name}': '{key}' must be a number, a string or a boolean"),
                ));
            };
            set(&mut inputs, key, v);
        }
        let config = Config::from_inputs(&inputs).map_err(|e| ConfigError {
            input: "workloads",
            problem: format!("workload '{name}': '{}' {}", key_of(e.input), e.problem),
            value: e.value,
        })?;
        out.push(NamedWorkload {
            name,
            inputs,
            config,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Wrap {
        #[command(flatten)]
        inputs: RunInputs,
    }

    fn base() -> RunInputs {
        Wrap::parse_from(["x", "--threads", "3"]).inputs
    }

    #[test]
    fn json_and_yaml_lists_inherit_the_top_level_inputs() {
        let json = r#"[{"name": "reads", "ratio": "0:1", "test_duration": "30s"},
                       {"name": "big-values", "data_size": 4096, "pipeline": 8}]"#;
        let yaml = "- name: reads\n  ratio: '0:1'\n  test_duration: 30s\n- name: big-values\n  data_size: 4096\n  pipeline: 8\n";
        for text in [json, yaml] {
            let ws = parse(text, &base()).unwrap();
            assert_eq!(ws.len(), 2);
            assert_eq!(ws[0].name, "reads");
            assert_eq!(ws[0].config.workload.ratio_set, 0);
            assert_eq!(ws[0].config.duration.as_secs(), 30);
            assert_eq!(ws[0].config.workload.threads, 3, "inherited");
            assert_eq!(ws[1].config.workload.data_size, 4096);
            assert_eq!(ws[1].config.workload.pipeline, 8);
            assert_eq!(ws[1].config.workload.ratio_get, 10, "inherited");
        }
        assert!(is_inline(json) && is_inline(yaml) && !is_inline("bench/workloads.yml"));
    }

    #[test]
    fn bad_matrices_name_the_workload_and_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                r#"[{"name": "reads", "thread": 4}]"#,
                "workload 'reads': unknown key 'thread'",
            ),
            (
                r#"[{"name": "reads"}, {"name": "reads"}]"#,
                "workload name 'reads' is given twice",
            ),
            (r#"[{"name": "Reads"}]"#, "workload name 'Reads' must be"),
            (r#"[{"ratio": "1:1"}]"#, "has no 'name'"),
            (
                r#"[{"name": "w", "threads": 0}]"#,
                "workload 'w': 'threads' must be a whole number from 1 to 1024",
            ),
            (
                r#"[{"name": "w", "test_duration": "soon"}]"#,
                "workload 'w': 'test_duration'",
            ),
            (
                r#"[{"name": "w", "ratio": [1, 2]}]"#,
                "workload 'w': 'ratio' must be a number",
            ),
            (r#"{"name": "w"}"#, "must be a list of workloads"),
            ("[]", "must hold 1 to 20 workloads"),
            ("[", "is not a JSON or YAML list"),
        ];
        for (text, want) in cases {
            let e = parse(text, &base()).unwrap_err();
            assert_eq!(e.input, "workloads");
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
    }
}
