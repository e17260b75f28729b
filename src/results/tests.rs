//! Tests of the `results.json` model: `run.details` written exactly as the free-form map it
//! replaced, and statuses read strictly.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::client::TaskStatus;

/// Every key this version writes, with a value of the type it writes, plus keys it does not know
/// (one that sorts first, one in the middle, one last), in the compact form `results.json` uses.
fn every_key() -> String {
    let v = json!({
        "_first": [1, {"b": 2, "a": null}],
        "bottleneck_hint": "the cache's engine CPU",
        "cache_parameters": "maxmemory-policy=allkeys-lru",
        "client_vs_server_ops_pct": -0.42,
        "command": "memtier_benchmark --server=127.0.0.1 --test-time=60",
        "cost_estimate_usd": 0.0123,
        "engine": "valkey",
        "engine_version": "valkey 8.0.1",
        "load_generator": "memtier_benchmark",
        "loadgen_cpu": 1024,
        "loadgen_image": "redislabs/memtier_benchmark:2.1.0",
        "loadgen_memory_mib": 2048,
        "node_type": "cache.r7g.large",
        "num_shards": 2,
        "prefill": true,
        "region": "eu-west-1",
        "replicas_per_shard": 1,
        "s3_export": "s3://bucket/prefix",
        "server_ops_per_sec_in_window": 27_728.35,
        "test_duration_secs": 60.0,
        "topology": "2 shards x 1 replica",
        "transit_encryption": false,
        "workload_name": "reads",
        "zz_newer_key": 7
    });
    serde_json::to_string(&v).unwrap()
}

#[test]
fn every_known_key_and_unknown_ones_round_trip_byte_for_byte() {
    let text = every_key();
    let d: RunDetails = serde_json::from_str(&text).unwrap();
    // Each known key landed in its field: only the unknown ones are left over.
    assert_eq!(
        d.other.keys().collect::<Vec<_>>(),
        ["_first", "topology", "zz_newer_key"]
    );
    assert_eq!(d.engine.as_deref(), Some("valkey"));
    assert_eq!(d.num_shards, Some(2));
    assert_eq!(d.transit_encryption, Some(false));
    assert_eq!(d.test_duration_secs, Some(60.0));
    assert_eq!(d.workload_name.as_deref(), Some("reads"));
    for key in RunDetails::KNOWN_KEYS {
        assert!(
            text.contains(&format!("\"{key}\":")),
            "{key} is not in the sample"
        );
    }
    assert_eq!(serde_json::to_string(&d).unwrap(), text);
    // Pretty-printed too, as `results.json` is written.
    let pretty: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&d).unwrap(),
        serde_json::to_string_pretty(&pretty).unwrap()
    );
}

#[test]
fn keys_come_out_sorted_like_the_map_they_replace() {
    // As the AWS target fills them, in its own order, with a key from elsewhere.
    let mut d = RunDetails {
        engine: Some("redis".into()),
        engine_version: Some("service default".into()),
        region: Some("us-east-1".into()),
        node_type: Some("cache.t4g.micro".into()),
        num_shards: Some(1),
        replicas_per_shard: Some(0),
        transit_encryption: Some(true),
        load_generator: Some("memtier_benchmark".into()),
        loadgen_cpu: Some(512),
        command: Some("memtier_benchmark".into()),
        test_duration_secs: Some(30.0),
        prefill: Some(false),
        cost_estimate_usd: Some(0.5),
        workload_name: Some("w".into()),
        ..RunDetails::default()
    };
    d.other.insert("added_by_hand".into(), json!("x"));
    // What the free-form map wrote for the same facts.
    let mut old = BTreeMap::<String, Value>::new();
    old.insert("engine".into(), "redis".into());
    old.insert("engine_version".into(), "service default".into());
    old.insert("region".into(), "us-east-1".into());
    old.insert("node_type".into(), "cache.t4g.micro".into());
    old.insert("num_shards".into(), 1_u32.into());
    old.insert("replicas_per_shard".into(), 0_u32.into());
    old.insert("transit_encryption".into(), true.into());
    old.insert("load_generator".into(), "memtier_benchmark".into());
    old.insert("loadgen_cpu".into(), 512_u32.into());
    old.insert("command".into(), "memtier_benchmark".into());
    old.insert("test_duration_secs".into(), 30.0_f64.into());
    old.insert("prefill".into(), false.into());
    old.insert("cost_estimate_usd".into(), 0.5_f64.into());
    old.insert("workload_name".into(), "w".into());
    old.insert("added_by_hand".into(), "x".into());
    let text = serde_json::to_string(&d).unwrap();
    assert_eq!(text, serde_json::to_string(&old).unwrap());
    let keys: Vec<String> = serde_json::from_str::<BTreeMap<String, Value>>(&text)
        .unwrap()
        .into_keys()
        .collect();
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {text}"
    );
    assert!(text.starts_with("{\"added_by_hand\":"), "{text}");
}

#[test]
fn a_known_key_of_another_type_is_kept_as_it_came() {
    // An integer where a float is written, a float where an integer is, text where a boolean is,
    // a null: none fits its field, and each is written back unchanged.
    let text = r#"{"engine":null,"num_shards":1.5,"prefill":"yes","test_duration_secs":2}"#;
    let d: RunDetails = serde_json::from_str(text).unwrap();
    assert_eq!(d.test_duration_secs, None);
    assert_eq!(d.num_shards, None);
    assert_eq!(d.other.len(), 4);
    assert_eq!(serde_json::to_string(&d).unwrap(), text);
}

#[test]
fn empty_details_are_left_out_and_read_back_empty() {
    let info = RunInfo {
        target: "local".into(),
        ..RunInfo::default()
    };
    let text = serde_json::to_string(&info).unwrap();
    assert_eq!(text, r#"{"target":"local","task_count":0}"#);
    let back: RunInfo = serde_json::from_str(&text).unwrap();
    assert!(back.details.is_empty());
    let d = RunDetails {
        prefill: Some(false),
        ..RunDetails::default()
    };
    assert!(!d.is_empty());
}

#[test]
fn the_command_key_is_the_command_field() {
    let d = RunDetails {
        command: Some("memtier_benchmark".into()),
        ..RunDetails::default()
    };
    assert_eq!(d.to_map().into_keys().collect::<Vec<_>>(), [COMMAND_KEY]);
}

#[test]
fn a_non_finite_float_is_written_as_null_like_before() {
    let d = RunDetails {
        cost_estimate_usd: Some(f64::NAN),
        ..RunDetails::default()
    };
    let mut old = BTreeMap::<String, Value>::new();
    old.insert("cost_estimate_usd".into(), f64::NAN.into());
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        serde_json::to_string(&old).unwrap()
    );
}

/// A minimal `results.json` with the given run and task status words.
fn result_json(run_status: &str, task_status: &str) -> String {
    let stats = json!({"count": 0, "ops_per_sec": null, "hits_per_sec": null,
        "misses_per_sec": null, "kb_per_sec": null, "latency_ms": {}});
    serde_json::to_string(&json!({
        "schema": SCHEMA_ID,
        "tool": {"name": "elasticache-perf", "version": "0"},
        "status": run_status,
        "run": {"target": "analyze", "task_count": 1},
        "whole_run": {"total": stats, "commands": {}, "latency_exact": true},
        "steady_state": {"window": {"start": null, "end": null, "start_unix_ms": null,
            "end_unix_ms": null, "duration_secs": null, "warmup_secs": 0,
            "rampdown_secs": 0, "method": "x"}, "latency_scope": "window",
            "total": stats, "commands": {}},
        "series": [],
        "tasks": [{"id": "t1", "status": task_status, "reason": null, "source": "builtin",
            "started_at": null, "duration_secs": null, "exit_code": null, "total": stats,
            "commands": {}, "errors": [], "notes": []}],
        "histograms": {},
        "notes": []
    }))
    .unwrap()
}

#[test]
fn statuses_read_and_write_as_their_words() {
    for (word, status) in [
        ("ok", TaskStatus::Ok),
        ("degraded", TaskStatus::Degraded),
        ("failed", TaskStatus::Failed),
    ] {
        let text = result_json(word, word);
        let r: RunResult = serde_json::from_str(&text).unwrap();
        assert_eq!(r.status, status);
        assert_eq!(r.tasks[0].status, status);
        assert_eq!(status.as_str(), word);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["status"], word);
        assert_eq!(back["tasks"][0]["status"], word);
    }
}

#[test]
fn an_unknown_status_word_is_refused_naming_it() {
    let err = serde_json::from_str::<RunResult>(&result_json("passed", "ok"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`passed`"), "{err}");
    assert!(err.contains("`ok`, `degraded`, `failed`"), "{err}");
    let err = serde_json::from_str::<RunResult>(&result_json("ok", "OK"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`OK`"), "{err}");
}

#[test]
fn the_schema_lists_the_same_status_words() {
    let schema: Value = serde_json::from_str(JSON_SCHEMA).unwrap();
    let words = [TaskStatus::Ok, TaskStatus::Degraded, TaskStatus::Failed].map(TaskStatus::as_str);
    assert_eq!(schema["properties"]["status"]["enum"], json!(words));
    assert_eq!(
        schema["properties"]["tasks"]["items"]["properties"]["status"]["enum"],
        json!(words)
    );
}
