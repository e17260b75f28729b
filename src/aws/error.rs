//! The AWS target's error type: every error names the action and the resource; callers branch on
//! [`Error::is_not_found`] (teardown treats "already gone" as success) and [`Error::is_transient`]
//! (throttling, 5xx, timeouts: worth another try). The classification of codes is a pure table.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An AWS call that failed, or a wait that gave up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The resource does not exist (any service's not-found code).
    #[error("{action} {resource}: not found ({code})")]
    NotFound {
        /// API action, e.g. `DeleteSecurityGroup`.
        action: &'static str,
        /// The resource, e.g. `security group 'sg-0…' (ecp-x-cache)`.
        resource: String,
        /// The service's error code.
        code: String,
    },
    /// The service answered with an error.
    #[error("{action} {resource}: {code}: {message}")]
    Api {
        /// API action.
        action: &'static str,
        /// The resource.
        resource: String,
        /// The service's error code (or `HTTP <status>` / `dispatch` when there is none).
        code: String,
        /// The service's message, or the whole error chain.
        message: String,
        /// Whether trying again may help.
        transient: bool,
    },
    /// A wait for a state did not end in time.
    #[error("{action} {resource}: still '{state}' after {secs} s")]
    Timeout {
        /// What was waited for, e.g. `waiting for replication group to be available`.
        action: &'static str,
        /// The resource.
        resource: String,
        /// The last state seen.
        state: String,
        /// How long it waited.
        secs: u64,
    },
    /// A resource ended in a state it cannot leave (e.g. `create-failed`).
    #[error("{action} {resource}: {detail}")]
    Failed {
        /// What was done.
        action: &'static str,
        /// The resource.
        resource: String,
        /// What happened.
        detail: String,
    },
}

/// How an error code is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The resource is gone or never existed.
    NotFound,
    /// Throttling, a service-side failure or a network problem: try again later.
    Transient,
    /// Anything else: trying again will not help.
    Permanent,
}

/// Not-found codes of the services the tool calls.
const NOT_FOUND_CODES: &[&str] = &[
    "ReplicationGroupNotFoundFault",
    "CacheSubnetGroupNotFoundFault",
    "CacheClusterNotFound",
    "CacheParameterGroupNotFound",
    "InvalidGroup.NotFound",
    "InvalidSecurityGroupID.NotFound",
    "InvalidPermission.NotFound",
    "NoSuchEntity",
    "ResourceNotFoundException",
    "ClusterNotFoundException",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
];

/// Codes that mean "too fast" or "the service had a problem".
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServerException",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Classify an error code and HTTP status (pure; the table test lives below).
pub fn classify(code: Option<&str>, status: Option<u16>) -> Class {
    match code {
        Some(c) if NOT_FOUND_CODES.contains(&c) => Class::NotFound,
        Some(c) if TRANSIENT_CODES.contains(&c) => Class::Transient,
        _ if status.is_some_and(|s| s == 429 || s >= 500) => Class::Transient,
        _ => Class::Permanent,
    }
}

impl Error {
    /// Whether the resource was not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { transient, .. } => *transient,
            Self::Timeout { .. } => true,
            Self::NotFound { .. } | Self::Failed { .. } => false,
        }
    }

    /// Whether a call naming a role that was just created failed because IAM has not propagated it
    /// yet, which passes by itself (AWS documents IAM as eventually consistent): ECS's
    /// `ClientException: Role is not valid`, an `AccessDenied…` on `iam:PassRole`, or Scheduler's
    /// `ValidationException` about its execution role.
    pub fn is_iam_propagation(&self) -> bool {
        let Self::Api { code, message, .. } = self else {
            return false;
        };
        let m = message.to_ascii_lowercase();
        match code.as_str() {
            "ClientException" => m.contains("role is not valid") || m.contains("iam:passrole"),
            "AccessDeniedException" | "AccessDenied" => m.contains("iam:passrole"),
            "ValidationException" => m.contains("role"),
            _ => false,
        }
    }

    /// Whether EC2 answered "not found" for a resource the caller has just created (EC2's API is
    /// eventually consistent: the next call may not see it for a few seconds).
    pub fn is_ec2_not_yet_visible(&self) -> bool {
        matches!(
            self.code(),
            Some("InvalidGroup.NotFound" | "InvalidSecurityGroupID.NotFound")
        )
    }

    /// The service's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::NotFound { code, .. } | Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Map an SDK error, naming the action and the resource.
    // By value, so that call sites read `.map_err(|e| Error::from_sdk(…, e))`.
    #[allow(clippy::needless_pass_by_value)]
    pub fn from_sdk<E>(
        action: &'static str,
        resource: impl Into<String>,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let resource = resource.into();
        let status = err.raw_response().map(|r| r.status().as_u16());
        let (code, transient_kind) = match &err {
            SdkError::TimeoutError(_) => (Some("timeout".to_string()), true),
            SdkError::DispatchFailure(_) => (Some("dispatch".to_string()), true),
            SdkError::ResponseError(_) => (Some("response".to_string()), true),
            _ => (err.code().map(str::to_string), false),
        };
        let message = err
            .message()
            .map_or_else(|| DisplayErrorContext(&err).to_string(), str::to_string);
        let code_str = code.clone().unwrap_or_else(|| match status {
            Some(s) => format!("HTTP {s}"),
            None => "error".to_string(),
        });
        match classify(code.as_deref(), status) {
            Class::NotFound => Self::NotFound {
                action,
                resource,
                code: code_str,
            },
            class => Self::Api {
                action,
                resource,
                code: code_str,
                message,
                transient: transient_kind || class == Class::Transient,
            },
        }
    }
}

/// `Result` of the AWS target.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turn a not-found error into success (for idempotent deletes).
pub fn ok_if_not_found(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        for (code, status, want) in [
            (
                Some("ReplicationGroupNotFoundFault"),
                Some(404),
                Class::NotFound,
            ),
            (Some("InvalidGroup.NotFound"), Some(400), Class::NotFound),
            (Some("NoSuchEntity"), Some(404), Class::NotFound),
            (
                Some("ResourceNotFoundException"),
                Some(400),
                Class::NotFound,
            ),
            (Some("NotFound"), Some(404), Class::NotFound),
            (Some("Throttling"), Some(400), Class::Transient),
            (Some("ThrottlingException"), Some(400), Class::Transient),
            (Some("RequestLimitExceeded"), Some(503), Class::Transient),
            (Some("SlowDown"), Some(503), Class::Transient),
            (Some("InternalFailure"), Some(500), Class::Transient),
            (None, Some(500), Class::Transient),
            (None, Some(429), Class::Transient),
            (Some("InvalidParameterValue"), Some(400), Class::Permanent),
            (Some("AccessDenied"), Some(403), Class::Permanent),
            (Some("DependencyViolation"), Some(400), Class::Permanent),
            (None, None, Class::Permanent),
        ] {
            assert_eq!(classify(code, status), want, "{code:?} {status:?}");
        }
    }

    #[test]
    fn only_iam_propagation_errors_are_waited_out() {
        let api = |code: &str, message: &str| Error::Api {
            action: "CreateSchedule",
            resource: "schedule 'ecp-x-expiry'".into(),
            code: code.into(),
            message: message.into(),
            transient: false,
        };
        for (code, message, want) in [
            (
                "ValidationException",
                "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.",
                true,
            ),
            ("ClientException", "Role is not valid", true),
            (
                "AccessDeniedException",
                "User: arn:aws:sts::1:assumed-role/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/x",
                true,
            ),
            ("ValidationException", "Invalid Schedule Expression at(2026).", false),
            ("AccessDeniedException", "role", false),
            ("ClientException", "Container.image should not be null", false),
        ] {
            assert_eq!(api(code, message).is_iam_propagation(), want, "{code}: {message}");
        }
        assert!(!Error::NotFound {
            action: "CreateSchedule",
            resource: "x".into(),
            code: "ResourceNotFoundException".into(),
        }
        .is_iam_propagation());
    }

    #[test]
    fn messages_name_action_and_resource() {
        let e = Error::Api {
            action: "CreateReplicationGroup",
            resource: "replication group 'ecp-x'".into(),
            code: "InvalidParameterValue".into(),
            message: "bad node".into(),
            transient: false,
        };
        assert_eq!(
            e.to_string(),
            "CreateReplicationGroup replication group 'ecp-x': InvalidParameterValue: bad node"
        );
        assert!(!e.is_transient() && !e.is_not_found());
        let nf = Error::NotFound {
            action: "DeleteLogGroup",
            resource: "log group '/x'".into(),
            code: "ResourceNotFoundException".into(),
        };
        assert!(nf.is_not_found() && ok_if_not_found(Err(nf)).is_ok());
    }
}
