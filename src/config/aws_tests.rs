//! Validation tests of the AWS inputs: every bad input is refused, before anything is created,
//! with its name, its value and what is allowed.

use clap::Parser;

use super::aws::DEFAULT_LOADGEN_IMAGE;
use super::*;

#[derive(Parser)]
#[command(args_override_self = true)]
struct Wrap {
    #[command(flatten)]
    inputs: RunInputs,
}

const BASE: &[&str] = &[
    "--target",
    "aws",
    "--aws-region",
    "us-east-1",
    "--vpc-id",
    "vpc-0123456789abcdef0",
    "--subnet-ids",
    "subnet-0123456789abcdef0, subnet-0123456789abcdef1",
    "--metrics-export-s3-bucket",
    "my-bench-bucket",
];

fn inputs(extra: &[&str]) -> RunInputs {
    let args = std::iter::once("x")
        .chain(BASE.iter().copied())
        .chain(extra.iter().copied());
    Wrap::parse_from(args).inputs
}

fn aws(extra: &[&str]) -> AwsConfig {
    Config::from_inputs(&inputs(extra)).unwrap().aws.unwrap()
}

fn err(extra: &[&str]) -> ConfigError {
    Config::from_inputs(&inputs(extra)).unwrap_err()
}

#[test]
fn defaults_are_valid_on_aws() {
    let c = Config::from_inputs(&inputs(&[])).unwrap();
    assert_eq!(
        c.duration.as_secs(),
        3600,
        "the action's default is 60 minutes"
    );
    let a = c.aws.unwrap();
    assert_eq!(a.node_type, "cache.t4g.micro");
    assert_eq!((a.num_shards, a.num_replicas, a.node_count()), (1, 0, 1));
    assert!(a.transit_encryption && a.assign_public_ip && !a.cluster_mode());
    assert!(a.dead_mans_switch, "the dead-man's switch is on by default");
    assert!(!aws(&["--dead-mans-switch", "false"]).dead_mans_switch);
    assert_eq!((a.loadgen_cpu, a.loadgen_memory_mib), (1024, 2048));
    assert_eq!(a.loadgen_image, DEFAULT_LOADGEN_IMAGE);
    assert_eq!(a.subnet_ids.len(), 2);
    assert_eq!(a.ttl.as_secs(), (60 + 120) * 60);
    assert_eq!(a.max_cost_usd, Some(25.0));
    assert!(a.extra_memtier_args.is_empty());
    assert_eq!(a.engine_version, None);
}

#[test]
fn local_runs_ignore_aws_inputs() {
    let c = Config::from_inputs(&RunInputs {
        target: "local".into(),
        ..inputs(&["--node-type", "nonsense"])
    })
    .unwrap();
    assert!(c.aws.is_none());
}

/// A bad input: the arguments that give it, the input the error must name, and the value.
type BadInput = (&'static [&'static str], &'static str, &'static str);

/// The region and the cache's shape: engine, version, node type, shards, replicas, TLS.
const CACHE_CASES: &[BadInput] = &[
    (&["--node-type", "m5.large"], "node_type", "m5.large"),
    (&["--node-type", "cache.t4g"], "node_type", "cache.t4g"),
    (
        &["--node-type", "cache.t4g.huge"],
        "node_type",
        "cache.t4g.huge",
    ),
    (&["--engine-type", "memcached"], "engine_type", "memcached"),
    (&["--engine-version", "latest"], "engine_version", "latest"),
    (&["--aws-region", "mars-1"], "aws_region", "mars-1"),
    (&["--aws-region", "US-EAST-1"], "aws_region", "US-EAST-1"),
    (&["--num-replicas", "6"], "num_replicas", "6"),
    (&["--num-replicas", "-1"], "num_replicas", "-1"),
    (&["--num-shards", "0"], "num_shards", "0"),
    (
        &["--num-shards", "200", "--num-replicas", "5"],
        "num_shards",
        "200",
    ),
    (
        &["--transit-encryption", "maybe"],
        "transit_encryption",
        "maybe",
    ),
    (
        &["--engine-type", "valkey", "--engine-version", "7.1"],
        "engine_version",
        "7.1",
    ),
    (&["--num-shards", "91"], "num_shards", "91"),
    (
        &["--num-shards", "31", "--num-replicas", "2"],
        "num_shards",
        "31",
    ),
];

/// The network and the tasks' role: VPC, subnets, security groups, public IP.
const NETWORK_CASES: &[BadInput] = &[
    (&["--vpc-id", "vpc-123"], "vpc_id", "vpc-123"),
    (&["--subnet-ids", "subnet-xyz"], "subnet_ids", "subnet-xyz"),
    (
        &["--subnet-ids", "sg-0123456789abcdef0"],
        "subnet_ids",
        "sg-0123456789abcdef0",
    ),
    (
        &["--subnet-ids", "subnet-01234567,subnet-01234567"],
        "subnet_ids",
        "subnet-01234567,subnet-01234567",
    ),
    (
        &["--security-group-ids", "sg-1"],
        "security_group_ids",
        "sg-1",
    ),
    (
        &["--execution-role-arn", "ecsTaskExecutionRole"],
        "execution_role_arn",
        "ecsTaskExecutionRole",
    ),
    (
        &["--assign-public-ip", "sometimes"],
        "assign_public_ip",
        "sometimes",
    ),
];

/// The load generators: choice, Fargate size, image, registry credentials, memtier arguments.
const LOADGEN_CASES: &[BadInput] = &[
    (&["--loadgen-cpu", "1000"], "loadgen_cpu", "1000"),
    (
        &["--loadgen-cpu", "256", "--loadgen-memory", "4096"],
        "loadgen_memory",
        "4096",
    ),
    (&["--loadgen-memory", "2000"], "loadgen_memory", "2000"),
    (
        &["--loadgen-image", "memtier benchmark"],
        "loadgen_image",
        "memtier benchmark",
    ),
    (
        &["--extra-memtier-args", "[1, 2]"],
        "extra_memtier_args",
        "[1, 2]",
    ),
    (
        &["--extra-memtier-args", "--server=evil"],
        "extra_memtier_args",
        "--server=evil",
    ),
    (
        &["--extra-memtier-args", "--test-time=5"],
        "extra_memtier_args",
        "--test-time=5",
    ),
    (
        &[
            "--loadgen-repository-credentials",
            "arn:aws:iam::123456789012:role/x",
        ],
        "loadgen_repository_credentials",
        "arn:aws:iam::123456789012:role/x",
    ),
    (&["--loadgen", "builtin"], "loadgen", "builtin"),
];

/// The export, the expiry, the cost cap and the dead-man's switch.
const EXPORT_EXPIRY_CASES: &[BadInput] = &[
    (
        &["--dead-mans-switch", "maybe"],
        "dead_mans_switch",
        "maybe",
    ),
    (
        &["--dead-mans-switch-role-arn", "expiry-role"],
        "dead_mans_switch_role_arn",
        "expiry-role",
    ),
    (
        &["--metrics-export-s3-bucket", "My_Bucket"],
        "metrics_export_s3_bucket",
        "My_Bucket",
    ),
    (
        &["--metrics-export-s3-bucket", "ab"],
        "metrics_export_s3_bucket",
        "ab",
    ),
    (
        &["--metrics-export-s3-bucket", "192.168.1.1"],
        "metrics_export_s3_bucket",
        "192.168.1.1",
    ),
    (
        &["--metrics-export-s3-bucket", "a..b"],
        "metrics_export_s3_bucket",
        "a..b",
    ),
    (&["--s3-prefix", "a/../b"], "s3_prefix", "a/../b"),
    (&["--ttl-minutes", "60"], "ttl_minutes", "60"),
    // A test of 60 minutes needs 60 + 45 (creation) + 15; with a prefill 31 more.
    (&["--ttl-minutes", "119"], "ttl_minutes", "119"),
    (
        &["--ttl-minutes", "150", "--prefill", "true"],
        "ttl_minutes",
        "150",
    ),
    (&["--ttl-minutes", "soon"], "ttl_minutes", "soon"),
    (&["--max-cost-usd", "0"], "max_cost_usd", "0"),
    (&["--max-cost-usd", "lots"], "max_cost_usd", "lots"),
];

/// The run's own inputs: duration, ratio, run id.
const RUN_CASES: &[BadInput] = &[
    (
        &["--test-duration-minutes", "0"],
        "test_duration_minutes",
        "0",
    ),
    (
        &["--test-duration-minutes", "-1"],
        "test_duration_minutes",
        "-1",
    ),
    (&["--ratio", "1-10"], "ratio", "1-10"),
    (&["--ratio", "1:x"], "ratio", "1:x"),
    (&["--run-id=-abc"], "run_id", "-abc"),
];

#[test]
fn every_bad_aws_input_is_named_with_its_value() {
    for &(args, input, value) in CACHE_CASES
        .iter()
        .chain(NETWORK_CASES)
        .chain(LOADGEN_CASES)
        .chain(EXPORT_EXPIRY_CASES)
        .chain(RUN_CASES)
    {
        let e = err(args);
        assert_eq!((e.input, e.value.as_str()), (input, value), "{args:?}: {e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("'{input}'")) && msg.contains(value) && msg.contains("must"),
            "{msg}"
        );
    }
}

#[test]
fn missing_required_aws_inputs_are_named() {
    for (drop, input) in [
        ("--aws-region", "aws_region"),
        ("--vpc-id", "vpc_id"),
        ("--subnet-ids", "subnet_ids"),
        ("--metrics-export-s3-bucket", "metrics_export_s3_bucket"),
    ] {
        let mut args = vec!["x"];
        let mut skip = false;
        for a in BASE {
            if skip {
                skip = false;
                continue;
            }
            if *a == drop {
                skip = true;
                continue;
            }
            args.push(a);
        }
        let e = Config::from_inputs(&Wrap::parse_from(args).inputs).unwrap_err();
        assert_eq!(e.input, input);
        assert!(e.to_string().contains("is required on aws"), "{e}");
    }
}

#[test]
fn fargate_pairs_follow_the_table() {
    for (cpu, mem) in [
        ("256", "512"),
        ("512", "4096"),
        ("2048", "16384"),
        ("4096", "30720"),
        ("8192", "20480"),
        ("16384", "122880"),
    ] {
        let a = aws(&["--loadgen-cpu", cpu, "--loadgen-memory", mem]);
        assert_eq!(a.loadgen_cpu.to_string(), cpu);
    }
    for (cpu, mem) in [
        ("256", "3072"),
        ("8192", "18432"),
        ("16384", "36864"),
        ("4096", "31744"),
    ] {
        assert_eq!(
            err(&["--loadgen-cpu", cpu, "--loadgen-memory", mem]).input,
            "loadgen_memory"
        );
    }
    let e = err(&["--loadgen-cpu", "512", "--loadgen-memory", "512"]);
    assert!(e.problem.contains("1024 to 4096 in steps of 1024"), "{e}");
}

#[test]
fn lists_and_shapes() {
    let a = aws(&[
        "--num-shards",
        "3",
        "--num-replicas",
        "1",
        "--security-group-ids",
        "sg-0123456789abcdef0\nsg-01234567",
        "--execution-role-arn",
        "arn:aws:iam::123456789012:role/service/ecsTaskExecutionRole",
        "--extra-memtier-args",
        r#"["--reconnect-interval=100", "--data-size-range=32-64"]"#,
        "--s3-prefix",
        "/bench/redis/",
        "--engine-version",
        "7.1",
        "--max-cost-usd",
        "none",
        "--ttl-minutes",
        "200",
        "--loadgen-repository-credentials",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf",
        "--node-type",
        "cache.r6gd.2xlarge",
        "--transit-encryption",
        "false",
    ]);
    assert!(a.cluster_mode());
    assert_eq!(a.node_count(), 6);
    assert_eq!(
        a.security_group_ids,
        ["sg-0123456789abcdef0", "sg-01234567"]
    );
    assert_eq!(a.extra_memtier_args.len(), 2);
    assert_eq!(a.s3_prefix, "bench/redis");
    assert_eq!(a.engine_version.as_deref(), Some("7.1"));
    assert_eq!(a.max_cost_usd, None);
    assert_eq!(a.ttl.as_secs(), 200 * 60);
    // An ECR copy of the image (a pull-through cache of Docker Hub) is an image like any other.
    let ecr =
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/redislabs/memtier_benchmark:2.3.0";
    assert_eq!(aws(&["--loadgen-image", ecr]).loadgen_image, ecr);
    assert_eq!(
        a.loadgen_repository_credentials.as_deref(),
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf")
    );
    assert!(!a.transit_encryption);
    let lines = aws(&[
        "--extra-memtier-args",
        "--reconnect-interval=5\n\n--expiry-range=10-20\n",
    ]);
    assert_eq!(
        lines.extra_memtier_args,
        ["--reconnect-interval=5", "--expiry-range=10-20"]
    );
}

/// The security groups a cache of your own needs.
const SG: &[&str] = &["--security-group-ids", "sg-0123456789abcdef0"];

#[test]
fn a_cache_of_your_own_is_named_by_its_group_or_its_endpoint() {
    let ok = aws(&[&["--replication-group-id", "staging-cache"], SG].concat());
    assert_eq!(
        ok.cache.existing,
        Some(super::cache::ExistingCache::ReplicationGroup(
            "staging-cache".into()
        ))
    );
    let ok = aws(&[
        &[
            "--endpoint",
            "rediss://staging.abc.cache.amazonaws.com:6379",
        ],
        SG,
    ]
    .concat());
    assert!(matches!(
        ok.cache.existing,
        Some(super::cache::ExistingCache::Endpoint {
            tls: true,
            port: 6379,
            ..
        })
    ));
    let secret = "s3cret-token-0123456789";
    let with_token = aws(&[
        &[
            "--replication-group-id",
            "staging-cache",
            "--auth-token",
            secret,
        ],
        SG,
    ]
    .concat());
    assert_eq!(
        with_token.cache.auth_token.as_ref().map(Secret::expose),
        Some(secret)
    );
    assert!(!format!("{with_token:?}").contains(secret));
}

#[test]
fn a_cache_of_your_own_needs_security_groups_and_one_way_to_name_it() {
    let secret = "s3cret-token-0123456789";
    for (args, input, value, says) in [
        (
            vec!["--endpoint", "redis://staging.example:6379"],
            "security_group_ids",
            "",
            "required with endpoint",
        ),
        (
            vec!["--replication-group-id", "staging-cache"],
            "security_group_ids",
            "",
            "required with replication_group_id",
        ),
        (
            vec![
                "--endpoint",
                "redis://h:6379",
                "--replication-group-id",
                "staging-cache",
                SG[0],
                SG[1],
            ],
            "replication_group_id",
            "staging-cache",
            "cannot be combined with endpoint",
        ),
        (
            vec!["--replication-group-id", "Staging_Cache", SG[0], SG[1]],
            "replication_group_id",
            "Staging_Cache",
            "replication group id",
        ),
        (
            vec![
                "--endpoint",
                "rediss://:hunter2hunter2hunter2@h:6379",
                SG[0],
                SG[1],
            ],
            "endpoint",
            "***@h:6379",
            "auth_token",
        ),
        (
            vec![
                "--replication-group-id",
                "staging-cache",
                "--parameters",
                "maxmemory-policy=allkeys-lru",
                SG[0],
                SG[1],
            ],
            "parameters",
            "maxmemory-policy=allkeys-lru",
            "never changes a cache it did not create",
        ),
        (
            vec!["--auth-token", secret],
            "auth_token",
            "(secret, not shown)",
            "a cache of your own",
        ),
        (
            vec![
                "--replication-group-id",
                "staging-cache",
                "--auth-token",
                "short",
                SG[0],
                SG[1],
            ],
            "auth_token",
            "(secret, not shown)",
            "16 to 128",
        ),
    ] {
        let e = err(&args);
        assert_eq!((e.input, e.value.as_str()), (input, value), "{args:?}: {e}");
        assert!(e.problem.contains(says), "{args:?}: {e}");
        assert!(!e.to_string().contains("hunter2") && !e.to_string().contains(secret));
    }
}

#[test]
fn cache_parameters_are_a_group_or_pairs_and_data_tiering_is_set_or_refused() {
    use super::cache::CacheParameters;
    assert_eq!(aws(&[]).cache.parameters, CacheParameters::Default);
    assert_eq!(
        aws(&["--parameter-group", "my-tuned-redis7"])
            .cache
            .parameters,
        CacheParameters::Group("my-tuned-redis7".into())
    );
    assert_eq!(
        aws(&["--parameters", "maxmemory-policy=allkeys-lru"])
            .cache
            .parameters,
        CacheParameters::Pairs(vec![("maxmemory-policy".into(), "allkeys-lru".into())])
    );
    let tiered = aws(&["--node-type", "cache.r6gd.xlarge"]);
    assert!(tiered.cache.data_tiering);
    assert!(!aws(&["--node-type", "cache.r6g.xlarge"]).cache.data_tiering);
    for (args, input, value, says) in [
        (
            vec!["--parameter-group", "mine", "--parameters", "a=1"],
            "parameters",
            "a=1",
            "cannot be combined with parameter_group",
        ),
        (
            vec!["--parameters", "maxmemory-policy"],
            "parameters",
            "maxmemory-policy",
            "name=value",
        ),
        (
            vec!["--parameter-group=-bad"],
            "parameter_group",
            "-bad",
            "parameter group name",
        ),
        (
            vec![
                "--node-type",
                "cache.r6gd.xlarge",
                "--engine-version",
                "6.0",
            ],
            "node_type",
            "cache.r6gd.xlarge",
            "data-tiering",
        ),
    ] {
        let e = err(&args);
        assert_eq!((e.input, e.value.as_str()), (input, value), "{args:?}: {e}");
        assert!(e.problem.contains(says), "{args:?}: {e}");
    }
}
