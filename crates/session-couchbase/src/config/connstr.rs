//! The connection-string form:
//! `couchbase[s]://[user[:password]@]host[:port][,host[:port]…][/bucket][?key=value&…]`.
//!
//! Ports are key-value ports (11210, 11207 with TLS, or any other: a cluster published on
//! other ports). The engine's parameters ([`Draft::take`]) come out of the query; the rest
//! go to the SDK as they are.

use percent_encoding::percent_decode_str;

use super::params::Draft;
use super::Seed;

/// The management (HTTP) ports, which a `couchbase://` string must not name.
const HTTP_PORTS: [u16; 2] = [8091, 18091];

pub(super) fn parse(config: &str) -> Result<Draft, String> {
    let (scheme, rest) = config.split_once("://").ok_or_else(|| {
        "expected a connection string couchbase://host… (or couchbases:// for TLS), or \
         beego's http://user:pass@host:8091,default,bucket"
            .to_owned()
    })?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "couchbase" => false,
        "couchbases" => true,
        "couchbase2" => {
            return Err(
                "scheme `couchbase2://` (the Couchbase2 protocol) is not supported by \
                        the SDK this engine uses: use couchbase:// or couchbases://"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "unknown scheme `{other}://`: use couchbase:// or couchbases:// (TLS)"
            ))
        }
    };
    let mut draft = Draft::default();
    draft.tls = tls;
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let query_key = query.split(['=', '&']).next().unwrap_or_default();
    if !before_query.contains('@') && query_key.contains('@') {
        // `user:pa?ss@host`: the `?` ended the host part early. Say so without quoting
        // any of it: the part before `@` is a password.
        return Err("the user info seems to contain `?`: percent-encode it (%3F)".into());
    }
    // Bucket names cannot contain `@`, so the last one ends the user info even when the
    // password contains `/`.
    let after_userinfo = match before_query.rsplit_once('@') {
        Some((userinfo, after)) => {
            take_userinfo(&mut draft, userinfo)?;
            after
        }
        None => before_query,
    };
    let (hosts, path) = after_userinfo
        .split_once('/')
        .unwrap_or((after_userinfo, ""));
    draft.seeds = parse_hosts(hosts)?;
    if !path.is_empty() {
        let bucket = decode("the bucket after `/`", path)?;
        draft.take("bucket", &bucket)?;
    }
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if !draft.take(&key, &value)? {
            draft
                .sdk_options
                .push((key.into_owned(), value.into_owned()));
        }
    }
    Ok(draft)
}

/// `user[:password]`, percent-encoded as in URLs.
pub(super) fn take_userinfo(draft: &mut Draft, userinfo: &str) -> Result<(), String> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    draft.take("username", &decode("the user name", user)?)?;
    if let Some(password) = password {
        let password = percent_decode_str(password)
            .decode_utf8()
            .map_err(|_| "the password is not valid percent-encoded UTF-8".to_owned())?;
        draft.take("password", &password)?;
    }
    Ok(())
}

fn decode(what: &str, text: &str) -> Result<String, String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("{what} `{text}` is not valid percent-encoded UTF-8"))
}

/// `host[:port]` separated by `,` or `;`; IPv6 addresses in brackets.
pub(super) fn parse_hosts(hosts: &str) -> Result<Vec<Seed>, String> {
    if hosts.trim().is_empty() {
        return Err("no host: expected couchbase://host[,host…]".into());
    }
    hosts.split([',', ';']).map(parse_seed).collect()
}

fn parse_seed(text: &str) -> Result<Seed, String> {
    let text = text.trim();
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("host `{text}` has no closing `]`"))?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("host `{text}`: unexpected `{after}` after `]`")),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:%".contains(&b));
    if !valid_host {
        return Err(format!(
            "host `{text}` is not a host name or address (empty, or has characters a host \
             cannot have)"
        ));
    }
    let port = port
        .map(|port| {
            let number = port
                .parse::<u16>()
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| {
                    format!("host `{text}`: port `{port}` is not a number from 1 to 65535")
                })?;
            if HTTP_PORTS.contains(&number) {
                return Err(format!(
                    "host `{text}`: {number} is the management (HTTP) port; a couchbase:// \
                     string names key-value ports (11210, or 11207 with TLS) or none"
                ));
            }
            Ok(number)
        })
        .transpose()?;
    Ok(Seed {
        host: host.to_owned(),
        port,
    })
}
