//! Why a load generator run could not start: the errors a caller may want to branch on.

use super::config::ConfigError;

/// A run that could not start. Failures during a run are not errors: they are counted in the
/// result's `errors` and the measurements so far are kept.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The host name did not resolve.
    #[error("resolving '{addr}': {reason}")]
    Resolve {
        /// `host:port` as given.
        addr: String,
        /// The resolver's message.
        reason: String,
    },
    /// No connection could be opened.
    #[error("could not connect to {addr}: {reason} (all {total} connections failed); check the host, port and that the server is running")]
    Connect {
        /// `host:port`.
        addr: String,
        /// Stable kind: `connection_refused`, `connect_timeout` or `connection_error`.
        kind: &'static str,
        /// The first failure, in words.
        reason: String,
        /// Connections attempted.
        total: u64,
    },
    /// The server refused the credentials (or did not answer AUTH in time).
    #[error("authentication to {addr} failed: {reason}; check the password (and user name)")]
    AuthFailed {
        /// `host:port`.
        addr: String,
        /// The server's reply (never the password).
        reason: String,
    },
}
