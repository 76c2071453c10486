//! Error types: one enum per kind of failure, each message saying what to do about it.

use std::borrow::Cow;

use crate::id::Fingerprint;

/// Boxed error from an engine's backend (a database driver, the file system, …).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while handling a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid; nothing was started.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// An engine name could not be resolved or registered.
    #[error(transparent)]
    Registry(#[from] RegistryError),

    /// The engine's backend failed (connection refused, I/O error, timeout, …).
    ///
    /// Web integrations answer these with `503 Service Unavailable`.
    #[error("session engine `{engine}` failed while trying to {action}: {source}")]
    Backend {
        /// The engine's registered name.
        engine: Cow<'static, str>,
        /// What the engine was doing, e.g. "read session".
        action: Cow<'static, str>,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// A value could not be encoded to MessagePack.
    #[error("cannot encode the value for session key `{key}`: {source}")]
    Encode {
        /// The session key.
        key: String,
        /// The serializer's error.
        #[source]
        source: rmp_serde::encode::Error,
    },

    /// A stored value exists but does not decode as the requested type.
    ///
    /// The session itself is untouched: other keys, and this key read as the
    /// right type, keep working.
    #[error("the value for session key `{key}` is not a `{expected}`: {source}")]
    Decode {
        /// The session key.
        key: String,
        /// The Rust type that was asked for.
        expected: &'static str,
        /// The deserializer's error.
        #[source]
        source: rmp_serde::decode::Error,
    },

    /// The session is too large for the engine (e.g. a cookie over 4096 bytes); nothing
    /// was written.
    #[error(
        "session {session} is too large for engine `{engine}`: {size} bytes, the limit is {limit}; \
         store less in the session (an id pointing to your own storage, not the data itself)"
    )]
    TooLarge {
        /// The engine's registered name.
        engine: Cow<'static, str>,
        /// The session's [`Fingerprint`] (never the id itself, a credential).
        session: Fingerprint,
        /// The encoded size.
        size: usize,
        /// The engine's limit.
        limit: usize,
    },

    /// The engine does not support this operation.
    #[error("session engine `{engine}` does not support {what}")]
    Unsupported {
        /// The engine's registered name.
        engine: Cow<'static, str>,
        /// The operation.
        what: &'static str,
    },

    /// The stored session was written by a newer build of this library, in a format this
    /// build cannot read. Nothing was written, so the newer build still finds it; the
    /// request fails (the web layer answers 503) rather than lose the session.
    #[error(
        "a session stored by engine `{engine}` has format version {version}, newer than this \
         build reads ({}); it was left untouched: finish the deploy (or roll forward) so that \
         every instance runs the newer version",
        crate::data::FORMAT_VERSION
    )]
    NewerFormat {
        /// The engine's registered name.
        engine: Cow<'static, str>,
        /// The version byte found.
        version: u8,
    },

    /// A session id that this manager could not have minted was passed in.
    #[error(
        "a session id of {len} characters (fingerprint {session}) is not valid for this manager"
    )]
    InvalidId {
        /// The id's [`Fingerprint`].
        session: Fingerprint,
        /// Its length in bytes.
        len: usize,
    },

    /// The operating system's random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Random(String),
}

impl Error {
    /// Wraps a backend error, naming the engine and what it was doing.
    pub fn backend(
        engine: impl Into<Cow<'static, str>>,
        action: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Backend {
            engine: engine.into(),
            action: action.into(),
            source: source.into(),
        }
    }

    /// An [`Error::InvalidId`] for `sid`, which is never quoted.
    pub fn invalid_id(sid: &str) -> Self {
        Error::InvalidId {
            session: Fingerprint::of(sid),
            len: sid.len(),
        }
    }

    /// True when the failure is the backend's (connection, I/O, timeout).
    pub fn is_backend(&self) -> bool {
        matches!(self, Error::Backend { .. })
    }

    /// True when the session storage cannot serve this request now but may later: a
    /// backend failure, or a session stored by a newer build. The web layer answers these
    /// with `503 Service Unavailable`.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Backend { .. } | Error::NewerFormat { .. })
    }
}

/// A configuration value is missing, malformed or out of range.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field has a value that cannot be used.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// The field's name as written in beego's configuration.
        field: &'static str,
        /// What is wrong and what would be accepted.
        reason: String,
    },

    /// A field name that beego's configuration does not have.
    #[error("unknown configuration field `{field}`; known fields are: {known}")]
    UnknownField {
        /// The unknown name.
        field: String,
        /// The accepted names, comma separated.
        known: String,
    },

    /// The configuration text is not valid JSON of the expected shape.
    #[error("session configuration is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// An engine rejected its `providerConfig` string.
    #[error("invalid providerConfig for engine `{engine}`: {reason}")]
    Provider {
        /// The engine's registered name.
        engine: Cow<'static, str>,
        /// What is wrong (secrets masked).
        reason: String,
    },
}

impl ConfigError {
    /// An invalid value for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// An engine's `providerConfig` is unusable.
    pub fn provider(engine: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        ConfigError::Provider {
            engine: engine.into(),
            reason: reason.into(),
        }
    }

    /// This error with every secret of `input` (the configuration string it is about)
    /// masked in its reason, pieces of a split password included
    /// ([`dsn::mask_secrets_of`](crate::dsn::mask_secrets_of)). Engines' parsers return
    /// their errors through it.
    pub fn masking_secrets_of(self, input: &str) -> Self {
        match self {
            ConfigError::Invalid { field, reason } => ConfigError::Invalid {
                field,
                reason: crate::dsn::mask_secrets_of(&reason, input),
            },
            ConfigError::Provider { engine, reason } => ConfigError::Provider {
                engine,
                reason: crate::dsn::mask_secrets_of(&reason, input),
            },
            other => other,
        }
    }
}

/// Problems with the engine registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No engine is registered under this name.
    #[error(
        "no session engine named `{name}` is registered (registered: {registered}); \
         add the crate `{suggested_crate}` to your Cargo.toml and write `use {suggested_path} as _;` \
         in your app so it is linked, or call `session_core::register` for an engine of your own"
    )]
    Unknown {
        /// The requested name.
        name: String,
        /// The registered names, comma separated.
        registered: String,
        /// The crate that usually provides this engine.
        suggested_crate: String,
        /// That crate's Rust path.
        suggested_path: String,
    },

    /// Two engines claim the same name.
    #[error("a session engine named `{0}` is already registered; engine names must be unique")]
    Duplicate(String),

    /// The name is empty or has characters other than `a-z`, `0-9`, `_` and `-`.
    #[error("`{0}` is not a valid engine name: use lowercase letters, digits, `_` and `-`")]
    InvalidName(String),
}
