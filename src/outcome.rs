//! How a command ended ([`Outcome`]) and the process's exit codes. A leaf: it imports nothing
//! from the crate.

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a regression was found.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code: bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: the run or its infrastructure failed.
pub const EXIT_RUN_FAILED: u8 = 3;
/// Exit code: interrupted by a signal.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Ok,
    /// Results were written but the run failed (no usable load generator, or the server died).
    RunFailed,
    /// A signal cut the run short; what was measured was written.
    Interrupted,
    /// The gate found a regression (and `fail_on_regression` is on).
    Regression,
    /// The input could not be judged as given (e.g. the baseline's profile differs); the reason
    /// was printed as the verdict.
    BadInput,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ok => EXIT_OK,
            Self::RunFailed => EXIT_RUN_FAILED,
            Self::Interrupted => EXIT_INTERRUPTED,
            Self::Regression => EXIT_REGRESSION,
            Self::BadInput => EXIT_BAD_INPUT,
        }
    }
}
