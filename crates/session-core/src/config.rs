//! [`ManagerConfig`]: beego's manager configuration, its defaults, its JSON form and a builder.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::dsn::Redacted;
use crate::error::ConfigError;
use crate::expiry::Lifetimes;
use crate::id::IdPolicy;

/// The longest lifetime accepted, in seconds (ten years); more is surely a typo.
pub const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// The cookie `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on top-level navigations and same-site requests (the default).
    #[default]
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent on every request; browsers require `Secure` with it.
    None,
    /// No `SameSite` attribute at all (Go's `http.SameSiteDefaultMode`).
    Unset,
}

impl SameSite {
    /// Parses beego's forms: Go's `http.SameSite` numbers (1 default, 2 lax, 3 strict,
    /// 4 none; 0 means "not set" and gives our default, Lax) or the names.
    fn from_json(v: &Value) -> Result<Self, ConfigError> {
        let bad = || {
            ConfigError::invalid(
                "cookieSameSite",
                format!("{v} is not one of \"lax\", \"strict\", \"none\", \"default\" or Go's numbers 0-4"),
            )
        };
        match v {
            Value::Number(n) => match n.as_u64() {
                Some(0) | Some(2) => Ok(SameSite::Lax),
                Some(1) => Ok(SameSite::Unset),
                Some(3) => Ok(SameSite::Strict),
                Some(4) => Ok(SameSite::None),
                _ => Err(bad()),
            },
            Value::String(s) => s.parse().map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl std::str::FromStr for SameSite {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lax" | "" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            "default" | "unset" => Ok(SameSite::Unset),
            other => Err(ConfigError::invalid(
                "cookieSameSite",
                format!("{other:?} is not one of lax, strict, none, default"),
            )),
        }
    }
}

/// How a [`Manager`](crate::Manager) names, sends, checks and expires session ids.
///
/// Field names follow beego's `ManagerConfig`; [`from_json`](Self::from_json) reads beego's
/// JSON form. Defaults are beego's: cookie `beegosessionID`, set-cookie on, GC every 3600 s,
/// sessions living 3600 s, HttpOnly on, 16-byte ids, `SameSite=Lax`.
///
/// ```
/// use session_core::ManagerConfig;
///
/// let config = ManagerConfig::from_json(r#"{"cookieName":"gosessionid","gclifetime":3600,
///     "maxLifetime":3600,"cookieLifeTime":3600,"providerConfig":"./tmp"}"#)?;
/// assert_eq!(config.cookie_name, "gosessionid");
///
/// let built = ManagerConfig::builder().cookie_name("sid").secure(true).build()?;
/// assert!(built.secure);
/// # Ok::<(), session_core::ConfigError>(())
/// ```
///
/// `Debug` output never shows `providerConfig` (it may hold passwords and keys) nor
/// `sessionIDHashKey`: only their lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct ManagerConfig {
    /// `cookieName`: the session cookie's name (default `beegosessionID`).
    pub cookie_name: String,
    /// `enableSetCookie`: send the session cookie (default true).
    pub enable_set_cookie: bool,
    /// `gclifetime`: seconds between GC passes (default 3600, at least 1).
    pub gc_lifetime: u64,
    /// `maxLifetime`: seconds a session lives without activity. Default: the value of
    /// `gclifetime` (3600): a JSON form without `maxLifetime` takes `gclifetime`'s value, and
    /// 0 means "same as gclifetime", as in beego. A session can choose its own
    /// ([`Session::set_expiry`](crate::Session::set_expiry)).
    pub max_lifetime: u64,
    /// `absoluteLifetime`: seconds a session lives after its creation, however active
    /// (OWASP's absolute timeout); 0 (the default) for no such limit. It caps per-session
    /// expiries too, and [`Session::regenerate`](crate::Session::regenerate) does not reset
    /// it (rotating the id cannot prolong a session).
    pub absolute_lifetime: u64,
    /// `disableHTTPOnly`: leave `HttpOnly` off the cookie (default false).
    pub disable_http_only: bool,
    /// `secure`: mark the cookie `Secure` (default false).
    pub secure: bool,
    /// `cookieLifeTime`: the cookie's `Max-Age` in seconds, for sessions without their own
    /// expiry; 0 (default) makes it a browser-session cookie. Never more than the stored
    /// session has left: a larger value is cut to it.
    pub cookie_life_time: u64,
    /// `providerConfig`: the engine's own configuration string.
    pub provider_config: String,
    /// `domain`: the cookie's `Domain` (default none).
    pub domain: String,
    /// `sessionIDLength`: random bytes per id (default 16, at least 16).
    pub session_id_length: usize,
    /// `sessionIDPrefix`: a prefix for every id (letters, digits, `_`, `-`).
    pub session_id_prefix: String,
    /// `sessionIDHashFunc`: the MAC used with `sessionIDHashKey`; only `sha1` (the default).
    pub session_id_hash_func: String,
    /// `sessionIDHashKey`: when set, ids carry an HMAC tag under this key and ids the server
    /// never minted are rejected without a storage lookup.
    pub session_id_hash_key: String,
    /// `EnableSidInHTTPHeader`: also accept and send the id in a header.
    pub enable_sid_in_http_header: bool,
    /// `SessionNameInHTTPHeader`: that header's name (required when the above is on).
    pub session_name_in_http_header: String,
    /// `EnableSidInURLQuery`: also accept the id from the URL query (`?<cookieName>=<id>`).
    ///
    /// Ids in URLs leak (the `Referer` header, server and proxy logs, browser history,
    /// shared links): use it only for clients that cannot keep cookies. An id taken from
    /// the query is never written into a `Set-Cookie`, so a link carrying somebody else's
    /// id cannot fix a visitor's session.
    pub enable_sid_in_url_query: bool,
    /// `cookieSameSite`: the cookie's `SameSite` (default Lax).
    pub cookie_same_site: SameSite,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            cookie_name: "beegosessionID".to_owned(),
            enable_set_cookie: true,
            gc_lifetime: 3600,
            max_lifetime: 3600,
            absolute_lifetime: 0,
            disable_http_only: false,
            secure: false,
            cookie_life_time: 0,
            provider_config: String::new(),
            domain: String::new(),
            session_id_length: 16,
            session_id_prefix: String::new(),
            session_id_hash_func: "sha1".to_owned(),
            session_id_hash_key: String::new(),
            enable_sid_in_http_header: false,
            session_name_in_http_header: String::new(),
            enable_sid_in_url_query: false,
            cookie_same_site: SameSite::Lax,
        }
    }
}

impl std::fmt::Debug for ManagerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerConfig")
            .field("cookie_name", &self.cookie_name)
            .field("enable_set_cookie", &self.enable_set_cookie)
            .field("gc_lifetime", &self.gc_lifetime)
            .field("max_lifetime", &self.max_lifetime)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("disable_http_only", &self.disable_http_only)
            .field("secure", &self.secure)
            .field("cookie_life_time", &self.cookie_life_time)
            .field("provider_config", &Redacted(&self.provider_config))
            .field("domain", &self.domain)
            .field("session_id_length", &self.session_id_length)
            .field("session_id_prefix", &self.session_id_prefix)
            .field("session_id_hash_func", &self.session_id_hash_func)
            .field("session_id_hash_key", &Redacted(&self.session_id_hash_key))
            .field("enable_sid_in_http_header", &self.enable_sid_in_http_header)
            .field(
                "session_name_in_http_header",
                &self.session_name_in_http_header,
            )
            .field("enable_sid_in_url_query", &self.enable_sid_in_url_query)
            .field("cookie_same_site", &self.cookie_same_site)
            .finish()
    }
}

/// The JSON names beego uses, in beego's spelling (matched case-insensitively).
const FIELDS: &[&str] = &[
    "cookieName",
    "enableSetCookie",
    "gclifetime",
    "maxLifetime",
    "absoluteLifetime",
    "disableHTTPOnly",
    "secure",
    "cookieLifeTime",
    "providerConfig",
    "domain",
    "sessionIDLength",
    "sessionIDPrefix",
    "sessionIDHashFunc",
    "sessionIDHashKey",
    "EnableSidInHTTPHeader",
    "SessionNameInHTTPHeader",
    "EnableSidInURLQuery",
    "cookieSameSite",
];

impl ManagerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ManagerConfigBuilder {
        ManagerConfigBuilder {
            config: ManagerConfig::default(),
            bad_duration: None,
        }
    }

    /// Reads beego's JSON form; field names are case-insensitive, missing fields keep their
    /// defaults, unknown fields and wrongly typed values are errors. The result is validated.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        let map: Map<String, Value> = serde_json::from_str(json)?;
        let mut config = ManagerConfig::default();
        let mut max_lifetime_given = false;
        for (name, value) in &map {
            let Some(field) = FIELDS
                .iter()
                .copied()
                .find(|f| f.eq_ignore_ascii_case(name))
            else {
                return Err(ConfigError::UnknownField {
                    field: name.clone(),
                    known: FIELDS.join(", "),
                });
            };
            match field {
                "cookieName" => config.cookie_name = string(field, value)?,
                "enableSetCookie" => config.enable_set_cookie = boolean(field, value)?,
                "gclifetime" => config.gc_lifetime = seconds(field, value)?,
                "maxLifetime" => {
                    config.max_lifetime = seconds(field, value)?;
                    max_lifetime_given = true;
                }
                "absoluteLifetime" => config.absolute_lifetime = seconds(field, value)?,
                "disableHTTPOnly" => config.disable_http_only = boolean(field, value)?,
                "secure" => config.secure = boolean(field, value)?,
                "cookieLifeTime" => config.cookie_life_time = seconds(field, value)?,
                "providerConfig" => config.provider_config = secret_string(field, value)?,
                "domain" => config.domain = string(field, value)?,
                "sessionIDLength" => {
                    config.session_id_length = usize::try_from(seconds(field, value)?)
                        .map_err(|_| ConfigError::invalid(field, "too large"))?
                }
                "sessionIDPrefix" => config.session_id_prefix = string(field, value)?,
                "sessionIDHashFunc" => config.session_id_hash_func = string(field, value)?,
                "sessionIDHashKey" => config.session_id_hash_key = secret_string(field, value)?,
                "EnableSidInHTTPHeader" => {
                    config.enable_sid_in_http_header = boolean(field, value)?
                }
                "SessionNameInHTTPHeader" => {
                    config.session_name_in_http_header = string(field, value)?
                }
                "EnableSidInURLQuery" => config.enable_sid_in_url_query = boolean(field, value)?,
                "cookieSameSite" => config.cookie_same_site = SameSite::from_json(value)?,
                _ => unreachable!("every name in FIELDS has an arm"),
            }
        }
        if !max_lifetime_given {
            // beego: a missing maxLifetime follows gclifetime.
            config.max_lifetime = config.gc_lifetime;
        }
        config.validate()?;
        Ok(config)
    }

    /// `maxLifetime` after beego's rule that 0 means `gclifetime`.
    pub fn effective_max_lifetime(&self) -> Duration {
        let secs = if self.max_lifetime == 0 {
            self.gc_lifetime
        } else {
            self.max_lifetime
        };
        Duration::from_secs(secs)
    }

    /// The lifetime rules engines receive ([`ProviderInit::lifetimes`](crate::ProviderInit)).
    pub fn lifetimes(&self) -> Lifetimes {
        let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
        Lifetimes {
            max_lifetime: self.effective_max_lifetime(),
            absolute: secs(self.absolute_lifetime),
            cookie_life_time: secs(self.cookie_life_time),
        }
    }

    /// The GC interval.
    pub fn gc_interval(&self) -> Duration {
        Duration::from_secs(self.gc_lifetime)
    }

    /// The id policy this configuration describes.
    pub fn id_policy(&self) -> Result<IdPolicy, ConfigError> {
        let key =
            (!self.session_id_hash_key.is_empty()).then_some(self.session_id_hash_key.as_bytes());
        IdPolicy::new(self.session_id_length, &self.session_id_prefix, key)
    }

    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !crate::transport::is_valid_cookie_name(&self.cookie_name) {
            return Err(ConfigError::invalid(
                "cookieName",
                format!(
                    "{:?} is not a valid cookie name (visible ASCII, no separators)",
                    self.cookie_name
                ),
            ));
        }
        if self.gc_lifetime == 0 {
            return Err(ConfigError::invalid(
                "gclifetime",
                "0 would run garbage collection in a busy loop; use the number of seconds between passes (e.g. 3600)",
            ));
        }
        for (field, secs) in [
            ("gclifetime", self.gc_lifetime),
            ("maxLifetime", self.max_lifetime),
            ("absoluteLifetime", self.absolute_lifetime),
            ("cookieLifeTime", self.cookie_life_time),
        ] {
            if secs > MAX_LIFETIME_SECS {
                return Err(ConfigError::invalid(
                    field,
                    format!("{secs} seconds is more than ten years; give a lifetime in seconds"),
                ));
            }
        }
        if !self.session_id_hash_func.is_empty()
            && !self.session_id_hash_func.eq_ignore_ascii_case("sha1")
        {
            return Err(ConfigError::invalid(
                "sessionIDHashFunc",
                format!(
                    "{:?} is not supported; ids are tagged with HMAC-SHA1 (\"sha1\")",
                    self.session_id_hash_func
                ),
            ));
        }
        if self
            .domain
            .bytes()
            .any(|b| b == b';' || b == b',' || !b.is_ascii_graphic())
        {
            return Err(ConfigError::invalid(
                "domain",
                format!("{:?} is not a valid cookie domain", self.domain),
            ));
        }
        if self.enable_sid_in_http_header {
            if self.session_name_in_http_header.is_empty() {
                return Err(ConfigError::invalid(
                    "SessionNameInHTTPHeader",
                    "must name a header when EnableSidInHTTPHeader is true",
                ));
            }
            if http::HeaderName::from_bytes(self.session_name_in_http_header.as_bytes()).is_err() {
                return Err(ConfigError::invalid(
                    "SessionNameInHTTPHeader",
                    format!(
                        "{:?} is not a valid HTTP header name",
                        self.session_name_in_http_header
                    ),
                ));
            }
        }
        if self.cookie_same_site == SameSite::None && !self.secure {
            tracing::warn!(
                "cookieSameSite=None without secure=true: browsers will drop the cookie"
            );
        }
        self.id_policy().map(|_| ())
    }
}

fn string(field: &'static str, v: &Value) -> Result<String, ConfigError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| ConfigError::invalid(field, format!("expected a string, got {v}")))
}

/// A string field that may hold a password or key: a wrong type is reported by its kind,
/// never by its value (`["…"]` would quote the secret).
fn secret_string(field: &'static str, v: &Value) -> Result<String, ConfigError> {
    v.as_str().map(str::to_owned).ok_or_else(|| {
        let kind = match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        ConfigError::invalid(
            field,
            format!("expected a string, got {kind} (not shown: it may hold a secret)"),
        )
    })
}

fn boolean(field: &'static str, v: &Value) -> Result<bool, ConfigError> {
    v.as_bool()
        .ok_or_else(|| ConfigError::invalid(field, format!("expected true or false, got {v}")))
}

fn seconds(field: &'static str, v: &Value) -> Result<u64, ConfigError> {
    v.as_u64().ok_or_else(|| {
        ConfigError::invalid(
            field,
            format!("expected a whole number of 0 or more, got {v}"),
        )
    })
}

/// Builds a [`ManagerConfig`] in code; [`build`](Self::build) validates it.
///
/// Durations must be whole, non-zero seconds (the unit beego's configuration has): a
/// setter given `Duration::from_millis(500)` makes `build` fail naming the field, rather
/// than truncate it to 0 (which for `maxLifetime` would mean "same as gclifetime").
#[derive(Debug, Clone)]
pub struct ManagerConfigBuilder {
    config: ManagerConfig,
    /// The first duration that was not whole seconds.
    bad_duration: Option<(&'static str, Duration)>,
}

/// `d` in whole seconds, or the complaint about it.
fn whole_seconds(field: &'static str, d: Duration) -> Result<u64, (&'static str, Duration)> {
    if d.as_secs() == 0 || d.subsec_nanos() != 0 {
        Err((field, d))
    } else {
        Ok(d.as_secs())
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => |$c:ident, $v:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $v: $ty) -> Self {
                let $c = &mut self.config;
                $body;
                self
            }
        )*
    };
}

macro_rules! duration_setters {
    ($($(#[$doc:meta])* $name:ident => $field:ident, $json:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: Duration) -> Self {
                match whole_seconds($json, value) {
                    Ok(secs) => self.config.$field = secs,
                    Err(bad) => {
                        self.bad_duration.get_or_insert(bad);
                    }
                }
                self
            }
        )*
    };
}

impl ManagerConfigBuilder {
    setters! {
        /// `cookieName`.
        cookie_name: impl Into<String> => |c, v| c.cookie_name = v.into();
        /// `enableSetCookie`.
        enable_set_cookie: bool => |c, v| c.enable_set_cookie = v;
        /// `disableHTTPOnly`.
        disable_http_only: bool => |c, v| c.disable_http_only = v;
        /// `secure`.
        secure: bool => |c, v| c.secure = v;
        /// `providerConfig`.
        provider_config: impl Into<String> => |c, v| c.provider_config = v.into();
        /// `domain`.
        domain: impl Into<String> => |c, v| c.domain = v.into();
        /// `sessionIDLength`.
        session_id_length: usize => |c, v| c.session_id_length = v;
        /// `sessionIDPrefix`.
        session_id_prefix: impl Into<String> => |c, v| c.session_id_prefix = v.into();
        /// `sessionIDHashKey`.
        session_id_hash_key: impl Into<String> => |c, v| c.session_id_hash_key = v.into();
        /// `EnableSidInURLQuery`.
        enable_sid_in_url_query: bool => |c, v| c.enable_sid_in_url_query = v;
        /// `cookieSameSite`.
        cookie_same_site: SameSite => |c, v| c.cookie_same_site = v;
    }

    duration_setters! {
        /// `gclifetime`: whole seconds, at least one.
        gc_lifetime => gc_lifetime, "gclifetime";
        /// `maxLifetime`: whole seconds, at least one.
        max_lifetime => max_lifetime, "maxLifetime";
        /// `absoluteLifetime`: whole seconds, at least one (leave it unset for none).
        absolute_lifetime => absolute_lifetime, "absoluteLifetime";
        /// `cookieLifeTime`: whole seconds, at least one (leave it unset for a
        /// browser-session cookie).
        cookie_life_time => cookie_life_time, "cookieLifeTime";
    }

    /// `EnableSidInHTTPHeader` with `SessionNameInHTTPHeader` = `header`.
    pub fn sid_in_http_header(mut self, header: impl Into<String>) -> Self {
        self.config.enable_sid_in_http_header = true;
        self.config.session_name_in_http_header = header.into();
        self
    }

    /// Validates and returns the configuration.
    pub fn build(self) -> Result<ManagerConfig, ConfigError> {
        if let Some((field, value)) = self.bad_duration {
            return Err(ConfigError::invalid(
                field,
                format!("{value:?} is not a whole number of seconds (at least 1 s); the configuration counts in seconds"),
            ));
        }
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_beegos() {
        let c = ManagerConfig::default();
        assert_eq!(c.cookie_name, "beegosessionID");
        assert!(c.enable_set_cookie && !c.disable_http_only && !c.secure);
        assert_eq!(
            (c.gc_lifetime, c.max_lifetime, c.cookie_life_time),
            (3600, 3600, 0)
        );
        assert_eq!(c.session_id_length, 16);
        assert_eq!(c.cookie_same_site, SameSite::Lax);
        c.validate().unwrap();
    }

    #[test]
    fn json_names_are_case_insensitive() {
        let c = ManagerConfig::from_json(
            r#"{"COOKIENAME":"x","enablesetcookie":false,"Gclifetime":10,"maxlifetime":20,
                "cookieSameSite":3,"enableSidInHttpHeader":true,"sessionNameInHTTPHeader":"X-Sid"}"#,
        )
        .unwrap();
        assert_eq!(c.cookie_name, "x");
        assert!(!c.enable_set_cookie);
        assert_eq!((c.gc_lifetime, c.max_lifetime), (10, 20));
        assert_eq!(c.cookie_same_site, SameSite::Strict);
        assert_eq!(c.session_name_in_http_header, "X-Sid");
    }

    #[test]
    fn builder_durations_must_be_whole_seconds() {
        let err = ManagerConfig::builder()
            .max_lifetime(Duration::from_millis(500))
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("maxLifetime") && err.contains("500ms"),
            "{err}"
        );
        let err = ManagerConfig::builder()
            .gc_lifetime(Duration::ZERO)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("gclifetime"), "{err}");
        let err = ManagerConfig::builder()
            .cookie_life_time(Duration::from_millis(1500))
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("cookieLifeTime"), "{err}");
        let ok = ManagerConfig::builder()
            .max_lifetime(Duration::from_secs(2))
            .absolute_lifetime(Duration::from_secs(60))
            .build()
            .unwrap();
        assert_eq!(ok.lifetimes().max_lifetime, Duration::from_secs(2));
        assert_eq!(ok.lifetimes().absolute, Some(Duration::from_secs(60)));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let config = ManagerConfig {
            provider_config: "postgres://app:hunter2@db/app".into(),
            session_id_hash_key: "s3cr3t-hash-key".into(),
            ..ManagerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(shown.contains("<redacted, 29 bytes>"), "{shown}");
        let init = crate::ProviderInit::new("postgres", &config);
        let shown = format!("{init:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[test]
    fn wrongly_typed_secrets_are_not_quoted_in_errors() {
        // Found by fuzzing (fuzz/: manager_config): `"sessionIDHashKey":["…"]` was reported
        // as "expected a string, got [\"…\"]", quoting the key.
        for json in [
            r#"{"sessionIDHashKey":["s3cr3t-hash-key"]}"#,
            r#"{"providerConfig":{"dsn":"postgres://app:hunter2@db/app"}}"#,
            r#"{"providerConfig":["hunter2"]}"#,
        ] {
            let err = ManagerConfig::from_json(json).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("s3cr3t"),
                "{shown}"
            );
            assert!(shown.contains("expected a string, got an"), "{shown}");
        }
        // Other fields still quote what they got: it helps, and it is no secret.
        let err = ManagerConfig::from_json(r#"{"cookieName":["sid"]}"#).unwrap_err();
        assert!(err.to_string().contains(r#"["sid"]"#), "{err}");
    }

    #[test]
    fn absolute_lifetime_reads_from_json() {
        let c = ManagerConfig::from_json(r#"{"absoluteLifetime":28800}"#).unwrap();
        assert_eq!(c.lifetimes().absolute, Some(Duration::from_secs(28800)));
        assert_eq!(ManagerConfig::default().lifetimes().absolute, None);
    }

    #[test]
    fn missing_max_lifetime_follows_gclifetime() {
        let c = ManagerConfig::from_json(r#"{"gclifetime":60}"#).unwrap();
        assert_eq!(c.effective_max_lifetime(), Duration::from_secs(60));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        for (json, needle) in [
            (r#"{"gclifetime":0}"#, "gclifetime"),
            (r#"{"gclifetime":-5}"#, "gclifetime"),
            (r#"{"maxLifetime":"1h"}"#, "maxLifetime"),
            (r#"{"sessionIDLength":4}"#, "sessionIDLength"),
            (r#"{"sessionIDHashFunc":"md5"}"#, "sessionIDHashFunc"),
            (
                r#"{"EnableSidInHTTPHeader":true}"#,
                "SessionNameInHTTPHeader",
            ),
            (r#"{"cookieName":"a b"}"#, "cookieName"),
            (r#"{"cookieSameSite":"sideways"}"#, "cookieSameSite"),
            (r#"{"cookeName":"x"}"#, "cookeName"),
            (r#"[1,2]"#, "JSON"),
        ] {
            let err = ManagerConfig::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
