//! [`CookieConfig`]: the engine's `providerConfig`, in beego's JSON form or this crate's own.

use serde_json::Value;
use session_core::{ConfigError, MAX_LIFETIME_SECS};

use crate::ENGINE;

/// The shortest secret accepted, in bytes. Shorter secrets can be brute-forced offline from
/// a single captured cookie, so they are refused rather than padded.
pub const MIN_KEY_BYTES: usize = 32;

/// The field names accepted in `providerConfig`, matched case-insensitively.
const FIELDS: &[&str] = &[
    "cookieName",
    "keys",
    "securityKey",
    "blockKey",
    "securityName",
    "secure",
    "maxage",
];

/// The engine's configuration, parsed from the `providerConfig` string.
///
/// Two JSON forms are accepted (field names are case-insensitive):
///
/// - this crate's own, with key rotation: `{"keys":["<current secret>","<old secret>"],
///   "cookieName":"session_data"}`. The first key encrypts; every key decrypts.
/// - beego's: `{"cookieName":"gosessionid","securityKey":"…","blockKey":"…",
///   "securityName":"…","secure":false,"maxage":3600}`. Both `securityKey` and `blockKey`
///   are required; the one secret they make is `securityKey` followed directly by
///   `blockKey` (so `{"keys":["<securityKey><blockKey>"]}` reads the same cookies, which
///   is how a beego-form setup moves to rotation).
///
/// Each secret must be at least [`MIN_KEY_BYTES`] bytes. Optional fields in both forms:
/// `cookieName` (the data cookie; default `<manager cookieName>-data`), `securityName`
/// (mixed into key derivation: cookies made under one name never open under another),
/// `secure` (adds `Secure` even when the manager's `secure` is off) and `maxage` (the data
/// cookie's `Max-Age` in seconds, 0 = a browser-session cookie; when above 0 it also caps
/// how long a session lives; default: the manager's `cookieLifeTime`).
///
/// `Debug` never shows the secrets, and no error message quotes them.
#[derive(Clone, PartialEq, Eq)]
pub struct CookieConfig {
    /// The data cookie's name, if configured.
    pub cookie_name: Option<String>,
    /// The secrets, current first.
    pub(crate) keys: Vec<Vec<u8>>,
    /// Mixed into the key derivation (beego's `securityName`).
    pub security_name: String,
    /// Force `Secure` on the data cookie.
    pub secure: bool,
    /// The data cookie's `Max-Age` in seconds (`Some(0)`: browser-session cookie).
    pub max_age: Option<u64>,
}

impl std::fmt::Debug for CookieConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieConfig")
            .field("cookie_name", &self.cookie_name)
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("security_name", &self.security_name)
            .field("secure", &self.secure)
            .field("max_age", &self.max_age)
            .finish()
    }
}

fn err(reason: impl Into<String>) -> ConfigError {
    ConfigError::provider(ENGINE, reason)
}

/// A secret-bearing string field; a wrong type is reported without echoing the value.
fn secret(field: &str, value: &Value) -> Result<Vec<u8>, ConfigError> {
    match value {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        _ => Err(err(format!("`{field}` must be a string"))),
    }
}

fn check_len(field: &str, secret: &[u8]) -> Result<(), ConfigError> {
    if secret.len() < MIN_KEY_BYTES {
        return Err(err(format!(
            "`{field}` is {} bytes; secrets must be at least {MIN_KEY_BYTES} bytes of random \
             text (for example 48 characters from a password generator)",
            secret.len()
        )));
    }
    Ok(())
}

impl CookieConfig {
    /// A configuration with these secrets (current first) and defaults for the rest.
    ///
    /// Fails when there is no secret or one is shorter than [`MIN_KEY_BYTES`].
    pub fn with_keys<I, K>(keys: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let keys: Vec<Vec<u8>> = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
        if keys.is_empty() {
            return Err(err(
                "no key given: set `keys` to a list of secrets, current first",
            ));
        }
        for (i, k) in keys.iter().enumerate() {
            check_len(&format!("keys[{i}]"), k)?;
        }
        Ok(CookieConfig {
            cookie_name: None,
            keys,
            security_name: String::new(),
            secure: false,
            max_age: None,
        })
    }

    /// How many secrets are configured (the first encrypts).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Parses `providerConfig` (see the type's documentation for the forms).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Err(err(
                "providerConfig is empty; the cookie engine needs keys, e.g. \
                 {\"keys\":[\"<a random secret of 32+ bytes>\"]}",
            ));
        }
        // Parsing into `Value` first: serde_json's syntax errors quote no input, only
        // positions, whereas a type mismatch ("invalid type: string \"…\"") would echo it.
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(format!("expected a JSON object: {e}")))?;
        let Value::Object(map) = value else {
            return Err(err(
                "expected a JSON object such as {\"keys\":[\"<secret>\"]}",
            ));
        };
        let mut keys = None;
        let mut security_key = None;
        let mut block_key = None;
        let mut config = CookieConfig {
            cookie_name: None,
            keys: Vec::new(),
            security_name: String::new(),
            secure: false,
            max_age: None,
        };
        for (name, value) in &map {
            let Some(field) = FIELDS
                .iter()
                .copied()
                .find(|f| f.eq_ignore_ascii_case(name))
            else {
                return Err(err(format!(
                    "unknown field `{name}`; known fields are: {}",
                    FIELDS.join(", ")
                )));
            };
            match field {
                "cookieName" => match value {
                    Value::String(s) => config.cookie_name = Some(s.clone()),
                    other => {
                        return Err(err(format!("`cookieName` must be a string, got {other}")))
                    }
                },
                "keys" => {
                    let Value::Array(items) = value else {
                        return Err(err("`keys` must be a list of strings, current key first"));
                    };
                    let list = items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| secret(&format!("keys[{i}]"), v))
                        .collect::<Result<Vec<_>, _>>()?;
                    keys = Some(list);
                }
                "securityKey" => security_key = Some(secret(field, value)?),
                "blockKey" => block_key = Some(secret(field, value)?),
                "securityName" => match value {
                    Value::String(s) => config.security_name = s.clone(),
                    other => {
                        return Err(err(format!("`securityName` must be a string, got {other}")))
                    }
                },
                "secure" => {
                    config.secure = value.as_bool().ok_or_else(|| {
                        err(format!("`secure` must be true or false, got {value}"))
                    })?
                }
                "maxage" => {
                    let secs = value.as_u64().ok_or_else(|| {
                        err(format!(
                            "`maxage` must be a whole number of seconds (0 or more), got {value}"
                        ))
                    })?;
                    if secs > MAX_LIFETIME_SECS {
                        return Err(err(format!(
                            "`maxage` {secs} is more than ten years; give seconds"
                        )));
                    }
                    config.max_age = Some(secs);
                }
                _ => unreachable!("every name in FIELDS has an arm"),
            }
        }
        config.keys = match (keys, security_key, block_key) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(err(
                    "give either `keys` or beego's `securityKey` + `blockKey`, not both; \
                     to rotate away from a beego secret, list `<securityKey><blockKey>` as an \
                     old entry of `keys`",
                ))
            }
            (Some(list), None, None) => {
                if list.is_empty() {
                    return Err(err(
                        "`keys` is empty: give at least one secret, current first",
                    ));
                }
                for (i, k) in list.iter().enumerate() {
                    check_len(&format!("keys[{i}]"), k)?;
                }
                list
            }
            (None, Some(sk), Some(bk)) => {
                if sk.is_empty() || bk.is_empty() {
                    return Err(err(
                        "beego's form needs both `securityKey` and `blockKey` non-empty",
                    ));
                }
                let combined = [sk, bk].concat();
                check_len("securityKey + blockKey", &combined)?;
                vec![combined]
            }
            (None, Some(_), None) => {
                return Err(err("`securityKey` is set but `blockKey` is missing"))
            }
            (None, None, Some(_)) => {
                return Err(err("`blockKey` is set but `securityKey` is missing"))
            }
            (None, None, None) => {
                return Err(err(
                    "no key given: set `keys` (a list of 32+ byte secrets, current first) or \
                     beego's `securityKey` and `blockKey`",
                ))
            }
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "0123456789abcdef0123456789abcdef";
    const K2: &str = "fedcba9876543210fedcba9876543210-old";

    #[test]
    fn own_form_keeps_key_order() {
        let c = CookieConfig::parse(&format!(r#"{{"keys":["{K1}","{K2}"],"cookieName":"sd"}}"#))
            .unwrap();
        assert_eq!(c.keys, vec![K1.as_bytes().to_vec(), K2.as_bytes().to_vec()]);
        assert_eq!(c.cookie_name.as_deref(), Some("sd"));
        assert_eq!((c.secure, c.max_age), (false, None));
    }

    #[test]
    fn beego_form_is_mapped_case_insensitively() {
        let c = CookieConfig::parse(
            r#"{"CookieName":"gosessionid","securitykey":"beegocookiehashkey",
                "BLOCKKEY":"0123456789abcdef","securityName":"beegoapp","secure":true,"MaxAge":3600}"#,
        )
        .unwrap();
        assert_eq!(c.cookie_name.as_deref(), Some("gosessionid"));
        assert_eq!(c.keys, vec![b"beegocookiehashkey0123456789abcdef".to_vec()]);
        assert_eq!(c.security_name, "beegoapp");
        assert!(c.secure);
        assert_eq!(c.max_age, Some(3600));
    }

    #[test]
    fn missing_and_short_keys_are_errors() {
        for (json, needle) in [
            ("", "empty"),
            ("{}", "no key"),
            (r#"{"keys":[]}"#, "empty"),
            (r#"{"keys":["short"]}"#, "keys[0]` is 5 bytes"),
            (&format!(r#"{{"keys":["{K1}","short"]}}"#), "keys[1]"),
            (r#"{"securityKey":"a"}"#, "blockKey` is missing"),
            (r#"{"blockKey":"a"}"#, "securityKey` is missing"),
            (
                r#"{"securityKey":"tooshort","blockKey":"alsoshort"}"#,
                "securityKey + blockKey",
            ),
            (
                r#"{"securityKey":"","blockKey":"0123456789abcdef0123456789abcdef01"}"#,
                "non-empty",
            ),
        ] {
            let e = CookieConfig::parse(json).unwrap_err();
            assert!(matches!(e, ConfigError::Provider { .. }), "{json}: {e:?}");
            assert!(e.to_string().contains(needle), "{json}: {e}");
        }
        assert!(CookieConfig::with_keys(Vec::<&str>::new()).is_err());
        assert!(CookieConfig::with_keys(["x".repeat(31)]).is_err());
        assert_eq!(CookieConfig::with_keys([K1, K2]).unwrap().key_count(), 2);
    }

    #[test]
    fn bad_fields_are_named_and_secrets_never_shown() {
        let secret = "TOPSECRET-TOPSECRET-TOPSECRET-TOPSECRET";
        for (json, needle) in [
            (
                format!(r#"{{"keys":["{secret}"],"cookeName":"x"}}"#),
                "cookeName",
            ),
            (format!(r#"{{"keys":"{secret}"}}"#), "`keys` must be a list"),
            (
                r#"{"keys":[12345678901234567890123456789012345]}"#.to_owned(),
                "keys[0]` must be a string",
            ),
            (format!(r#"{{"keys":["{secret}"],"maxage":-1}}"#), "maxage"),
            (
                format!(r#"{{"keys":["{secret}"],"maxage":"1h"}}"#),
                "maxage",
            ),
            (
                format!(r#"{{"keys":["{secret}"],"secure":"yes"}}"#),
                "secure",
            ),
            (
                format!(r#"{{"keys":["{secret}"],"cookieName":5}}"#),
                "cookieName",
            ),
            (
                format!(r#"{{"keys":["{secret}"],"securityKey":"{secret}"}}"#),
                "not both",
            ),
            (format!(r#"{{"keys":["{secret}""#), "JSON"),
            (format!(r#"["{secret}"]"#), "JSON object"),
            (format!(r#""{secret}""#), "JSON object"),
        ] {
            let e = CookieConfig::parse(&json).unwrap_err().to_string();
            assert!(e.contains(needle), "{json}: {e}");
            assert!(!e.contains("TOPSECRET"), "{e}");
            assert!(!e.contains("1234567890"), "{e}");
        }
        let c = CookieConfig::parse(&format!(r#"{{"keys":["{secret}"]}}"#)).unwrap();
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("TOPSECRET") && debug.contains("redacted"),
            "{debug}"
        );
    }
}
