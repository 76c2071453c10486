//! The engine's `providerConfig`: empty (beego's form, no cap) or JSON with a cap.

use std::num::NonZeroUsize;

use serde::Deserialize;
use session_core::ConfigError;

use crate::ENGINE;

/// The memory engine's settings, parsed from `providerConfig`.
///
/// - empty (beego's form, where the memory engine takes no configuration): no cap;
/// - JSON: `{"maxEntries": 100000}` caps the number of stored sessions; past it, the least
///   recently used ones are evicted (see the crate docs for the exact policy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryConfig {
    /// The most sessions kept at once; `None`: no cap (only GC removes sessions).
    pub max_entries: Option<NonZeroUsize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonForm {
    #[serde(rename = "maxEntries", alias = "max_entries")]
    max_entries: Option<usize>,
}

impl MemoryConfig {
    /// No cap, as in beego.
    pub fn unbounded() -> Self {
        MemoryConfig::default()
    }

    /// At most `max_entries` sessions.
    pub fn max_entries(max_entries: NonZeroUsize) -> Self {
        MemoryConfig {
            max_entries: Some(max_entries),
        }
    }

    /// Parses `providerConfig` (see the type's documentation for the forms).
    pub fn parse(config: &str) -> Result<Self, ConfigError> {
        let trimmed = config.trim();
        if trimmed.is_empty() {
            return Ok(MemoryConfig::unbounded());
        }
        let expected = "expected nothing (no cap) or JSON such as {\"maxEntries\": 100000}";
        if !trimmed.starts_with('{') {
            // Not echoed: a providerConfig copied from another engine may hold a password.
            return Err(ConfigError::provider(
                ENGINE,
                format!("providerConfig is not JSON; {expected}"),
            ));
        }
        let form: JsonForm = serde_json::from_str(trimmed).map_err(|e| {
            ConfigError::provider(
                ENGINE,
                format!("providerConfig is not valid: {e}; {expected}"),
            )
        })?;
        let max_entries = match form.max_entries {
            None => None,
            Some(n) => Some(NonZeroUsize::new(n).ok_or_else(|| {
                ConfigError::provider(
                    ENGINE,
                    "providerConfig `maxEntries` is 0: no session could be stored; use at \
                     least 1, or leave providerConfig empty for no cap",
                )
            })?),
        };
        Ok(MemoryConfig { max_entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_no_cap_and_json_sets_one() {
        assert_eq!(MemoryConfig::parse("").unwrap(), MemoryConfig::unbounded());
        assert_eq!(
            MemoryConfig::parse(" \n").unwrap(),
            MemoryConfig::unbounded()
        );
        assert_eq!(
            MemoryConfig::parse("{}").unwrap(),
            MemoryConfig::unbounded()
        );
        assert_eq!(
            MemoryConfig::parse(r#" {"maxEntries": 100000} "#)
                .unwrap()
                .max_entries
                .map(NonZeroUsize::get),
            Some(100_000)
        );
    }

    #[test]
    fn anything_else_is_an_error_naming_the_problem() {
        for (bad, needle) in [
            ("./tmp", "not JSON"),
            ("maxEntries=10", "not JSON"),
            (r#"{"maxEntries": 0}"#, "`maxEntries` is 0"),
            (r#"{"maxEntries": -1}"#, "not valid"),
            (r#"{"maxEntries": "10"}"#, "not valid"),
            (r#"{"maxEntires": 10}"#, "unknown field `maxEntires`"),
            ("{not json", "not valid"),
        ] {
            let err = MemoryConfig::parse(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
            assert!(err.contains("`memory`"), "{bad:?}: {err}");
        }
    }
}
