//! `BEEGO_<KEY>` environment variables over app.conf's session keys (this library's own
//! addition, not beego's). A variable is set on purpose, so a value beego could not read is
//! an error here, not a warning.

use session_core::{ManagerConfig, SameSite, MAX_LIFETIME_SECS};

use super::error::{Location, WebConfigError};
use super::keys::{self, Kind, SESSION_KEYS};
use super::redact::shown_value;
use super::values::{go_bool, go_int, same_site_from_go, why_unreadable};
use super::{hints, WebSessionConfig, ENV_PREFIX};

/// Applies one variable; variables that are not `BEEGO_<session key>` (or
/// `BEEGO_ENABLEHTTPS`) are left alone, except a `BEEGO_SESSION…` typo, which is an error.
pub(crate) fn apply_var(
    config: &mut WebSessionConfig,
    name: &str,
    value: &str,
) -> Result<(), WebConfigError> {
    let Some(key) = name.strip_prefix(ENV_PREFIX) else {
        return Ok(());
    };
    let key = key.to_ascii_lowercase();
    let at = Location::Env {
        var: name.to_owned(),
    };
    let value = value.trim();
    let known = SESSION_KEYS
        .iter()
        .chain(&["enablehttps"])
        .find(|k| **k == key);
    let Some(&key) = known else {
        if key.starts_with("session") {
            return Err(WebConfigError::UnknownKey {
                at,
                key: name.to_owned(),
                hint: hints::env_hint(&key, value),
                known: SESSION_KEYS.join(", "),
            });
        }
        return Ok(());
    };
    let bad = |reason: String| WebConfigError::Value {
        at: at.clone(),
        key,
        reason,
    };
    let unreadable = |kind| {
        bad(format!(
            "{:?} {}",
            shown_value(key, value),
            why_unreadable(kind, value)
        ))
    };
    let boolean = || go_bool(value).ok_or_else(|| unreadable(Kind::Bool));
    let seconds = |min: u64| -> Result<u64, WebConfigError> {
        let secs = go_int(value).ok_or_else(|| unreadable(Kind::Int))?;
        match u64::try_from(secs) {
            Ok(s) if s < min => Err(bad(format!("{secs} is too small: at least {min} second(s) (0 would run the session GC in a busy loop)"))),
            Ok(s) if s > MAX_LIFETIME_SECS => Err(bad(format!("{secs} seconds is more than ten years"))),
            Ok(s) => Ok(s),
            Err(_) => Err(bad(format!("{secs} is negative"))),
        }
    };
    let c = config;
    match key {
        "sessionon" => c.session_on = boolean()?,
        "sessionprovider" => c.provider = value.to_owned(),
        "sessionname" => c.name = value.to_owned(),
        "sessiongcmaxlifetime" => c.gc_max_lifetime = seconds(1)?,
        "sessionproviderconfig" => c.provider_config = value.to_owned(),
        "sessioncookielifetime" => c.cookie_lifetime = seconds(0)?,
        "sessionabsolutelifetime" => c.absolute_lifetime = seconds(0)?,
        "sessionautosetcookie" => c.auto_set_cookie = boolean()?,
        "sessiondomain" => c.domain = value.to_owned(),
        "sessiondisablehttponly" => c.disable_http_only = boolean()?,
        "sessionenablesidinhttpheader" => c.enable_sid_in_http_header = boolean()?,
        "sessionnameinhttpheader" => c.name_in_http_header = value.to_owned(),
        "sessionenablesidinurlquery" => c.enable_sid_in_url_query = boolean()?,
        "sessioncookiesamesite" => c.cookie_same_site = same_site(value).map_err(bad)?,
        "sessionidprefix" => c.id_prefix = value.to_owned(),
        "sessionhashfunc" => c.hash_func = value.to_owned(),
        "sessionhashkey" => c.hash_key = value.to_owned(),
        "sessionconfig" => {
            ManagerConfig::from_json(value).map_err(|e| bad(e.to_string()))?;
            c.session_config = (!value.is_empty()).then(|| value.to_owned());
        }
        "enablehttps" => c.secure = boolean()?,
        _ => debug_assert!(keys::session_key(key).is_some(), "{key} has no reader"),
    }
    Ok(())
}

/// Go's numbers (1 default, 2 lax, 3 strict, 4 none; 0 our default) or the names.
fn same_site(value: &str) -> Result<SameSite, String> {
    match go_int(value) {
        Some(n) => same_site_from_go(n),
        None => value.parse().ok(),
    }
    .ok_or_else(|| {
        format!("{value:?} is not one of lax, strict, none, default or Go's numbers 0-4")
    })
}
