//! The named settings every form shares (`key=value` in URLs and the comma form, fields in
//! the JSON form), with beego's names as aliases.

use std::time::Duration;

use session_core::dsn::parse_duration;

use super::RedisConfig;

/// Every accepted name, for the error about an unknown one.
pub(crate) const KNOWN: &str = "prefix (key_prefix), pool_size (poolsize, max_connections), \
    password (pass), username (user), db (db_num, dbnum), connect_timeout, response_timeout \
    (timeout), idle_timeout, idle_check_frequency, max_retries, master_name (master), \
    sentinel_username, sentinel_password";

/// Sets `key` to `value`: `Ok(true)` when `key` is a setting, `Ok(false)` when it is not,
/// an error (not naming the key: the caller does) when `value` is unusable. Secrets are
/// never quoted.
pub(crate) fn take(config: &mut RedisConfig, key: &str, value: &str) -> Result<bool, String> {
    let value = value.trim();
    let text = || (!value.is_empty()).then(|| value.to_owned());
    match normalize(key).as_str() {
        "prefix" | "key_prefix" => config.key_prefix = value.to_owned(),
        "pool_size" | "poolsize" | "max_connections" => {
            config.pool_size = number(value, 1, 10_000)? as usize;
        }
        "password" | "pass" => config.password = text(),
        "username" | "user" => config.username = text(),
        "db" | "db_num" | "dbnum" => config.db = number(value, 0, 1 << 30)? as i64,
        "connect_timeout" => config.connect_timeout = parse_duration(value)?,
        "response_timeout" | "timeout" => config.response_timeout = parse_duration(value)?,
        "idle_timeout" | "idletimeout" => config.idle_timeout = optional_duration(value)?,
        "idle_check_frequency" | "idlecheckfrequency" | "idle_check_freq" => {
            config.idle_check_frequency = parse_duration(value)?;
        }
        "max_retries" | "maxretries" => config.max_retries = number(value, 0, 100)? as u32,
        "master_name" | "master" | "mastername" => config.master_name = value.to_owned(),
        "sentinel_username" => config.sentinel_username = text(),
        "sentinel_password" => config.sentinel_password = text(),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Every name [`take`] accepts, aliases included.
pub(crate) const NAMES: &[&str] = &[
    "prefix",
    "key_prefix",
    "pool_size",
    "poolsize",
    "max_connections",
    "password",
    "pass",
    "username",
    "user",
    "db",
    "db_num",
    "dbnum",
    "connect_timeout",
    "response_timeout",
    "timeout",
    "idle_timeout",
    "idletimeout",
    "idle_check_frequency",
    "idlecheckfrequency",
    "idle_check_freq",
    "max_retries",
    "maxretries",
    "master_name",
    "master",
    "mastername",
    "sentinel_username",
    "sentinel_password",
];

/// True when `key` names a setting.
pub(crate) fn is_known(key: &str) -> bool {
    NAMES.contains(&normalize(key).as_str())
}

fn normalize(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

fn number(value: &str, min: u64, max: u64) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("`{value}` is not a number from {min} to {max}"))
}

/// A duration where `0` (beego's "not set") means none.
fn optional_duration(value: &str) -> Result<Option<Duration>, String> {
    match value {
        "0" | "" => Ok(None),
        _ => parse_duration(value).map(Some),
    }
}
