//! The engine's `providerConfig`: beego's plain directory, or a JSON object with options.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use session_core::ConfigError;

use crate::ENGINE;

/// How long a release waits for another request's lock on the same session by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The file engine's settings, parsed from `providerConfig`.
///
/// Two forms are accepted:
/// - beego's: the directory itself, e.g. `./tmp` or `/var/lib/app/sessions` (surrounding
///   whitespace is ignored);
/// - JSON, for options: `{"path": "./tmp", "fsync": true, "lockTimeoutMs": 5000}`.
///   Only `path` is required. A directory whose name starts with `{` must use this form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// The session directory. Created (mode 0700) if missing; relative paths are relative
    /// to the process's working directory, as in beego.
    pub path: PathBuf,
    /// Flush each written session, and its directory entry, to disk before the write
    /// counts as done (survives power loss, costs two `fsync`s per write). Default `false`:
    /// a process crash can still never leave a torn session, since every write is a new
    /// file renamed into place.
    pub fsync: bool,
    /// How long a write waits for another request's lock on the same session before it
    /// fails with a backend error. Default [`DEFAULT_LOCK_TIMEOUT`].
    pub lock_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonForm {
    #[serde(alias = "savePath", alias = "dir")]
    path: String,
    #[serde(default)]
    fsync: bool,
    #[serde(default, alias = "lock_timeout_ms")]
    #[serde(rename = "lockTimeoutMs")]
    lock_timeout_ms: Option<u64>,
}

impl FileConfig {
    /// Settings for `path` with the defaults (no fsync, 10 s lock timeout).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfig {
            path: path.into(),
            fsync: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Parses `providerConfig` (see the type's documentation for the forms).
    pub fn parse(config: &str) -> Result<Self, ConfigError> {
        let trimmed = config.trim();
        if trimmed.is_empty() {
            return Err(ConfigError::provider(
                ENGINE,
                "providerConfig is empty: give the directory to keep session files in, \
                 e.g. \"./tmp\", or {\"path\": \"./tmp\", \"fsync\": true}",
            ));
        }
        if !trimmed.starts_with('{') {
            // Trimmed: a newline carried in from an environment variable or a config file
            // must not become part of a directory name.
            return Ok(FileConfig::new(trimmed));
        }
        let form: JsonForm = serde_json::from_str(trimmed).map_err(|e| {
            ConfigError::provider(
                ENGINE,
                format!(
                    "providerConfig looks like JSON but is not valid: {e}; expected \
                     {{\"path\": \"<dir>\", \"fsync\": <bool>, \"lockTimeoutMs\": <ms>}}"
                ),
            )
        })?;
        if form.path.trim().is_empty() {
            return Err(ConfigError::provider(
                ENGINE,
                "providerConfig `path` is empty: give the directory to keep session files in",
            ));
        }
        let lock_timeout = match form.lock_timeout_ms {
            None => DEFAULT_LOCK_TIMEOUT,
            Some(0) => {
                return Err(ConfigError::provider(
                    ENGINE,
                    "providerConfig `lockTimeoutMs` is 0: writes would never wait for a \
                     concurrent request; use at least 1 (default 10000)",
                ))
            }
            Some(ms) => Duration::from_millis(ms),
        };
        Ok(FileConfig {
            path: PathBuf::from(form.path),
            fsync: form.fsync,
            lock_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_directory_is_beegos_form() {
        let c = FileConfig::parse("./tmp").unwrap();
        assert_eq!(c, FileConfig::new("./tmp"));
        assert_eq!(
            FileConfig::parse(" /var/s\n").unwrap().path,
            PathBuf::from("/var/s")
        );
        assert!(!c.fsync);
    }

    #[test]
    fn json_form_carries_options() {
        let c = FileConfig::parse(r#" {"path": "/var/s", "fsync": true, "lockTimeoutMs": 250} "#)
            .unwrap();
        assert_eq!(c.path, PathBuf::from("/var/s"));
        assert!(c.fsync);
        assert_eq!(c.lock_timeout, Duration::from_millis(250));
        let c = FileConfig::parse(r#"{"savePath": "x"}"#).unwrap();
        assert_eq!(c, FileConfig::new("x"));
    }

    #[test]
    fn bad_configs_are_errors_naming_the_field() {
        for (bad, needle) in [
            ("", "providerConfig is empty"),
            ("   ", "providerConfig is empty"),
            (r#"{"path": ""}"#, "`path` is empty"),
            (r#"{"fsync": true}"#, "missing field `path`"),
            (r#"{"path": "x", "fsnyc": true}"#, "unknown field `fsnyc`"),
            (r#"{"path": "x", "lockTimeoutMs": 0}"#, "lockTimeoutMs"),
            ("{not json", "not valid"),
        ] {
            let err = FileConfig::parse(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
            assert!(err.contains("`file`"), "{bad:?}: {err}");
        }
    }
}
