//! Errors from reading beego's web session configuration.

use std::path::PathBuf;

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A line of an app.conf file (or text given as one).
    Line {
        /// The file's path or the name the text was given.
        origin: String,
        /// 1-based line number.
        line: usize,
    },
    /// An environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line { origin, line } => write!(f, "{origin} line {line}"),
            Location::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}

/// A problem in the web session configuration; every message names the key and where it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A line beego's ini reader rejects too (it fails to start on it): neither
    /// `key = value`, a `[section]`, `include "file"`, a comment nor blank.
    #[error(
        "{at}: cannot parse {text:?}: beego expects `key = value`, `[section]`, `include \"file\"` or a `#`/`;` comment, and fails to start on this line too"
    )]
    Syntax {
        /// Where.
        at: Location,
        /// The line as written, with passwords, secret-named values and key-like words
        /// masked.
        text: String,
    },

    /// An `include`d file could not be read (beego fails to start on it too).
    #[error("{at}: cannot read the included file {path}: {source}")]
    Include {
        /// The `include` line.
        at: Location,
        /// The file, relative to the including file's directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A file includes itself, directly or through others (beego recurses until it crashes).
    #[error("{at}: {path} includes itself (through {chain})")]
    IncludeCycle {
        /// The `include` line that closes the cycle.
        at: Location,
        /// The file included again.
        path: PathBuf,
        /// The files in the cycle, in include order.
        chain: String,
    },

    /// A `BEEGO_SESSION…` environment variable that names no session key (a typo would
    /// otherwise be ignored silently).
    #[error("{at}: unknown key `{key}`{hint}; the session keys are: {known}")]
    UnknownKey {
        /// Where.
        at: Location,
        /// The key as written.
        key: String,
        /// A "did you mean" suggestion, or empty.
        hint: String,
        /// The accepted session keys.
        known: String,
    },

    /// A known key with a value that cannot be used.
    #[error("{at}: invalid value for `{key}`: {reason}")]
    Value {
        /// Where.
        at: Location,
        /// The key.
        key: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },

    /// The values are each fine but do not make a valid manager configuration together.
    #[error("invalid session configuration: {0}")]
    Manager(#[from] session_core::ConfigError),
}

/// A value read with one of [`AppConf`](super::AppConf)'s typed accessors that is not of that
/// type (beego's `AppConfig.Int` and friends return the same error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app.conf key `{key}` = {value:?} is not {expected}")]
pub struct AppConfValueError {
    /// The key as asked for.
    pub key: String,
    /// The value found (masked when the key names a secret), empty when the key is absent.
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
}

/// Logs a warning about `at`: something beego accepts but handles in a way worth knowing.
pub(crate) fn warn(at: &Location, message: impl std::fmt::Display) {
    tracing::warn!(target: "session_web::config", "{at}: {message}");
}
