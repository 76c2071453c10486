//! The session settings beego takes from an app.conf: which line it reads for each key, what
//! it does with a value it cannot read, and where this library departs from it to avoid a
//! broken session (a busy GC loop, sessions that expire at once).
//!
//! beego reads each key with `DefaultBool` / `DefaultInt64` / `DefaultString`
//! (server/web/config.go:706-735): the run mode's section first, then the top level, then its
//! default; a value it cannot read, or an empty one, falls through to the next
//! (config.go:778-853).

use session_core::{ManagerConfig, SameSite, MAX_LIFETIME_SECS};

use super::appconf::AppConf;
use super::error::{warn, WebConfigError};
use super::ini::{Entry, TOP};
use super::keys::{self, Kind};
use super::redact::shown_value;
use super::values::{
    go_bool, go_int, has_inline_comment, same_site_from_go, same_site_number, why_unreadable,
};
use super::WebSessionConfig;

/// beego's default `SessionGCMaxLifetime` (server/web/config.go:580).
const DEFAULT_GC_LIFETIME: u64 = 3600;

/// The keys `sessionConfig` replaces when it is set (hooks.go:52-69).
const REPLACED_BY_SESSION_CONFIG: &[&str] = &[
    "SessionName",
    "SessionGCMaxLifetime",
    "SessionProviderConfig",
    "SessionCookieLifeTime",
    "SessionAutoSetCookie",
    "SessionDomain",
    "SessionDisableHTTPOnly",
    "SessionEnableSidInHTTPHeader",
    "SessionNameInHTTPHeader",
    "SessionEnableSidInURLQuery",
    "SessionCookieSameSite",
    "SessionIDPrefix",
];

/// The session settings `app` gives, as beego would read them.
pub(crate) fn resolve(app: &AppConf) -> Result<WebSessionConfig, WebConfigError> {
    let r = Resolver {
        app,
        section: app.framework_runmode().to_lowercase(),
    };
    let d = WebSessionConfig::default();
    let session_on = r.boolean("SessionOn", d.session_on);
    let config = WebSessionConfig {
        session_on,
        provider: r.provider(&d.provider),
        name: r.text("SessionName", &d.name),
        gc_max_lifetime: r.gc_lifetime(),
        provider_config: r.with_old_name("SessionProviderConfig", "SessionSavePath"),
        cookie_lifetime: r.cookie_lifetime(),
        absolute_lifetime: r.absolute_lifetime(),
        auto_set_cookie: r.boolean("SessionAutoSetCookie", d.auto_set_cookie),
        domain: r.text("SessionDomain", &d.domain),
        disable_http_only: r.boolean("SessionDisableHTTPOnly", d.disable_http_only),
        enable_sid_in_http_header: r
            .boolean("SessionEnableSidInHTTPHeader", d.enable_sid_in_http_header),
        name_in_http_header: r.text("SessionNameInHTTPHeader", &d.name_in_http_header),
        enable_sid_in_url_query: r.boolean("SessionEnableSidInURLQuery", d.enable_sid_in_url_query),
        cookie_same_site: r.same_site(),
        id_prefix: r.text("SessionIDPrefix", &d.id_prefix),
        hash_func: r.text("SessionHashFunc", &d.hash_func),
        hash_key: r.hash_key(),
        secure: r.secure(),
        session_config: r.session_config(session_on)?,
    };
    Ok(config)
}

struct Resolver<'a> {
    app: &'a AppConf,
    /// The run mode's section (lowercase).
    section: String,
}

impl<'a> Resolver<'a> {
    /// The lines beego consults for `key`, in its order: the run mode's section, the top level.
    fn candidates(&self, key: &str) -> Vec<&'a Entry> {
        let key = key.to_lowercase();
        let mut found = Vec::new();
        if self.section != TOP {
            found.extend(self.app.entry(&self.section, &key));
        }
        found.extend(self.app.entry(TOP, &key));
        found
    }

    /// The first line whose value beego reads as `T`, warning about each one it cannot
    /// read; `None` when beego falls back to its default (`default` describes it, `ours`
    /// says what this library uses when that differs).
    fn lookup<T>(
        &self,
        key: &str,
        kind: Kind,
        default: &str,
        ours: Option<&str>,
        read: impl Fn(&str) -> Option<T>,
    ) -> Option<(T, &'a Entry)> {
        let found = self.candidates(key);
        for (i, entry) in found.iter().enumerate() {
            let value = &entry.value;
            let read = if value.is_empty() { None } else { read(value) };
            if let Some(v) = read {
                return Some((v, entry));
            }
            let next = match found.get(i + 1) {
                Some(top) => format!("the top-level value ({}); so does this library", top.at),
                None => match ours {
                    Some(ours) => {
                        format!("its default, {default}; this library uses its own default, {ours}")
                    }
                    None => format!("its default, {default}; so does this library"),
                },
            };
            warn(
                &entry.at,
                format_args!(
                    "`{}` = {:?} {}, so beego uses {next}",
                    entry.written,
                    shown_value(key, value),
                    why_unreadable(kind, value)
                ),
            );
        }
        None
    }

    fn boolean(&self, key: &str, default: bool) -> bool {
        self.lookup(key, Kind::Bool, &default.to_string(), None, go_bool)
            .map_or(default, |(v, _)| v)
    }

    fn text_entry(&self, key: &str, default: &str) -> (String, Option<&'a Entry>) {
        let shown = if default.is_empty() {
            "empty".to_owned()
        } else {
            format!("{default:?}")
        };
        match self.lookup(key, Kind::Text, &shown, None, |v| Some(v.to_owned())) {
            Some((value, entry)) => {
                if has_inline_comment(&value) {
                    warn(&entry.at, format_args!("beego has no inline comments: `{}` is {:?}, comment included, and so it is here", entry.written, shown_value(key, &value)));
                }
                (value, Some(entry))
            }
            None => (default.to_owned(), None),
        }
    }

    fn text(&self, key: &str, default: &str) -> String {
        self.text_entry(key, default).0
    }

    /// `SessionProvider`: beego finds engines by their exact name; session-core ignores
    /// case.
    fn provider(&self, default: &str) -> String {
        let (name, entry) = self.text_entry("SessionProvider", default);
        if let Some(entry) = entry.filter(|_| name != name.to_lowercase()) {
            warn(&entry.at, format_args!("beego finds engines by their exact name and, with sessions on, fails to start on {name:?} (server/web/session/session.go:112: unknown provide); this library matches engine names case-insensitively and uses `{}`", name.to_lowercase()));
        }
        name
    }

    /// A text key with a beego ≤ 1.5 name that meant the same for sessions: the old name is
    /// read when today's is not set.
    fn with_old_name(&self, key: &str, old: &str) -> String {
        let (value, entry) = self.text_entry(key, "");
        let meant = keys::old_key(old).map_or("", |k| k.session_use.unwrap_or_default());
        for old_entry in self.candidates(old) {
            if entry.is_some() {
                warn(&old_entry.at, format_args!("`{}` is beego ≤ 1.5's name for `{key}` ({meant}); beego 1.6 and later ignore it, and so does this library here, since `{key}` is set", old_entry.written));
            } else if !old_entry.value.is_empty() {
                warn(&old_entry.at, format_args!("`{}` is beego ≤ 1.5's name for `{key}` ({meant}); beego 1.6 and later ignore it; this library reads it as `{key}`", old_entry.written));
                return old_entry.value.clone();
            }
        }
        value
    }

    /// `EnableHTTPS` makes the session cookie `Secure` (hooks.go:56); beego ≤ 1.5 called it
    /// `EnableHttpTLS`, ≤ 1.2 `HttpTLS`.
    fn secure(&self) -> bool {
        if let Some((on, _)) = self.lookup("EnableHTTPS", Kind::Bool, "false", None, go_bool) {
            for old in ["EnableHttpTLS", "HttpTLS"] {
                for e in self.candidates(old) {
                    warn(&e.at, format_args!("`{}` is an old beego name for `EnableHTTPS` (the session cookie's Secure in beego ≤ 1.5); beego 1.6 and later ignore it, and so does this library here, since `EnableHTTPS` is set", e.written));
                }
            }
            return on;
        }
        for old in ["EnableHttpTLS", "HttpTLS"] {
            if let Some((on, e)) = self.lookup(old, Kind::Bool, "false", None, go_bool) {
                warn(&e.at, format_args!("`{}` is an old beego name for `EnableHTTPS` (it made the session cookie Secure in beego ≤ 1.5); beego 1.6 and later ignore it; this library reads it as `EnableHTTPS`", e.written));
                return on;
            }
        }
        false
    }

    fn gc_lifetime(&self) -> u64 {
        let key = "SessionGCMaxLifetime";
        match self.lookup(key, Kind::Int, "3600 seconds", None, go_int) {
            None => DEFAULT_GC_LIFETIME,
            Some((secs, e)) if secs <= 0 => {
                warn(&e.at, format_args!("`{}` = {secs}: beego reads it, then runs its session GC in a busy loop and expires every session at once (server/web/session/session.go:115, 280); this library uses beego's default, {DEFAULT_GC_LIFETIME} seconds, instead", e.written));
                DEFAULT_GC_LIFETIME
            }
            Some((secs, e)) => capped(secs.unsigned_abs(), e),
        }
    }

    /// `SessionAbsoluteLifetime`: 0 (none) when absent; a negative value reads as none.
    fn absolute_lifetime(&self) -> u64 {
        match self.lookup(
            "SessionAbsoluteLifetime",
            Kind::Int,
            "0 (no absolute lifetime)",
            None,
            go_int,
        ) {
            None => 0,
            Some((secs, e)) if secs < 0 => {
                warn(
                    &e.at,
                    format_args!(
                        "`{}` = {secs}: a negative absolute lifetime means none here",
                        e.written
                    ),
                );
                0
            }
            Some((secs, e)) => capped(secs.unsigned_abs(), e),
        }
    }

    fn cookie_lifetime(&self) -> u64 {
        match self.lookup(
            "SessionCookieLifeTime",
            Kind::Int,
            "0 (a browser-session cookie)",
            None,
            go_int,
        ) {
            None => 0,
            Some((secs, e)) if secs < 0 => {
                warn(&e.at, format_args!("`{}` = {secs}: beego sets no Max-Age for a lifetime of 0 or less (server/web/session/session.go:223), a browser-session cookie; this library reads it as 0, the same cookie", e.written));
                0
            }
            Some((secs, e)) => capped(secs.unsigned_abs(), e),
        }
    }

    /// `SessionCookieSameSite` is Go's `http.SameSite`, read as a number.
    fn same_site(&self) -> SameSite {
        let found = self.lookup(
            "SessionCookieSameSite",
            Kind::Int,
            "1 (no SameSite attribute)",
            Some("Lax (see the README's differences from beego)"),
            go_int,
        );
        if found.is_none() {
            for e in self.candidates("SessionCookieSameSite") {
                if let Some(n) = same_site_number(&e.value) {
                    warn(&e.at, format_args!("beego reads `{}` as Go's http.SameSite number (1 default, 2 lax, 3 strict, 4 none): write {n} for {:?}", e.written, e.value));
                }
            }
        }
        match found {
            None => SameSite::default(),
            Some((n, e)) => same_site_from_go(n).unwrap_or_else(|| {
                warn(&e.at, format_args!("`{}` = {n} is none of Go's http.SameSite numbers (1 default, 2 lax, 3 strict, 4 none); Go writes no SameSite attribute for it, and neither does this library", e.written));
                SameSite::Unset
            }),
        }
    }

    /// `SessionHashKey`: read by beego 1.0 to 1.4.2 only; here it tags session ids.
    fn hash_key(&self) -> String {
        let (key, entry) = self.text_entry("SessionHashKey", "");
        if let Some(e) = entry {
            warn(&e.at, format_args!("beego 1.4.3 and later ignore `{}`; here it makes every session id carry an HMAC tag, and ids without a valid tag are refused (see the README's differences from beego)", e.written));
        }
        key
    }

    /// `sessionConfig`: beego's manager JSON, read only when sessions are on (hooks.go:48-69),
    /// where invalid JSON stops beego from starting.
    fn session_config(&self, session_on: bool) -> Result<Option<String>, WebConfigError> {
        let (json, Some(entry)) = self.text_entry("sessionConfig", "") else {
            return Ok(None);
        };
        if let Err(e) = ManagerConfig::from_json(&json) {
            if session_on {
                return Err(WebConfigError::Value {
                    at: entry.at.clone(),
                    key: "sessionconfig",
                    reason: e.to_string(),
                });
            }
            warn(&entry.at, format_args!("`{}` is not a valid manager configuration ({e}); beego reads it only when sessions are on, so it is ignored", entry.written));
            return Ok(None);
        }
        for key in REPLACED_BY_SESSION_CONFIG {
            for e in self.candidates(key) {
                warn(&e.at, format_args!("`{}` is not used: `{}` ({}) replaces every cookie setting, as in beego (hooks.go:52-69)", e.written, entry.written, entry.at));
            }
        }
        Ok(Some(json))
    }
}

/// A lifetime within session-core's ten-year limit.
fn capped(secs: u64, entry: &Entry) -> u64 {
    if secs > MAX_LIFETIME_SECS {
        warn(&entry.at, format_args!("`{}` = {secs} seconds is more than ten years; this library uses ten years ({MAX_LIFETIME_SECS} seconds)", entry.written));
        return MAX_LIFETIME_SECS;
    }
    secs
}
