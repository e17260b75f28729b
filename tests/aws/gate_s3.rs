//! The run history in S3, against moto in server mode on 127.0.0.1 (real HTTP, real SDK): store
//! runs, list them, pick the newest N as the baseline, survive a corrupt and a foreign object, and
//! read pinned objects and prefixes through `compare`. Like every AWS test it fails when moto is
//! not installed (scripts/test installs it).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use assert_cmd::Command;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use elasticache_perf::aws::s3_history::S3Store;
use elasticache_perf::history::{read_runs, store_run, HistoryStore};
use elasticache_perf::results::RunResult;
use serde_json::{json, Value};

use crate::common_aws::Moto;
use crate::gate_support;
use gate_support::{outcome, run, write, QUIET};

const BUCKET: &str = "ecp-history";

/// The project's moto server (`common_aws::Moto`: fails loudly when moto is not installed), with
/// an S3 client and the `compare` command pointed at it.
struct S3Moto(Moto);

impl S3Moto {
    fn start() -> Self {
        Self(Moto::start(false))
    }

    fn client(&self) -> aws_sdk_s3::Client {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http)
            .endpoint_url(&self.0.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// `compare` with the SDK pointed at this server.
    fn compare(&self, current: &Path, baseline: &str) -> Command {
        let mut c = Command::cargo_bin("elasticache-perf").unwrap();
        c.env_remove("RUST_LOG")
            .envs(self.0.env())
            .env_remove("AWS_PROFILE")
            // The history's default branch comes from these: a test sets what it means.
            .env_remove("GITHUB_BASE_REF")
            .env_remove("GITHUB_HEAD_REF")
            .env_remove("GITHUB_REF_NAME")
            .args(["compare", "--format", "json", "--current"])
            .arg(current)
            .args(["--baseline", baseline]);
        c
    }
}

/// Store one object per quiet run under history/{profile}/main/, one run on another branch, and a
/// corrupt and a foreign object (the newest of all). Returns the runs' keys and their prefix.
fn fill_history(rt: &tokio::runtime::Runtime, store: &S3Store) -> (Vec<String>, String) {
    // Store: one object per run, under history/{profile}/{branch}/.
    let mut keys = Vec::new();
    for (i, ops) in QUIET.iter().enumerate() {
        let r: RunResult = serde_json::from_value(run(
            &format!("h-{i}"),
            u32::try_from(i).unwrap(),
            *ops,
            1.0,
            30,
        ))
        .unwrap();
        keys.push(rt.block_on(store_run(store, &r, "main")).unwrap());
    }
    let prefix = keys[0].rsplit_once('/').unwrap().0.to_string() + "/";
    assert!(prefix.starts_with("history/redis-redis_7.0.15_local_standalone_"));
    assert!(prefix.ends_with("/main/"));
    // A run on another branch, a corrupt and a foreign object (newest of all).
    let other: RunResult = serde_json::from_value(run("f-1", 40, 1.0, 1.0, 30)).unwrap();
    rt.block_on(store_run(store, &other, "feature/x")).unwrap();
    rt.block_on(store.put(
        &format!("{prefix}20991231T000000.000Z-x.json"),
        b"{oops".to_vec(),
    ))
    .unwrap();
    let foreign = serde_json::to_vec(&json!({"schema": "someone-else/v3"})).unwrap();
    rt.block_on(store.put(&format!("{prefix}20991231T000001.000Z-y.json"), foreign))
        .unwrap();
    (keys, prefix)
}

/// List and pick: the newest 4 good runs, oldest first, with a warning per bad object.
fn list_and_pick(rt: &tokio::runtime::Runtime, store: &S3Store, prefix: &str) {
    // List and pick: the newest 4 good runs, oldest first, with a warning per bad object.
    let listed = rt.block_on(store.list(prefix)).unwrap();
    assert_eq!(listed.len(), 8, "{listed:?}");
    let (runs, warnings) = rt.block_on(read_runs(store, prefix, 4)).unwrap();
    let ids: Vec<_> = runs.iter().map(|r| r.run.id.clone().unwrap()).collect();
    assert_eq!(ids, ["h-2", "h-3", "h-4", "h-5"]);
    // Read newest first: the foreign object, then the corrupt one.
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("has schema 'someone-else/v3'"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("is not a readable results.json"),
        "{warnings:?}"
    );
}

#[test]
fn s3_history_stores_lists_picks_and_survives_bad_objects() {
    let moto = S3Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = moto.client();
    rt.block_on(client.create_bucket().bucket(BUCKET).send())
        .unwrap();
    let store = S3Store::new(client.clone(), BUCKET);

    let (keys, prefix) = fill_history(&rt, &store);
    list_and_pick(&rt, &store, &prefix);

    let d = tempfile::tempdir().unwrap();
    let slow = write(d.path(), "slow.json", &run("cur", 50, 8_000.0, 1.0, 30));
    let same = write(d.path(), "same.json", &run("cur2", 51, 10_010.0, 1.0, 30));

    // `history`: the newest 5 of the same profile on main (a PR into main); a regression exits 1.
    let (code, stdout, stderr) = outcome(
        moto.compare(&slow, "history")
            .env("GITHUB_BASE_REF", "main")
            .args(["--metrics-export-s3-bucket", BUCKET, "--history-runs", "5"]),
    );
    assert_eq!(code, 1, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["verdict"], "regressed");
    assert_eq!(v["baseline"]["kind"], "median_of_runs");
    assert_eq!(
        v["baseline"]["run_ids"],
        json!(["h-1", "h-2", "h-3", "h-4", "h-5"])
    );
    assert!(v["baseline"]["source"]
        .as_str()
        .unwrap()
        .starts_with("s3://ecp-history/history/"));
    assert!(v["notes"].to_string().contains("someone-else/v3"));

    // A prefix URI works the same way; a run like the history passes.
    let (code, stdout, stderr) =
        outcome(&mut moto.compare(&same, &format!("s3://{BUCKET}/{prefix}")));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["baseline"]["runs"], 6);

    // A pinned object.
    let (code, stdout, stderr) =
        outcome(&mut moto.compare(&slow, &format!("s3://{BUCKET}/{}", keys[3])));
    assert_eq!(code, 1, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["baseline"]["kind"], "pinned_run");
    assert_eq!(v["baseline"]["run_ids"], json!(["h-3"]));

    // A pinned object that is missing or corrupt is bad input (2).
    let (code, _, stderr) = outcome(&mut moto.compare(&slow, &format!("s3://{BUCKET}/nope.json")));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("s3://ecp-history/nope.json does not exist"),
        "{stderr}"
    );
    let (code, _, stderr) = outcome(&mut moto.compare(
        &slow,
        &format!("s3://{BUCKET}/{prefix}20991231T000000.000Z-x.json"),
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not a readable results.json"),
        "{stderr}"
    );

    // A bucket that does not exist is an infrastructure error (3), named in the message.
    let (code, _, stderr) = outcome(
        moto.compare(&slow, "history")
            .args(["--metrics-export-s3-bucket", "no-such-bucket"]),
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no-such-bucket"), "{stderr}");
}
