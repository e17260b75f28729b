//! The profile key of a run (engine, version, node type, topology, workload, task count, load
//! generator): only runs with equal keys are compared, and a difference is stated. Pure.

use serde::{Deserialize, Serialize};

use crate::results::RunResult;

/// What makes two runs comparable. Every field is a plain string so that results written by
/// older or newer versions of the tool still produce a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileKey {
    /// `redis` or `valkey` (`unknown` when the run did not say).
    pub engine: String,
    /// The server's version as reported, e.g. `redis 7.0.15`.
    pub engine_version: String,
    /// The node type, e.g. `cache.r7g.large`; `local` for the local target.
    pub node_type: String,
    /// The topology, e.g. `standalone`, `1 shard x 1 replica`.
    pub topology: String,
    /// The workload in canonical form, e.g. `threads=2 clients=25 pipeline=1 ratio=1:10 …`.
    pub workload: String,
    /// The number of load generators.
    pub task_count: usize,
    /// The load generator without its version, e.g. `builtin` or `memtier_benchmark`.
    pub load_generator: String,
    /// The cache settings the run chose, e.g. `maxmemory-policy=allkeys-lru` or
    /// `parameter_group=mine`; empty for the defaults, which leaves the key (and its slug and
    /// fingerprint) of such runs what it always was.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cache_parameters: String,
}

/// One field in which two profiles differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDifference {
    /// The field's name, as in [`ProfileKey`].
    pub field: String,
    /// The baseline's value.
    pub baseline: String,
    /// The current run's value.
    pub current: String,
}

/// The workload settings that change what is measured. Where the server is, how long the run
/// was and whether it authenticated do not, and are left out so that a pinned run from another
/// machine or a shorter PR run still matches.
const WORKLOAD_FIELDS: [&str; 10] = [
    "threads",
    "clients",
    "pipeline",
    "ratio",
    "key_pattern",
    "key_minimum",
    "key_maximum",
    "data_size",
    "tls",
    "protocol",
];

const UNKNOWN: &str = "unknown";

/// A text detail, trimmed; none when blank.
fn text(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The topology, which no version of this tool writes but a result may carry (hand-made or from
/// elsewhere): text, a number or a boolean.
fn topology(r: &RunResult) -> Option<String> {
    r.run.details.other.get("topology").and_then(|v| match v {
        serde_json::Value::String(s) => text(Some(s)),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn canonical_workload(w: Option<&serde_json::Value>) -> String {
    let Some(obj) = w.and_then(serde_json::Value::as_object) else {
        return UNKNOWN.to_string();
    };
    let parts: Vec<String> = WORKLOAD_FIELDS
        .iter()
        .filter_map(|k| {
            let v = obj.get(*k)?;
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            Some(format!("{k}={s}"))
        })
        .collect();
    if parts.is_empty() {
        UNKNOWN.to_string()
    } else {
        parts.join(" ")
    }
}

/// The generator's name without version tokens (`elasticache-perf builtin 0.1.0` → `elasticache-perf builtin`).
fn strip_version(s: &str) -> String {
    s.split_whitespace()
        .filter(|t| {
            !t.trim_start_matches('v')
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl ProfileKey {
    /// The profile of a run, from `run.details` (engine, engine_version, node_type, topology,
    /// load_generator), `run.workload` and `run.task_count`.
    pub fn of(r: &RunResult) -> Self {
        let local = r.run.target == "local";
        let d = &r.run.details;
        Self {
            engine: text(d.engine.as_ref()).unwrap_or_else(|| UNKNOWN.into()),
            engine_version: text(d.engine_version.as_ref()).unwrap_or_else(|| UNKNOWN.into()),
            node_type: text(d.node_type.as_ref())
                .unwrap_or_else(|| if local { "local" } else { UNKNOWN }.to_string()),
            topology: topology(r)
                .unwrap_or_else(|| if local { "standalone" } else { UNKNOWN }.to_string()),
            workload: canonical_workload(r.run.workload.as_ref()),
            task_count: r.run.task_count,
            load_generator: text(d.load_generator.as_ref())
                .or_else(|| r.run.load_generator.as_deref().map(strip_version))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| UNKNOWN.into()),
            cache_parameters: text(d.cache_parameters.as_ref()).unwrap_or_default(),
        }
    }

    /// The fields in which `current` differs from `self` (the baseline), in a fixed order.
    pub fn differences(&self, current: &Self) -> Vec<ProfileDifference> {
        let pairs = [
            ("engine", &self.engine, &current.engine),
            (
                "engine_version",
                &self.engine_version,
                &current.engine_version,
            ),
            ("node_type", &self.node_type, &current.node_type),
            ("topology", &self.topology, &current.topology),
            ("workload", &self.workload, &current.workload),
            (
                "load_generator",
                &self.load_generator,
                &current.load_generator,
            ),
            (
                "cache_parameters",
                &self.cache_parameters,
                &current.cache_parameters,
            ),
        ];
        let mut out: Vec<ProfileDifference> = pairs
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(f, a, b)| ProfileDifference {
                field: f.to_string(),
                baseline: a.clone(),
                current: b.clone(),
            })
            .collect();
        if self.task_count != current.task_count {
            out.push(ProfileDifference {
                field: "task_count".into(),
                baseline: self.task_count.to_string(),
                current: current.task_count.to_string(),
            });
        }
        out
    }

    /// A readable, path-safe name for the profile, used as the `{profile}` part of history keys:
    /// every field in a fixed order, characters outside `[A-Za-z0-9.=-]` replaced by `_`, plus a
    /// short hash of the full key so that two keys that sanitise alike never share a folder.
    pub fn slug(&self) -> String {
        let raw = format!(
            "{}-{}_{}_{}_{}_x{}_{}",
            self.engine,
            self.engine_version,
            self.node_type,
            self.topology,
            self.workload,
            self.task_count,
            self.load_generator
        );
        // Parameters go right after the node type, where the 200-character cut cannot drop them.
        let raw = if self.cache_parameters.is_empty() {
            raw
        } else {
            raw.replacen(
                &format!("_{}_", self.node_type),
                &format!("_{}_{}_", self.node_type, self.cache_parameters),
                1,
            )
        };
        let mut s = sanitize(&raw);
        s.truncate(200);
        format!("{s}_{:08x}", self.fingerprint())
    }

    /// The profile in words for a chart's title, e.g. `redis 7.0.15 · local · standalone ·
    /// 1 × builtin · threads=1 clients=25 …`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} · {} · {} · {} × {} · {}",
            self.engine_version,
            self.node_type,
            self.topology,
            self.task_count,
            self.load_generator,
            self.workload
        );
        if !self.cache_parameters.is_empty() {
            s.push_str(" · ");
            s.push_str(&self.cache_parameters);
        }
        s
    }

    /// A stable 32-bit hash of every field (FNV-1a of the canonical form): equal for equal keys,
    /// on every platform and version.
    pub fn fingerprint(&self) -> u32 {
        fnv1a32(&self.canonical())
    }

    /// Every field, unambiguously (for hashing).
    fn canonical(&self) -> String {
        let mut fields = vec![
            self.engine.as_str(),
            &self.engine_version,
            &self.node_type,
            &self.topology,
            &self.workload,
        ];
        let tasks = self.task_count.to_string();
        fields.extend([tasks.as_str(), &self.load_generator]);
        // Only a run that set parameters has the field: the defaults keep their old fingerprint.
        if !self.cache_parameters.is_empty() {
            fields.push(&self.cache_parameters);
        }
        fields.join("\u{1f}")
    }
}

/// Characters outside `[A-Za-z0-9.=-]` become `_` (S3 keys and file names both accept the rest).
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// 32-bit FNV-1a: stable across Rust versions (unlike `DefaultHasher`), good enough to tell apart keys.
fn fnv1a32(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testing::run_with;

    #[test]
    fn key_of_a_local_run() {
        let r = run_with(&[1000.0; 3], &[1000.0; 3]);
        let k = ProfileKey::of(&r);
        assert_eq!(k.engine, "redis");
        assert_eq!(k.engine_version, "redis 7.0.15");
        assert_eq!(k.node_type, "local");
        assert_eq!(k.topology, "standalone");
        assert_eq!(
            k.workload,
            "threads=1 clients=4 pipeline=1 ratio=1:10 key_pattern=R:R key_minimum=0 key_maximum=100000 data_size=32 tls=false protocol=resp2"
        );
        assert_eq!(k.task_count, 1);
        assert_eq!(k.load_generator, "builtin");
    }

    #[test]
    fn port_and_duration_are_not_part_of_the_key() {
        let a = run_with(&[1.0], &[1.0]);
        let mut b = a.clone();
        let w = b.run.workload.as_mut().unwrap().as_object_mut().unwrap();
        w.insert("port".into(), 7000.into());
        w.insert("test_time_secs".into(), 900.into());
        assert!(ProfileKey::of(&a)
            .differences(&ProfileKey::of(&b))
            .is_empty());
    }

    #[test]
    fn differences_name_field_and_both_values() {
        let a = run_with(&[1.0], &[1.0]);
        let mut b = a.clone();
        b.run.task_count = 4;
        b.run.details.engine_version = Some("valkey 8.0.1".into());
        let d = ProfileKey::of(&a).differences(&ProfileKey::of(&b));
        assert_eq!(
            d,
            vec![
                ProfileDifference {
                    field: "engine_version".into(),
                    baseline: "redis 7.0.15".into(),
                    current: "valkey 8.0.1".into()
                },
                ProfileDifference {
                    field: "task_count".into(),
                    baseline: "1".into(),
                    current: "4".into()
                },
            ]
        );
    }

    #[test]
    fn generator_version_is_dropped_when_details_lack_it() {
        let mut r = run_with(&[1.0], &[1.0]);
        r.run.details.load_generator = None;
        r.run.load_generator = Some("memtier_benchmark 2.1.0".into());
        assert_eq!(ProfileKey::of(&r).load_generator, "memtier_benchmark");
    }

    #[test]
    fn slug_is_path_safe_and_distinguishes_keys() {
        let k = ProfileKey::of(&run_with(&[1.0], &[1.0]));
        let s = k.slug();
        assert!(s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-=".contains(c)));
        assert!(s.starts_with("redis-redis_7.0.15_local_standalone_threads=1_clients=4"));
        let mut k2 = k.clone();
        k2.topology = "standalone ".into(); // sanitises alike, hashes apart
        assert_ne!(k2.slug(), s);
        assert_eq!(k.slug(), s, "stable");
    }

    #[test]
    fn cache_parameters_make_another_profile_and_defaults_keep_their_key() {
        let a = run_with(&[1.0], &[1.0]);
        let before = ProfileKey::of(&a);
        assert!(before.cache_parameters.is_empty());
        // The key of a run with default settings is what it was before the field existed.
        assert_eq!(
            before.fingerprint(),
            fnv1a32(
                &[
                    "redis",
                    "redis 7.0.15",
                    "local",
                    "standalone",
                    &before.workload,
                    "1",
                    "builtin",
                ]
                .join("\u{1f}")
            )
        );
        assert!(!serde_json::to_string(&before)
            .unwrap()
            .contains("cache_parameters"));
        let mut b = a.clone();
        b.run.details.cache_parameters = Some("maxmemory-policy=allkeys-lru".into());
        let after = ProfileKey::of(&b);
        assert_eq!(
            before.differences(&after),
            vec![ProfileDifference {
                field: "cache_parameters".into(),
                baseline: String::new(),
                current: "maxmemory-policy=allkeys-lru".into()
            }]
        );
        assert_ne!(before.slug(), after.slug());
        assert!(after.slug().contains("maxmemory-policy=allkeys-lru"));
        assert!(after.describe().ends_with("maxmemory-policy=allkeys-lru"));
    }
}
