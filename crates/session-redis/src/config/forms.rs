//! The three forms of `providerConfig`: beego's comma form, beego's JSON form, and URLs.
//! Each reads into a [`RedisConfig`] through [`params::take`]; errors name the bad part.

use percent_encoding::percent_decode_str;

use super::{params, Address, RedisConfig, Topology};

/// beego's positional parts after the address, and the setting each one is.
const BEEGO_PARTS: &[(&str, &str)] = &[
    ("poolsize", "pool_size"),
    ("password", "password"),
    ("dbnum", "db"),
    ("idleTimeout", "idle_timeout"),
    ("idleCheckFrequency", "idle_check_frequency"),
    ("maxRetries", "max_retries"),
];

/// beego's sentinel form puts the master name after `dbnum`.
const BEEGO_SENTINEL_PARTS: &[(&str, &str)] = &[
    ("poolsize", "pool_size"),
    ("password", "password"),
    ("dbnum", "db"),
    ("masterName", "master_name"),
    ("idleTimeout", "idle_timeout"),
    ("idleCheckFrequency", "idle_check_frequency"),
    ("maxRetries", "max_retries"),
];

/// Reads `text` (trimmed) into `config`.
pub(super) fn parse_into(config: &mut RedisConfig, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(
            "providerConfig is empty: give the server, e.g. `127.0.0.1:6379` or `redis://127.0.0.1:6379/0`"
                .into(),
        );
    }
    if text.starts_with('{') {
        json(config, text)
    } else {
        comma(config, text)
    }
}

/// `addr,poolsize,password,dbnum,idleTimeout,idleCheckFrequency,maxRetries` (sentinel:
/// `addrs,poolsize,password,dbnum,masterName,…`); every part after the first may be left
/// empty or out. After the password, `key=value` parts set the other settings.
fn comma(config: &mut RedisConfig, text: &str) -> Result<(), String> {
    let mut parts = text.split(',');
    addresses(config, parts.next().unwrap_or_default())?;
    let positional = match config.topology {
        Topology::Sentinel => BEEGO_SENTINEL_PARTS,
        Topology::Standalone | Topology::Cluster => BEEGO_PARTS,
    };
    let mut next = 0;
    for (index, part) in parts.enumerate() {
        let number = index + 2;
        let past_password = next >= 2;
        if let Some((key, value)) = part.split_once('=').filter(|_| past_password) {
            if params::is_known(key) {
                params::take(config, key, value)
                    .map_err(|why| format!("part {number} (`{}`): {why}", key.trim()))?;
                continue;
            }
        }
        let Some((name, setting)) = positional.get(next) else {
            return Err(format!(
                "part {number}: beego's form has {} parts after the address; write further \
                 settings as key=value (known: {})",
                positional.len(),
                params::KNOWN
            ));
        };
        next += 1;
        if part.trim().is_empty() {
            continue; // beego's default
        }
        params::take(config, setting, part)
            .map_err(|why| format!("part {number} ({name}): {why}"))?;
    }
    Ok(())
}

/// beego's `{"save_path":…,"poolsize":…,"password":…,"db_num":…,"idle_timeout":…,
/// "idle_check_frequency":…,"max_retries":…,"master_name":…}`, plus the named settings.
fn json(config: &mut RedisConfig, text: &str) -> Result<(), String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object of settings: {e}"))?;
    let mut saw_address = false;
    for (key, value) in &object {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            _ => return Err(format!("field `{key}`: give a string or a number")),
        };
        if key.eq_ignore_ascii_case("save_path") {
            // Masked against the decoded value: the JSON text may spell the password with
            // escapes (`\t`), which the message quotes decoded.
            addresses(config, &value).map_err(|why| {
                format!(
                    "field `save_path`: {}",
                    session_core::dsn::mask_secrets_of(&why, &value)
                )
            })?;
            saw_address = true;
        } else if !params::take(config, key, &value)
            .map_err(|why| format!("field `{key}`: {why}"))?
        {
            return Err(format!(
                "unknown field `{key}`; known fields are save_path, {}",
                params::KNOWN
            ));
        }
    }
    if saw_address {
        Ok(())
    } else {
        Err("field `save_path` is missing: give the server, e.g. \"127.0.0.1:6379\"".into())
    }
}

/// `;`-separated servers, each `host[:port]`, a socket path, or a URL.
fn addresses(config: &mut RedisConfig, list: &str) -> Result<(), String> {
    let default_port = config.topology.default_port();
    for item in split_list(list).map(str::trim).filter(|s| !s.is_empty()) {
        let address = if item.contains("://") {
            url(config, item)?
        } else {
            Address::parse(item, default_port)?
        };
        config.addresses.push(address);
    }
    Ok(())
}

/// The items of a `;`-separated address list. In a list of URLs, only a `;` followed by the
/// next URL's `scheme://` separates: one inside a password must not cut the URL in two
/// (the half before it would be quoted, password and all, as a URL without a host).
fn split_list(list: &str) -> impl Iterator<Item = &str> {
    let urls = list.contains("://");
    let mut rest = Some(list);
    std::iter::from_fn(move || {
        let text = rest?;
        let mut search = 0;
        loop {
            let Some(i) = text[search..].find(';').map(|i| search + i) else {
                rest = None;
                return Some(text);
            };
            let next = text[i + 1..].trim_start();
            if !urls || starts_url(next) {
                rest = Some(&text[i + 1..]);
                return Some(&text[..i]);
            }
            search = i + 1;
        }
    })
}

/// True when `text` starts with `scheme://`.
fn starts_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// `redis://[user:pass@]host[:port][/db][?key=value…]`, `rediss://…`,
/// `redis+unix:///path[?db=…&pass=…]` (also `unix://`). The credentials are those of the
/// server the URL names: for `redis_sentinel`, the sentinels'.
fn url(config: &mut RedisConfig, text: &str) -> Result<Address, String> {
    let bad = |why: String| format!("URL `{text}`: {why}");
    session_core::dsn::check_userinfo_encoded(text).map_err(bad)?;
    let parsed = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| bad("the user or password is not UTF-8 once decoded".into()))
    };
    let address = match parsed.scheme() {
        scheme @ ("redis" | "rediss" | "valkey" | "valkeys") => {
            let host = parsed
                .host_str()
                .ok_or_else(|| bad("no host".into()))?
                .trim_start_matches('[')
                .trim_end_matches(']');
            let port = parsed.port().unwrap_or(config.topology.default_port());
            let tls = matches!(scheme, "rediss" | "valkeys");
            let address = Address::tcp(host, port, tls).map_err(bad)?;
            match parsed.path().trim_matches('/') {
                "" => {}
                db => params::take(config, "db", db)
                    .map_err(|why| bad(format!("the path is the database number: {why}")))
                    .map(drop)?,
            }
            address
        }
        "redis+unix" | "unix" | "valkey+unix" => {
            let path = decode(parsed.path())?;
            if !path.starts_with('/') {
                return Err(bad(
                    "give the socket's absolute path, e.g. redis+unix:///run/redis.sock".into(),
                ));
            }
            Address::Unix(path.into())
        }
        other => {
            return Err(bad(format!(
                "unknown scheme `{other}` (use redis://, rediss:// or redis+unix://)"
            )))
        }
    };
    let sentinel = config.topology == Topology::Sentinel;
    if !parsed.username().is_empty() {
        let user = Some(decode(parsed.username())?);
        if sentinel {
            config.sentinel_username = user
        } else {
            config.username = user
        }
    }
    if let Some(password) = parsed.password() {
        let password = Some(decode(password)?).filter(|p| !p.is_empty());
        if sentinel {
            config.sentinel_password = password
        } else {
            config.password = password
        }
    }
    for (key, value) in parsed.query_pairs() {
        if !params::take(config, &key, &value)
            .map_err(|why| bad(format!("parameter `{key}`: {why}")))?
        {
            return Err(bad(format!(
                "unknown parameter `{key}`; known: {}",
                params::KNOWN
            )));
        }
    }
    Ok(address)
}
