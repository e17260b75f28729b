//! The errors callers branch on: bad input ([`InputError`], exit 2) and one rejected input
//! ([`ConfigError`], naming the input, the value and what is allowed). A leaf: it imports nothing
//! from the crate.

/// Bad input from the user: a message naming the input, the value and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    /// A new input error.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl From<ConfigError> for InputError {
    /// Bad input, its message naming the input, the value and what is allowed.
    fn from(e: ConfigError) -> Self {
        Self(e.to_string())
    }
}

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
