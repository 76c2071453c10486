//! What of an app.conf line or value may be quoted in an error, a warning or `Debug` output.
//!
//! app.conf files hold database passwords, API keys and `sessionhashkey`; a message that
//! quotes them would put them in logs. Passwords inside URLs and DSNs are masked by
//! [`session_core::dsn::mask_secrets`]; this module adds what only a configuration file has:
//! keys named like secrets, and lone key-like words.

use session_core::dsn::{mask_secrets, MASK};

/// Parts of a key name that mark its value as secret (matched case-insensitively anywhere
/// in the name, so `mysqlpassword`, `qiniu_secret` and `sessionhashkey` all match). This
/// errs on the side of hiding: `httpskeyfile` is a path, but it is hidden too.
const SECRET_WORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "salt",
    "private",
    "dsn",
    // Engine configuration strings and beego's manager JSON can hold a password in forms
    // `mask_secrets` does not know (redis's `addr,pool,password`, JSON fields).
    "providerconfig",
    "savepath",
    "sessionconfig",
];

/// Whole parts of a key name (split at `_`, `-`, `.` and spaces) that mark a secret:
/// `qiniu_sk`, `db_pw`.
const SECRET_PARTS: &[&str] = &["sk", "pw"];

/// Shortest lone word (letters and digits mixed) hidden as a possible key or token.
const KEY_LIKE_LEN: usize = 20;

/// True when the value of `key` must never be quoted.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
        || lower
            .split(['_', '-', '.', ' '])
            .any(|part| SECRET_PARTS.contains(&part))
}

/// `value` of `key` as it may appear in a message: [`MASK`] for a secret key, otherwise with
/// URL/DSN passwords and key-like words masked.
pub(crate) fn shown_value(key: &str, value: &str) -> String {
    if is_secret_key(key) && !value.is_empty() {
        return MASK.to_owned();
    }
    mask_key_like_words(&mask_secrets(value))
}

/// A line that could not be parsed, as it may appear in an error: passwords in URLs and
/// DSNs masked, everything after a secret-looking word masked, and key-like words masked.
pub(crate) fn shown_line(line: &str) -> String {
    let masked = mask_secrets(line);
    let lower = masked.to_ascii_lowercase();
    let first_secret = SECRET_WORDS
        .iter()
        .filter_map(|w| lower.find(w))
        .chain(first_secret_part(&lower))
        .min()
        .map(|start| word_end(&masked, start));
    match first_secret {
        Some(end) if end < masked.len() => format!("{} {MASK}", masked[..end].trim_end()),
        _ => mask_key_like_words(&masked),
    }
}

/// The start of the first run of letters and digits that is one of [`SECRET_PARTS`]
/// (`qiniu_sk`, `db-pw:`), as in [`is_secret_key`].
fn first_secret_part(lower: &str) -> Option<usize> {
    let mut run_start = None;
    // A sentinel separator at the end closes the last run.
    for (i, c) in lower.char_indices().chain([(lower.len(), ' ')]) {
        match (c.is_alphanumeric(), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if SECRET_PARTS.contains(&&lower[start..i]) {
                    return Some(start);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    None
}

/// The end of the word (letters, digits, `_`, `-`, `.`) that contains byte `start`.
fn word_end(text: &str, start: usize) -> usize {
    text[start..]
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(text.len(), |i| start + i)
}

/// Words that look like generated keys or tokens (long, letters and digits mixed) replaced
/// by [`MASK`]; whitespace is kept.
fn mask_key_like_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_len);
        out.push_str(if looks_like_key(word) { MASK } else { word });
        let space_len = after
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(after.len());
        out.push_str(&after[..space_len]);
        rest = &after[space_len..];
    }
    out
}

/// Long, of the characters of hex, base64 and token alphabets only, letters and digits
/// mixed. URLs and dotted names are left alone (their passwords are masked by
/// `mask_secrets`).
fn looks_like_key(word: &str) -> bool {
    word.chars().count() >= KEY_LIKE_LEN
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-'))
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_recognised_by_name() {
        for key in [
            "mysqlpassword",
            "DB_PASS",
            "sessionhashkey",
            "qiniu_sk",
            "jwt_secret",
            "sessionproviderconfig",
            "SessionSavePath",
            "sessionConfig",
            "api-token",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["appname", "httpport", "sessionname", "mysqluser", "skin"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn values_and_lines_lose_their_secrets() {
        assert_eq!(shown_value("mysqlpassword", "hunter2"), MASK);
        assert_eq!(shown_value("sessionname", ""), "");
        assert_eq!(
            shown_value("db_url", "mysql://root:hunter2@127.0.0.1/app"),
            "mysql://root:***@127.0.0.1/app"
        );
        assert_eq!(
            shown_value("note", "a 0123456789abcdefghijKLM b"),
            "a *** b"
        );
        assert_eq!(shown_line("mysqlpassword: hunter2"), "mysqlpassword ***");
        assert_eq!(shown_line("redis password hunter2"), "redis password ***");
        assert_eq!(
            shown_line("root:hunter2@tcp(127.0.0.1:3306)/app"),
            "root:***@tcp(127.0.0.1:3306)/app"
        );
        assert_eq!(shown_line("c2VjcmV0a2V5MTIzNDU2Nzg5MA"), MASK);
        assert_eq!(shown_line("sessionon true"), "sessionon true");
        // Found by fuzzing (fuzz/: app_conf): a line beego rejects whose key is secret by
        // a whole part (`sk`, `pw`) showed its value.
        assert_eq!(shown_line("qiniu_sk hunter2 more"), "qiniu_sk ***");
        assert_eq!(shown_line("db-pw: hunter2"), "db-pw ***");
        assert_eq!(shown_line("task skim"), "task skim");
        assert_eq!(shown_line("€€ sk x"), "€€ sk ***");
        assert_eq!(shown_line("[dev"), "[dev");
    }
}
