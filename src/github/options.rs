//! The GitHub inputs (`github_token`, `comment`, `pr_number`, `profile`) checked and typed, before
//! anything runs. Pure.

use crate::config::{ConfigError, GithubInputs, Secret};

/// When to comment on the pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentPolicy {
    /// Create or update the comment on every run.
    Always,
    /// Create it only when the gate found a regression; an existing comment is still updated, so
    /// that it never shows a regression that a later push fixed.
    OnRegression,
    /// Never comment.
    Never,
}

/// Validated GitHub inputs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The token (`None` when empty).
    pub token: Option<Secret>,
    /// Comment policy.
    pub comment: CommentPolicy,
    /// PR to comment on instead of the event's.
    pub pr_number: Option<u64>,
    /// Profile key of the comment instead of the derived one.
    pub profile: Option<String>,
    /// File a regression issue on a confirmed regression (`regression_issue`).
    pub regression_issue: bool,
}

impl Options {
    /// Check the inputs; errors name the input.
    pub fn from_inputs(i: &GithubInputs) -> Result<Self, ConfigError> {
        let comment = match i.comment.trim() {
            "always" => CommentPolicy::Always,
            "on-regression" => CommentPolicy::OnRegression,
            "never" => CommentPolicy::Never,
            _ => {
                return Err(ConfigError::new(
                    "comment",
                    &i.comment,
                    "must be 'always', 'on-regression' or 'never'",
                ))
            }
        };
        let pr_number = match i.pr_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(
                s.trim_start_matches('#')
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ConfigError::new("pr_number", s, "must be a pull request number, e.g. 42")
                    })?,
            ),
        };
        let profile = match i.profile.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(super::profile::validate(p)?),
        };
        let token = i
            .github_token
            .as_ref()
            .filter(|t| !t.expose().trim().is_empty())
            .map(|t| Secret::new(t.expose().trim()));
        let regression_issue =
            crate::config::parse_bool("regression_issue", &i.regression_issue, Some(false))?;
        Ok(Self {
            token,
            comment,
            pr_number,
            profile,
            regression_issue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(comment: &str, pr: &str) -> GithubInputs {
        GithubInputs {
            github_token: Some(Secret::new(" t0ken ")),
            comment: comment.into(),
            pr_number: Some(pr.into()),
            profile: None,
            regression_issue: "false".into(),
        }
    }

    #[test]
    fn accepts_the_documented_values() {
        let o = Options::from_inputs(&inputs("on-regression", "#12")).unwrap();
        assert_eq!(o.comment, CommentPolicy::OnRegression);
        assert_eq!(o.pr_number, Some(12));
        assert_eq!(o.token.unwrap().expose(), "t0ken");
        assert_eq!(
            Options::from_inputs(&inputs("never", ""))
                .unwrap()
                .pr_number,
            None
        );
    }

    #[test]
    fn names_the_input_at_fault() {
        assert_eq!(
            Options::from_inputs(&inputs("sometimes", ""))
                .unwrap_err()
                .input,
            "comment"
        );
        assert_eq!(
            Options::from_inputs(&inputs("always", "0"))
                .unwrap_err()
                .input,
            "pr_number"
        );
        assert_eq!(
            Options::from_inputs(&inputs("always", "x"))
                .unwrap_err()
                .input,
            "pr_number"
        );
    }
}
