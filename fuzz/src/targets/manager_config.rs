//! `ManagerConfig::from_json` on any text.
//!
//! Asserts: a configuration that parses validates, yields its id policy, and reads the same
//! from the JSON of its own fields; `Debug` never shows `providerConfig` or
//! `sessionIDHashKey`; and with a password in `providerConfig` or a key in
//! `sessionIDHashKey` (as a string, or wrongly typed), no error or log line shows it.

use arbitrary::{Result, Unstructured};
use serde_json::{json, Value};
use session_core::ManagerConfig;

use crate::logs;
use crate::secret::{assert_hidden, password, surrounding};

/// Fields whose values are secret.
const SECRET_FIELDS: &[&str] = &["providerConfig", "sessionIDHashKey"];

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    logs::install();
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = ManagerConfig::from_json(&text) {
        check_parsed(&config);
    }
    logs::take();
    let _ = with_secret(&mut Unstructured::new(data));
}

fn check_parsed(config: &ManagerConfig) {
    config
        .validate()
        .unwrap_or_else(|e| panic!("a parsed configuration does not validate: {e}"));
    config
        .id_policy()
        .unwrap_or_else(|e| panic!("a parsed configuration has no id policy: {e}"));
    let again = ManagerConfig::from_json(&to_json(config).to_string())
        .unwrap_or_else(|e| panic!("a parsed configuration's own JSON fails: {e}"));
    assert!(again == *config, "JSON round trip differs");
}

/// The beego JSON form of every field of `config`.
fn to_json(c: &ManagerConfig) -> Value {
    let same_site = match c.cookie_same_site {
        session_core::SameSite::Lax => "lax",
        session_core::SameSite::Strict => "strict",
        session_core::SameSite::None => "none",
        session_core::SameSite::Unset => "default",
    };
    json!({
        "cookieName": c.cookie_name,
        "enableSetCookie": c.enable_set_cookie,
        "gclifetime": c.gc_lifetime,
        "maxLifetime": c.max_lifetime,
        "absoluteLifetime": c.absolute_lifetime,
        "disableHTTPOnly": c.disable_http_only,
        "secure": c.secure,
        "cookieLifeTime": c.cookie_life_time,
        "providerConfig": c.provider_config,
        "domain": c.domain,
        "sessionIDLength": c.session_id_length,
        "sessionIDPrefix": c.session_id_prefix,
        "sessionIDHashFunc": c.session_id_hash_func,
        "sessionIDHashKey": c.session_id_hash_key,
        "EnableSidInHTTPHeader": c.enable_sid_in_http_header,
        "SessionNameInHTTPHeader": c.session_name_in_http_header,
        "EnableSidInURLQuery": c.enable_sid_in_url_query,
        "cookieSameSite": same_site,
    })
}

/// A JSON object with a secret field among fuzzer-chosen ones.
fn with_secret(u: &mut Unstructured<'_>) -> Result<()> {
    let field = *u.choose(SECRET_FIELDS)?;
    let pw = password(u)?;
    let value = match u.int_in_range(0..=4)? {
        0 | 1 => Value::String(pw),
        2 => json!([pw]),
        3 => json!({ "password": pw }),
        _ => Value::String(format!("mysql://u:{pw}@127.0.0.1/db")),
    };
    let mut items = vec![format!("{}:{value}", Value::from(field))];
    for _ in 0..u.int_in_range(0..=3)? {
        let at = u.int_in_range(0..=items.len())?;
        items.insert(at, surrounding(u)?);
    }
    let json = format!("{{{}}}", items.join(","));
    match ManagerConfig::from_json(&json) {
        Ok(config) => {
            check_parsed(&config);
            assert_hidden("Debug output", &format!("{config:?}"), &json);
        }
        Err(err) => {
            assert_hidden("the error", &err.to_string(), &json);
            assert_hidden("the error's Debug", &format!("{err:?}"), &json);
        }
    }
    assert_hidden("the log", &logs::take(), &json);
    Ok(())
}
