//! memtier output shapes the fixtures do not cover, built in memory from a real run's JSON (the
//! committed fixtures themselves are never edited): arbitrary `--command` rows and `--run-count`
//! sections.

#![allow(clippy::unwrap_used)]

use elasticache_perf::memtier::{parse_task, TaskOutputs};
use serde_json::{Map, Value};

use crate::common;
use common::*;

fn single() -> Value {
    memtier_json(&fixtures().join("single"))
}

fn judge(doc: &Value) -> elasticache_perf::client::JudgedClient {
    parse_task(&TaskOutputs {
        id: "t".into(),
        json: Some(serde_json::to_string(doc).unwrap()),
        ..TaskOutputs::default()
    })
    .unwrap()
}

#[test]
fn arbitrary_command_rows_become_lower_case_commands() {
    let mut doc = single();
    let all = doc["ALL STATS"].as_object_mut().unwrap();
    // What `--command="INCR __key__"` writes: the row is named after the command.
    let sets = all.remove("Sets").unwrap();
    all.insert("Incrs".into(), sets.clone());
    all.remove("SET");
    all.insert("INCR".into(), Value::Array(vec![]));
    let j = judge(&doc);
    let c = &j.result;
    assert!(c.commands.contains_key("incr"), "{:?}", c.commands.keys());
    assert!(!c.commands.contains_key("set"));
    let incr = &c.commands["incr"];
    assert_eq!(incr.count, sets["Count"].as_u64().unwrap());
    assert_eq!(
        incr.hits_per_sec, None,
        "hits do not apply to arbitrary commands"
    );
    assert!(incr.histogram.is_some());
}

#[test]
fn run_count_sections_are_combined_and_aggregated_averages_ignored() {
    let base = single();
    let section = base["ALL STATS"].clone();
    let mut top = Map::new();
    top.insert("configuration".into(), base["configuration"].clone());
    top.insert("RUN #1 RESULTS".into(), section.clone());
    top.insert("RUN #2 RESULTS".into(), section.clone());
    top.insert("BEST RUN RESULTS".into(), section.clone());
    // AGGREGATED has an empty histogram and zero runtime: it must not be used.
    let mut agg = section.clone();
    agg["Runtime"]["Total duration"] = 0.into();
    top.insert("AGGREGATED AVERAGE RESULTS (2 runs)".into(), agg);
    let j = judge(&Value::Object(top));
    let c = &j.result;
    let count = section["Totals"]["Count"].as_u64().unwrap();
    assert_eq!(c.totals.count, 2 * count, "both runs counted");
    assert_eq!(c.totals.histogram.as_ref().unwrap().len(), 2 * count);
    let secs = 2.0 * section["Runtime"]["Total duration"].as_f64().unwrap() / 1000.0;
    assert!(close(c.totals.ops_per_sec, 2.0 * count as f64 / secs, 1e-6));
    assert!(
        c.notes.iter().any(|n| n.contains("2 runs")),
        "{:?}",
        c.notes
    );
}
