//! Validation tests: every bad input is refused with its name, its value and what is allowed.

use clap::Parser;

use super::*;

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    inputs: RunInputs,
}

fn inputs(args: &[&str]) -> RunInputs {
    Wrap::parse_from(std::iter::once("x").chain(args.iter().copied())).inputs
}

fn err(args: &[&str]) -> ConfigError {
    Config::from_inputs(&inputs(args)).unwrap_err()
}

#[test]
fn defaults_are_valid() {
    let c = Config::from_inputs(&inputs(&[])).unwrap();
    assert_eq!(c.target, Target::Local);
    assert_eq!(c.duration, DEFAULT_LOCAL_DURATION);
    assert_eq!((c.workload.ratio_set, c.workload.ratio_get), (1, 10));
}

#[test]
fn every_bad_input_is_named_with_its_value() {
    for (args, input, value) in [
        (
            &["--engine-type", "memcached"][..],
            "engine_type",
            "memcached",
        ),
        (&["--target", "gcp"], "target", "gcp"),
        (
            &["--test-duration-minutes", "0"],
            "test_duration_minutes",
            "0",
        ),
        (
            &["--test-duration-minutes", "-5"],
            "test_duration_minutes",
            "-5",
        ),
        (
            &["--test-duration-seconds", "abc"],
            "test_duration_seconds",
            "abc",
        ),
        (&["--loadgen-task-count", "0"], "loadgen_task_count", "0"),
        (&["--ratio", "abc"], "ratio", "abc"),
        (&["--ratio", "0:0"], "ratio", "0:0"),
        (&["--key-pattern", "X:R"], "key_pattern", "X:R"),
        (&["--pipeline", "0"], "pipeline", "0"),
        (&["--data-size", "big"], "data_size", "big"),
        (
            &["--key-minimum", "10", "--key-maximum", "5"],
            "key_maximum",
            "5",
        ),
        (&["--prefill", "maybe"], "prefill", "maybe"),
        (&["--loadgen", "wrk"], "loadgen", "wrk"),
        (
            &["--endpoint", "redis://127.0.0.1"],
            "endpoint",
            "redis://127.0.0.1",
        ),
        (&["--run-id", "a--b"], "run_id", "a--b"),
    ] {
        let e = err(args);
        assert_eq!(e.input, input, "{args:?}");
        assert_eq!(e.value, value, "{args:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("'{input}'")) && msg.contains(value) && msg.contains("must"),
            "{msg}"
        );
    }
}

#[test]
fn durations_take_units_and_fractions() {
    let d = |a: &[&str]| {
        Config::from_inputs(&inputs(a))
            .unwrap()
            .duration
            .as_secs_f64()
    };
    assert_eq!(d(&["--test-duration-minutes", "2"]), 120.0);
    assert_eq!(d(&["--test-duration-minutes", "0.5"]), 30.0);
    assert_eq!(d(&["--test-duration-minutes", "20s"]), 20.0);
    assert_eq!(d(&["--test-duration-seconds", "15"]), 15.0);
    assert_eq!(d(&["--test-duration-seconds", "1h"]), 3600.0);
    let e = err(&[
        "--test-duration-minutes",
        "1",
        "--test-duration-seconds",
        "5",
    ]);
    assert_eq!(e.input, "test_duration_seconds");
}

#[test]
fn endpoint_passwords_never_show() {
    let c = Config::from_inputs(&inputs(&[
        "--endpoint",
        "redis://bob:hunter2@127.0.0.1:6390",
    ]))
    .unwrap();
    let ep = c.endpoint.clone().unwrap();
    assert_eq!(ep.username.as_deref(), Some("bob"));
    assert_eq!(ep.password.as_ref().map(Secret::expose), Some("hunter2"));
    assert!(!format!("{c:?}").contains("hunter2"));
    let e = err(&["--endpoint", "redis://bob:hunter2@127.0.0.1"]);
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let ep = parse_endpoint("redis://:pw@[::1]:6379").unwrap();
    assert_eq!(
        (ep.host.as_str(), ep.port, ep.username),
        ("::1", 6379, None)
    );
}
