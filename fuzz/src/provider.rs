//! The harness every engine's `providerConfig` parser runs under.
//!
//! Each input is used twice:
//! 1. as the configuration text itself (lossy UTF-8): the parser must return, and the
//!    `Debug` output of what it returns must not panic;
//! 2. as the choices that build a configuration in one of the engine's [`Form`]s with a
//!    generated password (see [`secret`](crate::secret)) in the place that form keeps it:
//!    neither the error (`Display` and `Debug`), nor the parsed value's `Debug`, nor
//!    anything logged may hold it.
//!
//! A new engine's target is one call: `provider::run(data, FORMS, MyConfig::parse)`.

use std::fmt::Debug;

use arbitrary::{Result, Unstructured};
use session_core::ConfigError;

use crate::logs;
use crate::secret::{assert_hidden, password, surrounding, surrounding_without};

/// Where a form of configuration string keeps its password.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    /// `scheme://user:PASSWORD@rest`, for each scheme (in any case).
    Url(&'static [&'static str]),
    /// `user:PASSWORD@rest` without a scheme (Go's MySQL DSN).
    UserInfo,
    /// `scheme://rest?key=PASSWORD&…`, the password percent-encoded, for each key.
    QueryParam(&'static [&'static str], &'static [&'static str]),
    /// libpq-style `key=value` pairs with `key = PASSWORD` among them, the password quoted
    /// the way the form reads it (`'…'` with `\` escapes) or bare when it can be.
    KeyValue(&'static [&'static str]),
    /// A JSON object with the password as the value of one of the `secret` fields (a
    /// string, or wrongly typed: in an array or an object), or inside a URL's userinfo as
    /// the value of one of the `url` fields; `extra` are `"key":value` members mixed in.
    Json {
        /// Fields whose value is a secret.
        secret: &'static [&'static str],
        /// Fields whose value is a URL that may carry a password.
        url: &'static [&'static str],
        /// Other members, as JSON text.
        extra: &'static [&'static str],
    },
    /// Values separated by `sep` with the password at position `index` (beego's redis
    /// `addr,pool,password,db`).
    Positional(char, usize),
}

/// Runs `parse` on `data` both ways (see the module docs).
pub fn run<T: Debug>(data: &[u8], forms: &[Form], parse: impl Fn(&str) -> Result<T, ConfigError>) {
    run_excluding(data, forms, &[], parse);
}

/// [`run`] with generated passwords free of `excluded` characters: those the engine's
/// grammar splits at before it reads a password (a `,` in a password of a URL followed
/// by beego's comma parts is ambiguous: the engine documents that it must be encoded).
pub fn run_excluding<T: Debug>(
    data: &[u8],
    forms: &[Form],
    excluded: &[char],
    parse: impl Fn(&str) -> Result<T, ConfigError>,
) {
    logs::install();
    let raw = String::from_utf8_lossy(data);
    match parse(&raw) {
        Ok(value) => drop(format!("{value:?}")),
        Err(err) => drop(format!("{err} {err:?}")),
    }
    logs::take();
    if forms.is_empty() {
        return;
    }
    let mut u = Unstructured::new(data);
    let Ok(config) = build(&mut u, forms, excluded) else {
        return;
    };
    let shown = match parse(&config) {
        Ok(value) => format!("{value:?}"),
        Err(err) => {
            assert_hidden("the error", &err.to_string(), &config);
            format!("{err:?}")
        }
    };
    assert_hidden("Debug output", &shown, &config);
    assert_hidden("the log", &logs::take(), &config);
}

/// A configuration string in one of `forms` with a generated password (free of
/// `excluded` characters).
pub fn build(u: &mut Unstructured<'_>, forms: &[Form], excluded: &[char]) -> Result<String> {
    let form = *u.choose(forms)?;
    let pw = password(u)?.replace(excluded, "");
    Ok(match form {
        Form::Url(schemes) => {
            let scheme = *u.choose(schemes)?;
            let scheme = case_mixed(u, scheme)?;
            // `/`, `?`, `#` or `@` in the user would end the authority before the
            // password: what follows would not be a password any more.
            // `,` and `;` separate the parts of some forms before the URL is read.
            let user = surrounding_without(u, &['/', '?', '#', '@', ',', ';'])?;
            let rest = surrounding(u)?;
            if pw.starts_with("//") {
                // `user://…` would start another URL, whose userinfo has no password.
                return Err(arbitrary::Error::IncorrectFormat);
            }
            format!("{scheme}://{user}:{pw}@{rest}")
        }
        Form::UserInfo => {
            // As in a URL, `/` or `@` in the user would move where the password starts.
            let user = surrounding_without(u, &['/', '@'])?;
            let rest = surrounding(u)?;
            let userinfo = format!("{user}:{pw}");
            if userinfo.contains("://") {
                // `user://…@host` is a URL whose userinfo is all user name.
                return Err(arbitrary::Error::IncorrectFormat);
            }
            format!("{userinfo}@{rest}")
        }
        Form::QueryParam(schemes, keys) => {
            let scheme = *u.choose(schemes)?;
            let scheme = case_mixed(u, scheme)?;
            let key = u.choose(keys)?;
            // Nothing before the parameter may end the query or the URL (`#`, a `,` or `;`
            // of a list form) or open another parameter's value.
            let before = surrounding_without(u, &['#', ',', ';', '&', '='])?;
            let after = surrounding(u)?;
            let host = surrounding_without(u, &['/', '?', '#', '@', ',', ';'])?;
            format!(
                "{scheme}://{host}/db?{before}&{key}={}&{after}",
                percent_encode(&pw)
            )
        }
        Form::KeyValue(keys) => {
            let key = u.choose(keys)?;
            // What comes before must not open a quote or a value that would swallow the
            // password's key (`host='…`, `=`): it stays words, or whole pairs.
            let before = surrounding_without(u, &['=', '\'', '\\'])?;
            if before.contains("://") {
                // Then the whole string is a URL, of which the pairs are the path.
                return Err(arbitrary::Error::IncorrectFormat);
            }
            let before = if u.arbitrary::<bool>()? {
                format!("{before}=x")
            } else {
                before
            };
            let after = surrounding(u)?;
            let spaces = [" ", "", "  "];
            let (s1, s2) = (u.choose(&spaces)?, u.choose(&spaces)?);
            let value = if u.arbitrary::<bool>()? || needs_quotes(&pw) {
                format!("'{}'", pw.replace('\\', "\\\\").replace('\'', "\\'"))
            } else {
                pw
            };
            format!("{before} {key}{s1}={s2}{value} {after}")
        }
        Form::Json { secret, url, extra } => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                items.push(match u.int_in_range(0..=2)? {
                    0 if !extra.is_empty() => u.choose(extra)?.to_string(),
                    _ => surrounding(u)?,
                });
            }
            let (field, value) = match u.int_in_range(0..=3)? {
                0 if !url.is_empty() => (
                    *u.choose(url)?,
                    serde_json::Value::String(format!("http://u:{pw}@127.0.0.1:8091")),
                ),
                1 => (*u.choose(secret)?, serde_json::json!([pw])),
                2 => (*u.choose(secret)?, serde_json::json!({ "value": pw })),
                _ => (*u.choose(secret)?, serde_json::Value::String(pw)),
            };
            let at = u.int_in_range(0..=items.len())?;
            items.insert(at, format!("{}:{value}", serde_json::Value::from(field)));
            format!("{{{}}}", items.join(","))
        }
        Form::Positional(sep, index) => {
            let mut parts = Vec::new();
            for _ in 0..index {
                parts.push(surrounding_without(u, &[sep])?);
            }
            parts.push(pw.replace(sep, ""));
            for _ in 0..u.int_in_range(0..=2)? {
                parts.push(surrounding(u)?);
            }
            parts.join(&sep.to_string())
        }
    })
}

/// `scheme` with each letter's case chosen by the fuzzer (schemes are case-insensitive).
fn case_mixed(u: &mut Unstructured<'_>, scheme: &str) -> Result<String> {
    scheme
        .chars()
        .map(|c| {
            Ok(if u.arbitrary::<bool>()? {
                c.to_ascii_uppercase()
            } else {
                c
            })
        })
        .collect()
}

/// A bare libpq value ends at whitespace and treats `'` and `\` specially.
fn needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
}

/// Everything but unreserved characters percent-encoded (what a careful user writes).
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_carries_the_password() {
        let forms = [
            Form::Url(&["mysql"]),
            Form::UserInfo,
            Form::QueryParam(&["postgres"], &["password"]),
            Form::KeyValue(&["password"]),
            Form::Json {
                secret: &["securityKey"],
                url: &["save_path"],
                extra: &[],
            },
            Form::Positional(',', 2),
        ];
        let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(8192).collect();
        for (i, form) in forms.iter().enumerate() {
            let mut u = Unstructured::new(&bytes[i * 97..]);
            let text = build(&mut u, std::slice::from_ref(form), &[]).unwrap();
            assert!(crate::secret::holds_mark(&text), "{form:?}: {text}");
        }
    }
}
