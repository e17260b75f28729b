//! The `elasticache-perf` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = elasticache_perf::cli::Cli::parse();
    elasticache_perf::init_logging();
    match elasticache_perf::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            let code = elasticache_perf::exit_code_for(&e);
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(code)
        }
    }
}
