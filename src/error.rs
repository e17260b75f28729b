//! The errors callers branch on: bad input ([`InputError`], exit 2) and one rejected input
//! ([`ConfigError`], naming the input, the value and what is allowed). A leaf: it imports nothing
//! from the crate.

/// Bad input from the user: a message naming the input, the value and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// One rejected input, kept typed (`?` on a [`ConfigError`] keeps which input it was).
    #[error(transparent)]
    Input(#[from] ConfigError),
    /// Anything else wrong with the inputs, in words.
    #[error("{0}")]
    Message(String),
}

impl InputError {
    /// A new input error.
    pub fn new(msg: impl Into<String>) -> Self {
        Self::Message(msg.into())
    }

    /// The input that was rejected, when one input was.
    pub fn input(&self) -> Option<&'static str> {
        match self {
            Self::Input(e) => Some(e.input),
            Self::Message(_) => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_error_keeps_its_input_through_input_error() {
        let e = InputError::from(ConfigError::new(
            "node_type",
            "x1",
            "must be a cache.* type",
        ));
        assert_eq!(e.input(), Some("node_type"));
        assert_eq!(
            e.to_string(),
            "input 'node_type' must be a cache.* type; got 'x1'"
        );
        assert_eq!(InputError::new("bad").input(), None);
    }
}
