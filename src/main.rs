//! The `elasticache-perf` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match elasticache_perf::cli::Cli::parse_invocation() {
        Ok(cli) => cli,
        // Usage errors (2), and --help and --version (0), printed as clap prints them.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    elasticache_perf::init_logging();
    let r = elasticache_perf::run(cli);
    // Inside Actions: what the action wrote into the workspace goes to the workspace's owner.
    elasticache_perf::github::workspace::hand_back();
    match r {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            let code = elasticache_perf::exit_code_for(&e);
            elasticache_perf::github::report_error(&e);
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(code)
        }
    }
}
