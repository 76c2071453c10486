//! The session keys of beego's web configuration and how each value is read.

use session_core::{ManagerConfig, SameSite, MAX_LIFETIME_SECS};

use super::error::{Location, WebConfigError};
use super::WebSessionConfig;

/// beego's session keys (lowercase, as matched) in the order beego documents them.
pub const SESSION_KEYS: &[&str] = &[
    "sessionon",
    "sessionprovider",
    "sessionname",
    "sessiongcmaxlifetime",
    "sessionproviderconfig",
    "sessioncookielifetime",
    "sessionautosetcookie",
    "sessiondomain",
    "sessiondisablehttponly",
    "sessionenablesidinhttpheader",
    "sessionnameinhttpheader",
    "sessionenablesidinurlquery",
    "sessioncookiesamesite",
    "sessionidprefix",
    "sessionhashfunc",
    "sessionhashkey",
    "sessionconfig",
];

/// beego's other framework keys: allowed in app.conf and ignored here, except `enablehttps`,
/// which (as in beego) marks the session cookie `Secure`.
const FRAMEWORK_KEYS: &[&str] = &[
    "appname",
    "runmode",
    "routercasesensitive",
    "servername",
    "recoverpanic",
    "copyrequestbody",
    "enablegzip",
    "maxmemory",
    "maxuploadsize",
    "enableerrorsshow",
    "enableerrorsrender",
    "graceful",
    "servertimeout",
    "listentcp4",
    "enablehttp",
    "httpaddr",
    "httpport",
    "autotls",
    "domains",
    "tlscachedir",
    "enablehttps",
    "enablemutualhttps",
    "httpsaddr",
    "httpsport",
    "httpscertfile",
    "httpskeyfile",
    "trustcafile",
    "enableadmin",
    "adminaddr",
    "adminport",
    "enablefcgi",
    "enablestdio",
    "autorender",
    "enabledocs",
    "flashname",
    "flashseparator",
    "directoryindex",
    "staticdir",
    "staticextensionstogzip",
    "staticcachefilenum",
    "staticcachefilesize",
    "templateleft",
    "templateright",
    "viewspath",
    "commentrouterpath",
    "enablexsrf",
    "xsrfkey",
    "xsrfexpire",
    "accesslogs",
    "enablestaticlogs",
    "accesslogsformat",
    "filelinenum",
    "outputs",
    "enableprintroutes",
];

/// True when `key` (lowercase) is known, as a session key or a framework key.
pub(crate) fn check_key(key: &str, written: &str, at: &Location) -> Result<(), WebConfigError> {
    if SESSION_KEYS.contains(&key) || FRAMEWORK_KEYS.contains(&key) {
        return Ok(());
    }
    let hint = SESSION_KEYS
        .iter()
        .chain(FRAMEWORK_KEYS)
        .find(|known| near(key, known))
        .map(|known| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default();
    Err(WebConfigError::UnknownKey {
        at: at.clone(),
        key: written.to_owned(),
        hint,
        known: SESSION_KEYS.join(", "),
    })
}

/// One edit apart (a letter missing, added or changed): the usual typo.
fn near(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    let skip = if short.len() == long.len() { 1 } else { 0 };
    short.get(prefix + skip..).unwrap_or_default() == long.get(prefix + 1..).unwrap_or_default()
}

/// Sets the field for `key` (a lowercase session key or `enablehttps`) from `value`.
pub(crate) fn apply(
    config: &mut WebSessionConfig,
    key: &str,
    value: &str,
    at: &Location,
) -> Result<(), WebConfigError> {
    let Some(&name) = SESSION_KEYS
        .iter()
        .chain(FRAMEWORK_KEYS)
        .find(|k| **k == key)
    else {
        return Ok(());
    };
    let bad = |reason: String| WebConfigError::Value {
        at: at.clone(),
        key: name,
        reason,
    };
    let c = config;
    match name {
        "sessionon" => c.session_on = boolean(value).map_err(bad)?,
        "sessionprovider" => c.provider = engine_name(value).map_err(bad)?,
        "sessionname" => c.name = value.to_owned(),
        "sessiongcmaxlifetime" => c.gc_max_lifetime = seconds(value, 1).map_err(bad)?,
        "sessionproviderconfig" => c.provider_config = value.to_owned(),
        "sessioncookielifetime" => c.cookie_lifetime = seconds(value, 0).map_err(bad)?,
        "sessionautosetcookie" => c.auto_set_cookie = boolean(value).map_err(bad)?,
        "sessiondomain" => c.domain = value.to_owned(),
        "sessiondisablehttponly" => c.disable_http_only = boolean(value).map_err(bad)?,
        "sessionenablesidinhttpheader" => {
            c.enable_sid_in_http_header = boolean(value).map_err(bad)?
        }
        "sessionnameinhttpheader" => c.name_in_http_header = value.to_owned(),
        "sessionenablesidinurlquery" => c.enable_sid_in_url_query = boolean(value).map_err(bad)?,
        "sessioncookiesamesite" => c.cookie_same_site = same_site(value).map_err(bad)?,
        "sessionidprefix" => c.id_prefix = value.to_owned(),
        "sessionhashfunc" => c.hash_func = value.to_owned(),
        "sessionhashkey" => c.hash_key = value.to_owned(),
        "sessionconfig" => {
            // Checked here so that a bad JSON is reported at its line.
            ManagerConfig::from_json(value).map_err(|e| bad(e.to_string()))?;
            c.session_config = (!value.is_empty()).then(|| value.to_owned());
        }
        "enablehttps" => c.secure = boolean(value).map_err(bad)?,
        _ => {}
    }
    Ok(())
}

/// beego's (Go's `strconv.ParseBool` plus yes/no/on/off) booleans, any case.
fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Ok(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Ok(false),
        _ => Err(format!("{value:?} is not a boolean: use true or false")),
    }
}

fn seconds(value: &str, min: u64) -> Result<u64, String> {
    let secs: u64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number of seconds"))?;
    if secs < min {
        return Err(format!("{secs} is too small: at least {min} second(s)"));
    }
    if secs > MAX_LIFETIME_SECS {
        return Err(format!("{secs} seconds is more than ten years"));
    }
    Ok(secs)
}

fn engine_name(value: &str) -> Result<String, String> {
    let name = value.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "{value:?} is not an engine name such as memory, file, cookie, mysql or postgres"
        ))
    }
}

/// Names (lax, strict, none, default) or Go's `http.SameSite` numbers 0-4.
fn same_site(value: &str) -> Result<SameSite, String> {
    match value {
        "0" | "2" => Ok(SameSite::Lax),
        "1" => Ok(SameSite::Unset),
        "3" => Ok(SameSite::Strict),
        "4" => Ok(SameSite::None),
        other => other.parse().map_err(|_| {
            format!("{other:?} is not one of lax, strict, none, default or Go's numbers 0-4")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_one_edit_away() {
        assert!(near("sessionprovder", "sessionprovider"));
        assert!(near("sessionnon", "sessionon"));
        assert!(near("sessiomon", "sessionon"));
        assert!(!near("color", "sessionon"));
    }

    #[test]
    fn values_parse_like_beego() {
        assert_eq!(boolean("TRUE"), Ok(true));
        assert_eq!(boolean("off"), Ok(false));
        assert!(boolean("maybe").is_err());
        assert_eq!(seconds("60", 1), Ok(60));
        assert!(seconds("0", 1).is_err());
        assert!(seconds("-1", 0).is_err());
        assert_eq!(same_site("3"), Ok(SameSite::Strict));
        assert_eq!(same_site("None"), Ok(SameSite::None));
        assert_eq!(engine_name("MySQL"), Ok("mysql".into()));
        assert!(engine_name("my sql").is_err());
    }
}
