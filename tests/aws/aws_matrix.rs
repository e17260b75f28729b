//! A workload matrix on the AWS target, against moto with Fargate emulated: two workloads run on
//! one replication group, each workload's tasks with its own memtier command, both workloads'
//! results come home into their own folders and the export, and nothing is left.

#![allow(clippy::unwrap_used)]

use crate::common_aws;

use common_aws::fargate::Mode;
use common_aws::inventory::inventory;
use common_aws::run::run_aws;
use common_aws::Moto;
use elasticache_perf::aws::ledger::{Event, Ledger, ResourceKind};

const RUN_ID: &str = "ecp-mx-aws";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workloads_share_one_replication_group() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let c = moto.clients().await;
    let run = run_aws(
        &moto,
        RUN_ID,
        Mode::Run,
        &[
            "--workloads",
            r#"[{"name": "reads", "ratio": "0:1", "test_duration": "5s"},
                {"name": "writes", "ratio": "1:0", "data_size": 256}]"#,
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let (stderr, out) = (&run.stderr, &run.out_dir);
    assert_eq!(run.code, Some(0), "{stderr}");

    // Exactly one replication group, one cluster, one task definition.
    let entries = Ledger::read(&out.join("ledger.jsonl")).unwrap();
    let created = |k: ResourceKind| {
        entries
            .iter()
            .filter(|e| e.kind == k && e.event == Event::Created)
            .count()
    };
    assert_eq!(created(ResourceKind::ReplicationGroup), 1);
    assert_eq!(created(ResourceKind::EcsCluster), 1);
    assert_eq!(created(ResourceKind::TaskDefinition), 1);
    assert_eq!(created(ResourceKind::EcsTask), 4);

    // Each workload's two tasks ran its own command.
    assert_eq!(run.envs.len(), 4);
    let mut ratios: Vec<String> = std::fs::read_dir(run.work.path().join("fargate"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "args"))
        .map(|p| {
            let args = std::fs::read_to_string(p).unwrap();
            let ratio = args
                .lines()
                .find(|l| l.starts_with("--ratio="))
                .unwrap()
                .to_string();
            let time = args
                .lines()
                .find(|l| l.starts_with("--test-time="))
                .unwrap()
                .to_string();
            format!("{ratio} {time}")
        })
        .collect();
    ratios.sort();
    assert_eq!(
        ratios,
        [
            "--ratio=0:1 --test-time=5",
            "--ratio=0:1 --test-time=5",
            "--ratio=1:0 --test-time=8",
            "--ratio=1:0 --test-time=8",
        ]
    );

    // Both workloads' results home, each in its folder, and the matrix beside them.
    for name in ["reads", "writes"] {
        let r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(name).join("results.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["run"]["details"]["workload_name"], name);
        assert_eq!(r["tasks"].as_array().unwrap().len(), 2);
        assert_eq!(r["status"], "ok", "{name}: {}", r["notes"]);
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    assert_eq!(m["workloads"].as_array().unwrap().len(), 2);

    // The export keeps the layout per workload.
    let listed =
        c.s3.list_objects_v2()
            .bucket(format!("{RUN_ID}-exports"))
            .send()
            .await
            .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    for f in [
        "reads/results.json",
        "writes/results.json",
        "matrix.json",
        "summary.md",
        "chart.png",
    ] {
        assert!(
            keys.iter().any(|k| k.ends_with(&format!("Z/{f}"))),
            "{f}: {keys:?}"
        );
    }
    assert!(
        keys.iter().any(|k| k.contains("/reads/metrics/")),
        "{keys:?}"
    );

    let left = inventory(&c, RUN_ID, &run.vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_first_workload_lists_the_rest_as_not_run() {
    let moto = Moto::start_with(true, &[("ECP_MOTO_STRICT", "1")]);
    let c = moto.clients().await;
    let run_id = "ecp-mx-stall";
    // Every task's memtier hangs: the first workload stalls and ends the matrix.
    let run = run_aws(
        &moto,
        run_id,
        Mode::Hang,
        &[
            "--workloads",
            r#"[{"name": "reads", "ratio": "0:1", "test_duration": "10m"},
                {"name": "writes", "ratio": "1:0"},
                {"name": "big", "data_size": 4096}]"#,
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let (stderr, out) = (&run.stderr, &run.out_dir);
    assert_eq!(run.code, Some(3), "{stderr}");
    assert!(
        stderr.contains("not starting the 2 workload(s) after it"),
        "{stderr}"
    );
    // Only the first workload's tasks ever ran.
    assert_eq!(run.envs.len(), 2, "{stderr}");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    let schema = serde_json::from_str(elasticache_perf::report::matrix::JSON_SCHEMA).unwrap();
    assert!(jsonschema::is_valid(&schema, &m), "{m}");
    let ws = m["workloads"].as_array().unwrap();
    let names: Vec<&str> = ws.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["reads", "writes", "big"], "{m}");
    assert_eq!(ws[0]["status"], "failed", "{m}");
    assert_eq!(ws[0]["results"], "reads/results.json");
    assert!(ws[0].get("reason").is_none(), "{m}");
    let why = "workload 'reads' failed: the load was cut short: no load generator made progress for 120 s";
    for w in &ws[1..] {
        assert_eq!(w["status"], "not_run", "{m}");
        assert_eq!(w["results"], serde_json::Value::Null, "{m}");
        assert_eq!(w["ops_per_sec"], serde_json::Value::Null, "{m}");
        assert_eq!(w["verdict"], "none", "{m}");
        assert!(w["reason"].as_str().unwrap().starts_with(why), "{m}");
        let name = w["name"].as_str().unwrap();
        assert!(!out.join(name).join("results.json").exists(), "{name}");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains(&format!(
            "| big | not run | n/a | n/a | n/a | n/a | none | not run: {why}"
        )),
        "{summary}"
    );
    assert!(summary.contains("2 workload(s) did not run"), "{summary}");

    let left = inventory(&c, run_id, &run.vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
