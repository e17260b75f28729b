//! docs/iam-policy.json grants every AWS action the code calls, and nothing else beyond the
//! actions AWS checks implicitly (tag-on-create, PassRole, service-linked roles). The calls are
//! found by reading src/aws/ for `<client>.<operation>()`, the SDK's fluent-builder form.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::collections::BTreeSet;
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

/// The IAM action of one SDK call.
fn action(client: &str, op: &str) -> String {
    let prefix = match client {
        "ec" | "elasticache" => "elasticache",
        "cw" => "cloudwatch",
        "tagging" => "tag",
        other => other,
    };
    // S3's IAM actions differ from some operation names.
    let name = match (prefix, op) {
        ("s3", "head_bucket" | "list_objects_v2") => "ListBucket".to_string(),
        _ => pascal(op),
    };
    format!("{prefix}:{name}")
}

fn called_actions() -> BTreeSet<String> {
    let re = regex::Regex::new(
        r"\b(ec2|ecs|ec|elasticache|iam|logs|s3|cw|cloudwatch|tagging|scheduler|sts)\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)",
    )
    .unwrap();
    let mut files = Vec::new();
    rust_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/aws"),
        &mut files,
    );
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for c in re.captures_iter(&text) {
            let a = action(&c[1], &c[2]);
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
