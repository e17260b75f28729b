//! A workload matrix on the AWS target, against moto with Fargate emulated: two workloads run on
//! one replication group, each workload's tasks with its own memtier command, both workloads'
//! results come home into their own folders and the export, and nothing is left. A matrix that
//! ends early (a workload stalls, or a signal) still lists every workload, the rest as not run.

#![allow(clippy::unwrap_used)]

use crate::common_aws;

use common_aws::fargate::{hold_tasks_until_stopped, Mode};
use common_aws::inventory::inventory;
use common_aws::run::run_aws;
use common_aws::{bucket, default_vpc, Moto};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_in_the_first_workload_lists_the_second_as_not_run() {
    let moto = Moto::start_with(true, &[]);
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let run_id = "ecp-mx-sig";
    let (vpc, subnets) = default_vpc(&c).await;
    bucket(&c, &format!("{run_id}-exports")).await;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    // No Fargate emulation: the tasks stay RUNNING (hung) until the signal's teardown stops them.
    let log = work.path().join("stderr.txt");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"))
        .args([
            "run", "--target", "aws", "--run-id", run_id, "--vpc-id", &vpc,
        ])
        .args(["--subnet-ids", &subnets.join(",")])
        .args(["--metrics-export-s3-bucket", &format!("{run_id}-exports")])
        .args(["--aws-poll-seconds", "0.2", "--engine-type", "valkey"])
        .args(["--loadgen-task-count", "2", "--test-duration-minutes", "30"])
        .args([
            "--workloads",
            r#"[{"name": "reads", "ratio": "0:1"}, {"name": "writes", "ratio": "1:0"}]"#,
        ])
        .arg("--out")
        .arg(&out)
        .envs(moto.env())
        .env("ELASTICACHE_PERF_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(&log).unwrap_or_default();
    // SIGINT once the first workload's tasks are started.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let task_created = || {
        std::fs::read_to_string(out.join("ledger.jsonl"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("\"kind\":\"ecs_task\"") && l.contains("\"event\":\"created\""))
    };
    while !(stderr().contains("workload 1/2: reads") && task_created()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first workload's tasks never ran:\n{}",
            stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(130), "{}", stderr());
    assert!(!stderr().contains("workload 2/2"), "{}", stderr());

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    let schema = serde_json::from_str(elasticache_perf::report::matrix::JSON_SCHEMA).unwrap();
    assert!(jsonschema::is_valid(&schema, &m), "{m}");
    let ws = m["workloads"].as_array().unwrap();
    assert_eq!(ws.len(), 2, "{m}");
    assert_eq!(ws[0]["name"], "reads");
    assert_eq!(ws[0]["results"], "reads/results.json");
    assert!(out.join("reads/results.json").is_file());
    assert_eq!(ws[1]["name"], "writes");
    assert_eq!(ws[1]["status"], "not_run", "{m}");
    assert_eq!(ws[1]["reason"], "interrupted", "{m}");
    assert!(!out.join("writes/results.json").exists());

    // The teardown is finished from the ledger, as the action's post step or `cleanup` would.
    let o = assert_cmd::Command::cargo_bin("elasticache-perf")
        .unwrap()
        .args(["cleanup", "--poll-seconds", "0.2", "--out"])
        .arg(&out)
        .envs(moto.env())
        .timeout(std::time::Duration::from_secs(180))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let left = inventory(&c, run_id, &vpc).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
