//! beego's two forms: `save_path,pool,bucket` with `save_path` an `http://user:pass@host:8091`
//! URL of the cluster's management port, and the JSON form
//! `{"save_path":…,"pool":…,"bucket":…}`.
//!
//! beego's client bootstrapped over HTTP; the SDK bootstraps over the key-value port, so the
//! URL's host becomes a `couchbase://host` seed (standard ports: 8091 stands for the node,
//! 18091 and `https://` for a TLS node). Its user info is the login: beego's documented
//! `http://bucketname:bucketpass@host:8091` names the bucket as the user, so the bucket
//! defaults to the user name when the `bucket` part is missing.

use serde_json::Value;

use super::connstr;
use super::params::Draft;
use super::starts_with_ignore_case;

/// Couchbase has one pool, and beego's configurations name it.
const POOL: &str = "default";

/// `save_path[,pool[,bucket]]`.
pub(super) fn parse_comma_form(config: &str) -> Result<Draft, String> {
    // The commas that separate parts come after the URL's userinfo: one in the password
    // must not split the URL (and leave part of the password to be quoted as a port).
    let userinfo_end = config.rfind('@').map_or(0, |at| at + 1);
    let tail = &config[userinfo_end..];
    let url_end = userinfo_end + tail.find(',').unwrap_or(tail.len());
    let mut parts = vec![config[..url_end].trim()];
    if url_end < config.len() {
        parts.extend(config[url_end + 1..].split(',').map(str::trim));
    }
    if parts.len() > 3 {
        return Err(format!(
            "beego's form is save_path,pool,bucket: {} comma-separated parts is too many",
            parts.len()
        ));
    }
    let mut draft = parse_save_path(parts[0])?;
    check_pool(parts.get(1).copied().unwrap_or_default())?;
    if let Some(bucket) = parts.get(2).filter(|b| !b.is_empty()) {
        draft.take("bucket", bucket)?;
    }
    default_bucket_to_user(&mut draft);
    Ok(draft)
}

/// `{"save_path":…,"pool":…,"bucket":…}` plus any of the engine's parameters as keys
/// (`"scope"`, `"kv_timeout"`, …; strings, or numbers of seconds for timeouts).
/// `save_path` may also be a `couchbase://` connection string.
pub(super) fn parse_json(config: &str) -> Result<Draft, String> {
    let json: Value = serde_json::from_str(config).map_err(|e| {
        // serde's messages quote no input, only positions.
        format!("not valid JSON ({e})")
    })?;
    let Value::Object(fields) = json else {
        return Err("the JSON form must be an object {\"save_path\":…}".into());
    };
    let text = |key: &str, value: &Value| -> Result<String, String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(format!("key `{key}` must be a string")),
        }
    };
    let save_path = match fields.get("save_path") {
        Some(value) => text("save_path", value)?,
        None => return Err("the JSON form needs `save_path` (the cluster's URL)".into()),
    };
    // Masked against the decoded value too: the JSON text may spell the password with
    // escapes (`\t`), which messages quote decoded.
    let mask = |why: String| session_core::dsn::mask_secrets_of(&why, &save_path);
    let mut draft = if starts_with_ignore_case(save_path.trim(), "http") {
        parse_save_path(save_path.trim()).map_err(mask)?
    } else {
        connstr::parse(save_path.trim()).map_err(mask)?
    };
    for (key, value) in &fields {
        match key.as_str() {
            "save_path" => {}
            "pool" => check_pool(&text(key, value)?)?,
            _ => {
                if !draft.take(key, &text(key, value)?)? {
                    return Err(format!(
                        "unknown key `{key}`; known keys: save_path, pool, bucket, username, \
                         password, scope, collection, prefix, connect_timeout, kv_timeout, \
                         query_timeout, count, ca_cert"
                    ));
                }
            }
        }
    }
    default_bucket_to_user(&mut draft);
    Ok(draft)
}

/// `http[s]://[user[:pass]@]host[:8091|18091][/…]`.
fn parse_save_path(save_path: &str) -> Result<Draft, String> {
    let (scheme, rest) = save_path
        .split_once("://")
        .ok_or("save_path must be a URL like http://user:pass@host:8091")?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        other => return Err(format!("save_path has scheme `{other}://`; use http://")),
    };
    let mut draft = Draft::default();
    // The user info ends at the last `@` (a password may contain `/`); the path
    // (beego's clients took `/pools`) means nothing here.
    let after_userinfo = match rest.rsplit_once('@') {
        Some((userinfo, after)) => {
            connstr::take_userinfo(&mut draft, userinfo)?;
            after
        }
        None => rest,
    };
    let host = after_userinfo.split(['/', '?']).next().unwrap_or_default();
    let (name, port) = split_port(host)?;
    draft.tls = match port {
        None => https,
        Some(8091) => false,
        Some(18091) => true,
        Some(other) => {
            return Err(format!(
                "save_path port {other}: the SDK bootstraps over the key-value port, and a \
                 management port other than 8091/18091 does not say which that is; use \
                 couchbase://{name}:<key-value port> instead"
            ))
        }
    };
    draft.seeds = connstr::parse_hosts(name)?;
    Ok(draft)
}

/// `host[:port]` of a URL, IPv6 in brackets.
fn split_port(host: &str) -> Result<(&str, Option<u16>), String> {
    let port_at = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => i,
        _ => return Ok((host, None)),
    };
    let (name, port) = (&host[..port_at], &host[port_at + 1..]);
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("save_path port `{port}` is not a number from 1 to 65535"))?;
    Ok((name, Some(port)))
}

fn check_pool(pool: &str) -> Result<(), String> {
    if pool.is_empty() || pool == POOL {
        Ok(())
    } else {
        Err(format!(
            "pool `{pool}`: Couchbase has only the pool `{POOL}` (beego's second part)"
        ))
    }
}

/// beego's documented `http://bucketname:bucketpass@…` logs in as the bucket.
fn default_bucket_to_user(draft: &mut Draft) {
    if draft.bucket.is_none() {
        draft.bucket = draft.username.clone();
    }
}
