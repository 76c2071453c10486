//! Warnings about key names: keys beego never reads, old beego names, and keys that look like
//! a misspelt session key.
//!
//! Every key that is not beego's own belongs to the app (beego keeps it for
//! `AppConfig.String(...)`), so none of this is an error. Hints only ever point at a session
//! key, and only from a name within one or two edits of it: `domain` is an app's own key, not
//! a misspelt `Domains`.

use super::error::warn;
use super::ini::Entry;
use super::keys::{self, Kind};
use super::values::go_bool;

/// Warnings for the key of one `key = value` line.
pub(crate) fn check_entry(key: &str, entry: &Entry) {
    let at = &entry.at;
    let written = &entry.written;
    if key.is_empty() {
        warn(at, "a line with nothing before `=`: beego stores the value under an empty key, which nothing reads");
        return;
    }
    if let Some((section, name)) = key.split_once("::") {
        warn(at, format_args!("beego looks up `{section}::{name}` as key `{name}` of section [{section}], so a key written `{written}` is never read; put `{name}` under [{section}] instead"));
        return;
    }
    if let Some(old) = keys::old_key(key) {
        if old.session_use.is_none() {
            let renamed = match old.now {
                Some(now) => format!("beego ≤ 1.5's name for `{now}`"),
                None => "a beego ≤ 1.0 setting".to_owned(),
            };
            warn(at, format_args!("`{written}` is {renamed}; beego 1.6 and later ignore it, and so does this library"));
        }
        return;
    }
    if keys::is_framework(key) {
        return;
    }
    if let Some(session_key) = suggest(key, &entry.value) {
        warn(at, format_args!("`{written}` is not a key beego reads, so beego keeps it as one of the app's own keys and the session ignores it; did you mean `{session_key}`?"));
    } else if normalize(key).starts_with("session") {
        let known: Vec<&str> = keys::SESSION.iter().map(|(k, _)| *k).collect();
        warn(at, format_args!("`{written}` starts like a session key but is none of beego's ({}), so beego keeps it as one of the app's own keys and the session ignores it", known.join(", ")));
    }
}

/// The session key `key` (lowercase) most likely meant, as beego spells it: the same letters
/// without separators (`session_provider`), one edit away (`SesstionName`), or two edits away
/// when `value` is of the key's type (`session = true` for `SessionOn`).
pub(crate) fn suggest(key: &str, value: &str) -> Option<&'static str> {
    let key = normalize(key);
    let mut best: Option<(usize, &'static str, Kind)> = None;
    let mut tied = false;
    for &(name, kind) in keys::SESSION {
        let distance = edit_distance(&key, &name.to_ascii_lowercase());
        match best {
            Some((d, ..)) if distance > d => {}
            Some((d, ..)) if distance == d => tied = true,
            _ => {
                best = Some((distance, name, kind));
                tied = false;
            }
        }
    }
    let (distance, name, kind) = best?;
    let fits = match kind {
        Kind::Bool => go_bool(value).is_some() || go_bool(&value.to_ascii_lowercase()).is_some(),
        Kind::Int => value.parse::<i64>().is_ok(),
        Kind::Text => false,
    };
    (!tied && (distance <= 1 || (distance == 2 && fits))).then_some(name)
}

/// Lowercase, without the separators people put between words.
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edits (insert, delete, substitute, swap two neighbours) between `a` and `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// The "did you mean" part of an environment variable's error, or empty.
pub(crate) fn env_hint(key: &str, value: &str) -> String {
    suggest(key, value)
        .map(|k| format!(" (did you mean `{}`?)", k.to_ascii_lowercase()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_session_keys_get_the_real_one() {
        assert_eq!(suggest("sesstionname", "sid"), Some("SessionName"));
        assert_eq!(suggest("session_provider", "file"), Some("SessionProvider"));
        assert_eq!(suggest("session on", "true"), Some("SessionOn"));
        assert_eq!(suggest("session", "true"), Some("SessionOn"));
        assert_eq!(suggest("sessionprovder", "file"), Some("SessionProvider"));
        assert_eq!(suggest("sessoinname", "sid"), Some("SessionName"));
    }

    #[test]
    fn no_hint_points_at_a_key_of_another_meaning() {
        for (key, value) in [
            ("domain", "example.com"),
            ("domains", "a.com"),
            ("session", "abc"),
            ("sessionid", "abc"),
            ("name", "x"),
            ("mysqluser", "root"),
        ] {
            assert_eq!(suggest(key, value), None, "{key}");
        }
    }

    #[test]
    fn edits_are_counted_like_typos() {
        assert_eq!(edit_distance("sessionon", "sessionon"), 0);
        assert_eq!(edit_distance("sessoinon", "sessionon"), 1);
        assert_eq!(edit_distance("session", "sessionon"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
