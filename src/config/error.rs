//! Input validation errors: each names the input, the value given and what is allowed.

/// A rejected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input '{input}' {problem}; got '{value}'")]
pub struct ConfigError {
    /// The snake_case input name (also the action input and, in kebab-case, the CLI flag).
    pub input: &'static str,
    /// The value as given (secrets are never put here).
    pub value: String,
    /// What is allowed.
    pub problem: String,
}

impl ConfigError {
    /// A new error.
    pub fn new(input: &'static str, value: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            input,
            value: value.into(),
            problem: problem.into(),
        }
    }
}
