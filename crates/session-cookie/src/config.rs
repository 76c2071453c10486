//! [`CookieConfig`]: the engine's `providerConfig`, in beego's JSON form or this crate's own.

use serde_json::Value;
use session_core::{ConfigError, MAX_LIFETIME_SECS};

use crate::secret::{self, HOW_TO_MAKE_ONE};
use crate::ENGINE;

/// The shortest secret accepted, in bytes (after base64 or hex decoding). Shorter secrets
/// can be brute-forced offline from a single captured cookie, so they are refused rather
/// than padded.
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
/// # Secrets
///
/// A secret must be random: make one with `openssl rand -base64 32`. A secret written as
/// base64 (standard or URL-safe alphabet, padded or not) or hex of [`MIN_KEY_BYTES`] or
/// more bytes is decoded, and the decoded bytes are the key; any other secret is used as
/// the bytes of its text. Refused, with an error that says why and how to make a good one:
/// fewer than [`MIN_KEY_BYTES`] bytes; a published example key (beego's
/// `beegocookiehashkey`, `beegosessionkey`, …) or a common word such as "secret" or
/// "password"; few distinct characters or a repeated pattern; and text that reads like
/// words or a sequence (a conservative entropy estimate under 128 bits). The key
/// derivation (HKDF) is fast and no password hash, so a guessable secret could be found
/// offline from one captured cookie: these checks keep such secrets out. The beego form's
/// `securityKey` + `blockKey` is judged, and decoded, as one secret.
///
/// # Other fields
///
/// Optional fields in both forms:
/// `cookieName` (the data cookie; default `<manager cookieName>-data`, which is also what
/// it becomes when it equals the manager's `cookieName`, as every beego configuration of
/// this engine has it), `securityName`
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

/// The key material of the secret configured as `field` (decoded, checked).
fn key_material(field: &str, secret: &[u8]) -> Result<Vec<u8>, ConfigError> {
    secret::key_material(secret).map_err(|weakness| err(weakness.message(field)))
}

impl CookieConfig {
    /// A configuration with these secrets (current first) and defaults for the rest.
    ///
    /// Each secret is read as in `providerConfig` (base64 and hex are decoded; see the
    /// type's documentation). Fails when there is no secret or one does not look random.
    pub fn with_keys<I, K>(keys: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let keys = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| key_material(&format!("keys[{i}]"), k.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(err(format!(
                "no key given: set `keys` to a list of secrets, current first; \
                 {HOW_TO_MAKE_ONE}"
            )));
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
                 {\"keys\":[\"<32+ random bytes as base64>\"]}: make one with \
                 `openssl rand -base64 32`",
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
                list.iter()
                    .enumerate()
                    .map(|(i, k)| key_material(&format!("keys[{i}]"), k))
                    .collect::<Result<Vec<_>, _>>()?
            }
            (None, Some(sk), Some(bk)) => {
                if sk.is_empty() || bk.is_empty() {
                    return Err(err(
                        "beego's form needs both `securityKey` and `blockKey` non-empty",
                    ));
                }
                vec![key_material("securityKey + blockKey", &[sk, bk].concat())?]
            }
            (None, Some(_), None) => {
                return Err(err("`securityKey` is set but `blockKey` is missing"))
            }
            (None, None, Some(_)) => {
                return Err(err("`blockKey` is set but `securityKey` is missing"))
            }
            (None, None, None) => {
                return Err(err(format!(
                    "no key given: set `keys` (a list of secrets, current first) or beego's \
                     `securityKey` and `blockKey`; {HOW_TO_MAKE_ONE}"
                )))
            }
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
