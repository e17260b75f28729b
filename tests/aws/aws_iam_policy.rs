//! docs/iam-policy.json grants every AWS action the code calls, and nothing else beyond the
//! actions AWS checks implicitly (tag-on-create, PassRole, service-linked roles). The calls are
//! every method call in src/ named like an operation of an SDK crate the tool uses (the crates'
//! own operation lists, read through `cargo metadata`), whatever the client variable is named.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Actions AWS authorises without a call of that name in the code.
const IMPLIED: &[&str] = &[
    "ec2:CreateTags",                // TagSpecifications on CreateSecurityGroup
    "elasticache:AddTagsToResource", // Tags on CreateReplicationGroup / CreateCacheSubnetGroup
    "logs:TagResource",              // tags on CreateLogGroup
    "ecs:TagResource",               // tags on CreateCluster / RegisterTaskDefinition / RunTask
    "iam:TagRole",                   // Tags on CreateRole
    "iam:PassRole",                  // the execution role in RegisterTaskDefinition / RunTask
    "iam:CreateServiceLinkedRole",   // first ElastiCache / ECS use in an account
];

/// Calls that need no permission, so the policy does not grant them.
const NEEDS_NO_PERMISSION: &[&str] = &[
    "sts:GetCallerIdentity", // "No permissions are required to perform this operation."
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The SDK crates the tool uses, the IAM prefix of each, and the names a client of it goes by in
/// the code (to tell apart operations several services share, such as `tag_resource`).
const SERVICES: &[(&str, &str, &[&str])] = &[
    ("aws-sdk-ec2", "ec2", &["ec2"]),
    ("aws-sdk-ecs", "ecs", &["ecs"]),
    ("aws-sdk-elasticache", "elasticache", &["ec", "elasticache"]),
    ("aws-sdk-iam", "iam", &["iam"]),
    ("aws-sdk-cloudwatchlogs", "logs", &["logs"]),
    ("aws-sdk-cloudwatch", "cloudwatch", &["cw", "cloudwatch"]),
    ("aws-sdk-s3", "s3", &["s3"]),
    ("aws-sdk-resourcegroupstagging", "tag", &["tagging"]),
    ("aws-sdk-scheduler", "scheduler", &["scheduler"]),
    ("aws-sdk-sts", "sts", &["sts"]),
];

/// Every operation of every SDK crate the tool uses: the modules under each crate's
/// `src/operation/`, found through `cargo metadata` (so the versions are those of Cargo.lock).
fn sdk_operations() -> BTreeMap<String, Vec<&'static str>> {
    // Only this platform's dependencies are downloaded: ask for those (the host triple from the
    // rustc beside this cargo).
    let rustc = Path::new(env!("CARGO")).with_file_name("rustc");
    let vv = std::process::Command::new(if rustc.exists() {
        rustc.as_os_str()
    } else {
        std::ffi::OsStr::new("rustc")
    })
    .arg("-vV")
    .output()
    .unwrap();
    let vv = String::from_utf8(vv.stdout).unwrap();
    let host = vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ops: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for (krate, prefix, _) in SERVICES {
        let pkg = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == *krate)
            .unwrap_or_else(|| panic!("{krate} is not a dependency"));
        let dir = Path::new(pkg["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .join("src/operation");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                let op = p.file_name().unwrap().to_string_lossy().into_owned();
                ops.entry(op).or_default().push(prefix);
                n += 1;
            }
        }
        assert!(n > 0, "no operations under {}", dir.display());
    }
    ops
}

/// The IAM action of one SDK operation.
fn action(prefix: &str, op: &str) -> String {
    // S3's IAM actions differ from some operation names.
    let name = match (prefix, op) {
        ("s3", "head_bucket" | "list_objects_v2") => "ListBucket".to_string(),
        _ => pascal(op),
    };
    format!("{prefix}:{name}")
}

/// The identifier a method call is made on: `c.ecs` in `c.ecs.describe_tasks()` (across line
/// breaks, as rustfmt splits chains).
fn receiver(text: &str, dot: usize) -> &str {
    let before = text[..dot].trim_end();
    let start = before
        .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .map_or(0, |i| i + 1);
    &before[start..]
}

/// Every SDK operation the code under src/ can call, as IAM actions: every method call whose name
/// is an operation of a used SDK crate, whatever the client variable is called. An operation
/// several services share is resolved by the client's name, else by the only one of those
/// services the file uses; a call that stays ambiguous fails the test.
fn called_actions() -> BTreeSet<String> {
    let ops = sdk_operations();
    let call = regex::Regex::new(r"\.\s*([a-z][a-z0-9_]*)\s*\(").unwrap();
    let mut files = Vec::new();
    rust_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for c in call.captures_iter(&text) {
            let Some(services) = ops.get(&c[1]) else {
                continue;
            };
            let prefix = if services.len() == 1 {
                services[0]
            } else {
                let recv = receiver(&text, c.get(0).unwrap().start());
                let by_name: Vec<&str> = SERVICES
                    .iter()
                    .filter(|(_, p, names)| services.contains(p) && names.contains(&recv))
                    .map(|(_, p, _)| *p)
                    .collect();
                let in_file: Vec<&str> = SERVICES
                    .iter()
                    .filter(|(k, p, _)| services.contains(p) && text.contains(&k.replace('-', "_")))
                    .map(|(_, p, _)| *p)
                    .collect();
                match (by_name.as_slice(), in_file.as_slice()) {
                    ([p], _) | ([], [p]) => *p,
                    _ => panic!(
                        "{}: '.{}(' is an operation of {services:?}; name the client after its service",
                        f.display(),
                        &c[1]
                    ),
                }
            };
            let a = action(prefix, &c[1]);
            if !NEEDS_NO_PERMISSION.contains(&a.as_str()) {
                out.insert(a);
            }
        }
    }
    out
}

fn policy_actions() -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/iam-policy.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for st in v["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        match &st["Action"] {
            Value::String(a) => {
                out.insert(a.clone());
            }
            Value::Array(a) => out.extend(a.iter().map(|x| x.as_str().unwrap().to_string())),
            other => panic!("unexpected Action {other}"),
        }
    }
    out
}

#[test]
fn every_called_action_is_granted() {
    let called = called_actions();
    // The scan must see the calls, or it proves nothing.
    for must in [
        "elasticache:CreateReplicationGroup",
        "ec2:CreateSecurityGroup",
        "ecs:RegisterTaskDefinition",
        "iam:CreateRole",
        "s3:PutObject",
        "scheduler:CreateSchedule",
        // Called on a client variable named `client` (the history store).
        "s3:GetObject",
    ] {
        assert!(called.contains(must), "the scan missed {must}: {called:?}");
    }
    let granted = policy_actions();
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(missing.is_empty(), "docs/iam-policy.json lacks {missing:?}");
}

#[test]
fn the_policy_grants_nothing_the_code_does_not_need() {
    let called = called_actions();
    let extra: Vec<String> = policy_actions()
        .into_iter()
        .filter(|a| !called.contains(a) && !IMPLIED.contains(&a.as_str()))
        .collect();
    assert!(extra.is_empty(), "granted but never called: {extra:?}");
}

#[test]
fn no_wildcard_actions_and_mutations_are_scoped() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/iam-policy.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for st in v["Statement"].as_array().unwrap() {
        let actions: Vec<String> = match &st["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => unreachable!(),
        };
        assert!(actions.iter().all(|a| !a.contains('*')), "{st}");
        let mutating = actions.iter().any(|a| {
            let op = a.split(':').nth(1).unwrap();
            [
                "Create",
                "Delete",
                "Authorize",
                "Attach",
                "Detach",
                "Put",
                "Register",
                "Deregister",
                "Stop",
                "Run",
                "Tag",
            ]
            .iter()
            .any(|p| op.starts_with(p))
        });
        // A mutation on "*" must carry a condition (ECS task definitions have no resource-level
        // permissions at all; that statement is the one exception and is named for it).
        if mutating && st["Resource"] == "*" {
            let sid = st["Sid"].as_str().unwrap();
            assert!(
                st.get("Condition").is_some() || sid.contains("NoResourceLevelPermissions"),
                "{st}"
            );
        }
    }
}

#[test]
fn the_readme_shows_this_policy() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("README.md has a ```json block with the IAM policy");
    let shown: Value = serde_json::from_str(block).unwrap();
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/iam-policy.json")).unwrap())
            .unwrap();
    assert_eq!(shown, file, "README.md and docs/iam-policy.json differ");
}
