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

    /// A line is neither `key = value`, a `[section]`, a comment nor blank.
    #[error(
        "{at}: cannot parse {text:?}: expected `key = value`, `[section]` or a `#`/`;` comment"
    )]
    Syntax {
        /// Where.
        at: Location,
        /// The line as written.
        text: String,
    },

    /// A key that is neither a session key nor one of beego's other framework keys.
    #[error("{at}: unknown key `{key}`{hint}; the session keys are: {known} (beego's other framework keys, such as appname or httpport, are accepted and ignored)")]
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
