//! beego's app.conf format: `key = value` lines, case-insensitive keys, `#` and `;` comments,
//! `[section]`s selected by `runmode`, values of the form `${ENV||default}`.

use super::error::{Location, WebConfigError};

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Lowercased key.
    pub key: String,
    /// The key as written.
    pub written: String,
    /// The value, trimmed, unquoted and with `${ENV}` expanded.
    pub value: String,
    /// Lowercased section name; empty for the top level.
    pub section: String,
    pub at: Location,
}

/// Parses `text`; `origin` names it in errors. `env` resolves `${NAME}` references.
pub(crate) fn parse(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, WebConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut section = String::new();
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let at = Location::Line {
            origin: origin.to_owned(),
            line: index + 1,
        };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let syntax = || WebConfigError::Syntax {
            at: at.clone(),
            text: raw.to_owned(),
        };
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(syntax)?.trim();
            if name.is_empty() {
                return Err(syntax());
            }
            section = name.to_ascii_lowercase();
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(syntax)?;
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(syntax());
        }
        entries.push(Entry {
            key: key.to_ascii_lowercase(),
            written: key.to_owned(),
            value: expand_env(unquote(value.trim()), env),
            section: section.clone(),
            at,
        });
    }
    Ok(entries)
}

/// The entries in force for `runmode`: top-level ones, overridden by those of the section
/// named like the run mode (beego reads `dev::key` before `key`).
pub(crate) fn effective<'a>(entries: &'a [Entry], runmode: &str) -> Vec<&'a Entry> {
    let mut chosen: Vec<&Entry> = Vec::new();
    for entry in entries
        .iter()
        .filter(|e| e.section.is_empty())
        .chain(entries.iter().filter(|e| e.section == runmode))
    {
        chosen.retain(|e| e.key != entry.key);
        chosen.push(entry);
    }
    chosen
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// beego's `${NAME}` and `${NAME||default}` values; anything else is kept as written.
fn expand_env(value: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
        return value.to_owned();
    };
    let (name, default) = inner.split_once("||").unwrap_or((inner, ""));
    env(name.trim())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_keys_sections_comments_and_env() {
        let text = "\u{feff}# comment\n; also\nSessionOn = true\n[prod]\nsessionon=false\n\
                    name = \"quoted\"\nport = ${HTTP_PORT||8080}\n";
        let entries = parse(text, "app.conf", &|n| {
            (n == "HTTP_PORT").then(|| "9".into())
        })
        .unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            (entries[0].key.as_str(), entries[0].value.as_str()),
            ("sessionon", "true")
        );
        assert_eq!(
            entries[0].at,
            Location::Line {
                origin: "app.conf".into(),
                line: 3
            }
        );
        assert_eq!(entries[2].value, "quoted");
        assert_eq!(entries[3].value, "9");
        let dev: Vec<_> = effective(&entries, "dev")
            .iter()
            .map(|e| e.value.clone())
            .collect();
        assert_eq!(dev, ["true"]);
        let prod: Vec<_> = effective(&entries, "prod")
            .iter()
            .map(|e| e.value.clone())
            .collect();
        assert_eq!(prod, ["false", "quoted", "9"]);
        assert_eq!(expand_env("${NOPE||dflt}", &no_env), "dflt");
    }

    #[test]
    fn bad_lines_name_their_line() {
        for text in [
            "a = 1\njust words\n",
            "a = 1\n[open\n",
            "a = 1\n[]\n",
            "a = 1\n = 2\n",
        ] {
            let err = parse(text, "x.conf", &no_env).unwrap_err().to_string();
            assert!(err.contains("x.conf line 2"), "{text:?}: {err}");
        }
    }
}
