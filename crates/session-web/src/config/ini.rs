//! beego's ini reader: how `core/config/ini.go` (beego v2, `parseData`; the same code as
//! v1.12's `config/ini.go`) turns app.conf into sections of keys.
//!
//! Line by line (ini.go:88-210): trimmed; blank lines and lines starting with `#` or `;` are
//! skipped (there are no inline comments); `[name]` starts a section (lowercased, not trimmed
//! inside the brackets); `include "file"` merges another file; everything else must be
//! `key = value`, split at the first `=`, key trimmed and lowercased, value trimmed and, when
//! it starts with `"`, stripped of every leading and trailing `"`, then `${ENV||default}`
//! expanded. Keys before any section are in the section `default`. A later key wins.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{warn, Location, WebConfigError};
use super::{hints, keys, redact};

/// The section of the keys written before any `[section]` (ini.go:35, 86).
pub(crate) const TOP: &str = "default";

/// One `key = value` line.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The key as written (trimmed).
    pub written: String,
    /// The value as beego reads it.
    pub value: String,
    /// Its line.
    pub at: Location,
}

/// Section name to lowercase key to entry.
pub(crate) type Sections = BTreeMap<String, BTreeMap<String, Entry>>;

/// Resolves `${NAME}` references.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the file at `path` and the files it includes.
pub(crate) fn read_file(path: &Path, env: Env<'_>) -> Result<Sections, WebConfigError> {
    let bytes = std::fs::read(path).map_err(|source| WebConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = Reader {
        env,
        chain: vec![identity(path)],
    };
    reader.text(&bytes, &path.display().to_string(), parent(path))
}

/// Reads `text`, named `origin` in messages; `include`d files are found next to `origin`.
pub(crate) fn read_text(
    text: &str,
    origin: &str,
    env: Env<'_>,
) -> Result<Sections, WebConfigError> {
    let mut reader = Reader {
        env,
        chain: vec![identity(Path::new(origin))],
    };
    reader.text(text.as_bytes(), origin, parent(Path::new(origin)))
}

struct Reader<'a> {
    env: Env<'a>,
    /// The files being read, outermost first: an include of one of them is a cycle.
    chain: Vec<PathBuf>,
}

impl Reader<'_> {
    fn text(&mut self, text: &[u8], origin: &str, dir: &Path) -> Result<Sections, WebConfigError> {
        // ini.go:80-85: a UTF-8 byte order mark is skipped.
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut sections = Sections::new();
        let mut section = TOP.to_owned();
        let mut reported_encoding = false;
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let at = Location::Line {
                origin: origin.to_owned(),
                line: index + 1,
            };
            let raw = String::from_utf8_lossy(raw);
            if matches!(raw, Cow::Owned(_)) && !reported_encoding {
                reported_encoding = true;
                warn(&at, "this line is not UTF-8 (beego keeps the bytes); its invalid bytes read as U+FFFD here, and so may later lines'");
            }
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.len() >= 2 && line.starts_with('[') && line.ends_with(']') {
                section = line[1..line.len() - 1].to_lowercase(); // ini.go:139-140
                check_section(&section, &at);
                sections.entry(section.clone()).or_default(); // ini.go:145-147
                continue;
            }
            let (key_part, value_part) = match line.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v)),
                None => (line, None),
            };
            let key = key_part.to_lowercase();
            if value_part.is_none() {
                let words: Vec<&str> = key_part.split_whitespace().collect();
                // ini.go:160-163: `include` and one file name, and nothing else.
                if words.len() == 2 && words[0].eq_ignore_ascii_case("include") {
                    let included = self.include(words[1], dir, &section, &at)?;
                    merge(&mut sections, included);
                    continue;
                }
                // ini.go:196-197: "read the content error: ..., should key = val".
                return Err(WebConfigError::Syntax {
                    text: redact::shown_line(line),
                    at,
                });
            }
            let value = read_value(value_part.unwrap_or_default(), &key, &at, self.env);
            let entry = Entry {
                written: key_part.to_owned(),
                value,
                at,
            };
            hints::check_entry(&key, &entry);
            let keys = sections.entry(section.clone()).or_default();
            // A key set again in the same file is likely a leftover; an include that
            // overrides is the point of including.
            let same_file = |earlier: &Entry| match (&earlier.at, &entry.at) {
                (Location::Line { origin: a, .. }, Location::Line { origin: b, .. }) => a == b,
                _ => false,
            };
            if let Some(earlier) = keys
                .get(&key)
                .filter(|e| keys::is_framework(&key) && same_file(e))
            {
                warn(
                    &entry.at,
                    format_args!(
                        "`{}` is set again ({} set it before); beego uses the last one, as here",
                        entry.written, earlier.at
                    ),
                );
            }
            keys.insert(key, entry);
        }
        Ok(sections)
    }

    /// `include "name"` (ini.go:159-193): the other file, relative to this one's directory,
    /// merged over what was read so far. beego lowercases the whole line, so it looks for the
    /// lowercased name; where only the name as written exists, that one is read, with a
    /// warning.
    fn include(
        &mut self,
        written: &str,
        dir: &Path,
        section: &str,
        at: &Location,
    ) -> Result<Sections, WebConfigError> {
        let resolve = |name: &str| {
            let name = Path::new(name.trim_matches('"'));
            if name.is_absolute() {
                name.to_owned()
            } else {
                dir.join(name)
            }
        };
        let as_beego = resolve(&written.to_lowercase());
        let path = if as_beego.exists() {
            as_beego
        } else {
            let as_written = resolve(written);
            if as_written != as_beego && as_written.exists() {
                warn(at, format_args!("beego lowercases include lines and looks for {}, which is missing (on a case-sensitive file system beego fails to start here); {} is read instead", as_beego.display(), as_written.display()));
            }
            as_written
        };
        if section != TOP {
            warn(at, format_args!("`include` inside [{section}]: beego merges the included file's top-level keys into the top level, not into [{section}], and so does this library"));
        }
        let id = identity(&path);
        if self.chain.contains(&id) {
            let chain: Vec<String> = self.chain.iter().map(|p| p.display().to_string()).collect();
            return Err(WebConfigError::IncludeCycle {
                at: at.clone(),
                path,
                chain: chain.join(" -> "),
            });
        }
        let bytes = std::fs::read(&path).map_err(|source| WebConfigError::Include {
            at: at.clone(),
            path: path.clone(),
            source,
        })?;
        self.chain.push(id);
        let read = self.text(&bytes, &path.display().to_string(), parent(&path));
        self.chain.pop();
        read
    }
}

/// ini.go:199-204: trimmed, stripped of every leading and trailing `"` when it starts with
/// one, then `${ENV}` expanded.
fn read_value(raw: &str, key: &str, at: &Location, env: Env<'_>) -> String {
    let value = raw.trim();
    let value = if value.starts_with('"') {
        let unquoted = value.trim_matches('"');
        let balanced = value.len() >= 2 && value.ends_with('"') && !unquoted.contains('"');
        if !balanced {
            warn(at, format_args!("the quotes of `{key}` do not pair up; beego strips every leading and trailing `\"` and reads {:?}, as here", redact::shown_value(key, unquoted)));
        }
        unquoted
    } else {
        value
    };
    expand_env(value, env)
}

/// beego's `ExpandValueEnv` (core/config/config.go:275-308): a value that is exactly
/// `${NAME}` or `${NAME||default}` becomes the variable, or the default when the variable
/// is unset or empty; the name is not trimmed. Anything else is kept as written.
pub(crate) fn expand_env(value: &str, env: Env<'_>) -> String {
    let bytes = value.as_bytes();
    if bytes.len() < 3 || !value.starts_with("${") || !value.ends_with('}') {
        return value.to_owned();
    }
    let (mut name, mut default) = ("", "");
    for i in 2..bytes.len() {
        if bytes[i] == b'|' && bytes.get(i + 1) == Some(&b'|') {
            (name, default) = (&value[2..i], &value[i + 2..bytes.len() - 1]);
            break;
        }
        if bytes[i] == b'}' {
            name = &value[2..i];
            break;
        }
    }
    env(name)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Warnings for section names beego reads in a way their author may not expect.
fn check_section(name: &str, at: &Location) {
    if name.is_empty() {
        warn(at, "`[]` starts a section named \"\" (ini.go:140): beego reads none of the keys under it (they are not top-level keys and no run mode selects them), and neither does this library");
    } else if name.trim() != name {
        warn(at, format_args!("section [{name}] keeps its spaces in beego (ini.go:140), so run mode `{}` never selects it, and neither does this library", name.trim()));
    }
    if keys::is_v2_config_field(name) {
        warn(at, format_args!("beego v2 decodes a section named [{name}] into its BConfig (server/web/config.go:620, ini.go:513) and fails to start unless every key in it names a text setting there; beego 1.12 ignores it, and so does this library"));
    }
}

/// ini.go:175-182: the included file's keys, section by section, over the ones read so far.
fn merge(into: &mut Sections, from: Sections) {
    for (section, keys) in from {
        into.entry(section).or_default().extend(keys);
    }
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// A file's identity for cycle detection: its canonical path when it exists.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("9".into()),
            "EMPTY" => Some(String::new()),
            " PORT " => Some("spaced".into()),
            _ => None,
        }
    }

    #[test]
    fn env_values_expand_as_expand_value_env_does() {
        for (value, expected) in [
            ("${PORT}", "9"),
            ("${PORT||8080}", "9"),
            ("${NOPE||8080}", "8080"),
            ("${EMPTY||dflt}", "dflt"),
            ("${NOPE}", ""),
            ("${ PORT }", "spaced"),
            ("${NOPE||a}b}", "a}b"),
            ("x${PORT}", "x${PORT}"),
            ("${PORT", "${PORT"),
            ("${}", ""),
        ] {
            assert_eq!(expand_env(value, &env), expected, "{value}");
        }
    }

    #[test]
    fn lines_read_as_parse_data_reads_them() {
        let text =
            "\u{feff}# c\n; c\nA = 1\n[Dev]\nb=\"q\"\nc = x = y\n[]\nd = 2\n[ prod ]\ne = 3\n";
        let s = read_text(text, "t.conf", &env).unwrap();
        assert_eq!(s["default"]["a"].value, "1");
        assert_eq!(s["dev"]["b"].value, "q");
        assert_eq!(s["dev"]["c"].value, "x = y");
        assert_eq!(s[""]["d"].value, "2");
        assert_eq!(s[" prod "]["e"].value, "3");
        assert_eq!(
            s["dev"]["b"].at,
            Location::Line {
                origin: "t.conf".into(),
                line: 5
            }
        );
    }
}
