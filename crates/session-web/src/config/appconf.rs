//! [`AppConf`]: an app.conf as beego's `AppConfig` reads it, the app's own keys included.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::error::{warn, AppConfValueError, Location, WebConfigError};
use super::ini::{self, Entry, Sections, TOP};
use super::redact::shown_value;

/// The run mode beego uses when neither the file nor `BEEGO_RUNMODE` names one (beego ≥ 1.10:
/// server/web/config.go:526; it was `dev` before).
pub const DEFAULT_RUNMODE: &str = "prod";

/// A beego app's `conf/app.conf`, read as beego reads it: every key, the app's own keys
/// included, with beego's `AppConfig` accessors.
///
/// Keys are case-insensitive. A plain key is looked up in the section named by the run mode
/// first (`[dev]`), then at the top level, as beego's `AppConfig` does; `section::key`
/// names a key of one section. Files named by `include "other.conf"` are merged in.
///
/// ```
/// use session_web::config::AppConf;
///
/// let app = AppConf::from_text_with_env(
///     "appname = shop\nrunmode = dev\nmysqluser = root\nhttpport = 8080\n[dev]\nmysqluser = devuser\n",
///     "conf/app.conf",
///     |_| None,
/// )?;
/// assert_eq!(app.runmode(), "dev");
/// assert_eq!(app.string("MySQLUser"), "devuser");
/// assert_eq!(app.string("default::mysqluser"), "root");
/// assert_eq!(app.int("httpport")?, 8080);
/// assert!(app.bool("enablegzip").is_err());
/// assert!(!app.default_bool("enablegzip", false));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AppConf {
    sections: Sections,
    origin: String,
    framework_runmode: String,
    runmode: String,
}

impl AppConf {
    /// Reads the file at `path`, with `${ENV}` values and `BEEGO_RUNMODE` from the process
    /// environment. Warnings (what beego reads differently than its author may expect) are
    /// logged through `tracing`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, WebConfigError> {
        Self::from_file_with_env(path, |name| std::env::var(name).ok())
    }

    /// [`from_file`](Self::from_file) with the environment given by `env`.
    pub fn from_file_with_env(
        path: impl AsRef<Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WebConfigError> {
        let path = path.as_ref();
        let sections = ini::read_file(path, &env)?;
        Ok(Self::new(sections, path.display().to_string(), &env))
    }

    /// Reads app.conf text named `origin` in messages (included files are looked for next
    /// to `origin`), with the process environment.
    pub fn from_text(text: &str, origin: &str) -> Result<Self, WebConfigError> {
        Self::from_text_with_env(text, origin, |name| std::env::var(name).ok())
    }

    /// [`from_text`](Self::from_text) with the environment given by `env`.
    pub fn from_text_with_env(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WebConfigError> {
        let sections = ini::read_text(text, origin, &env)?;
        Ok(Self::new(sections, origin.to_owned(), &env))
    }

    /// The run modes, in beego's order (server/web/config.go:641-650): beego reads its own
    /// keys, the session keys among them, while `BConfig.RunMode` is still the one the
    /// file gives (`[prod]`'s `runmode`, else the top-level one, else `prod`), and only
    /// then takes `BEEGO_RUNMODE` (or the file's run mode read again) for the app's own
    /// look-ups.
    fn new(sections: Sections, origin: String, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut conf = AppConf {
            sections,
            origin,
            framework_runmode: DEFAULT_RUNMODE.to_owned(),
            runmode: DEFAULT_RUNMODE.to_owned(),
        };
        conf.framework_runmode = conf.default_string("RunMode", DEFAULT_RUNMODE);
        conf.runmode = conf.framework_runmode.clone();
        match env("BEEGO_RUNMODE").filter(|m| !m.is_empty()) {
            Some(from_env) => {
                if !from_env.eq_ignore_ascii_case(&conf.framework_runmode) {
                    let at = Location::Env {
                        var: "BEEGO_RUNMODE".to_owned(),
                    };
                    warn(&at, format_args!("beego reads its own keys, the session keys among them, with the file's run mode `{}` (server/web/config.go:641-650) and uses `{from_env}` only for the app's own AppConfig look-ups; so does this library (beego would also read conf/{from_env}.app.conf instead of this file)", conf.framework_runmode));
                }
                conf.runmode = from_env;
            }
            None => conf.runmode = conf.default_string("RunMode", &conf.framework_runmode),
        }
        conf
    }

    /// The file's path, or the name its text was given.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The run mode of the app's own look-ups: `BEEGO_RUNMODE`, else the file's `runmode`,
    /// else `prod`.
    pub fn runmode(&self) -> &str {
        &self.runmode
    }

    /// The run mode beego reads its own keys with (the session keys among them): the
    /// file's `runmode`, else `prod`; `BEEGO_RUNMODE` does not change it.
    pub fn framework_runmode(&self) -> &str {
        &self.framework_runmode
    }

    /// The raw value of `key` (`section::key`, or a top-level key), without the run-mode
    /// look-up; `None` when absent (beego's inner `String` returns "" then).
    pub fn get(&self, key: &str) -> Option<&str> {
        let (section, key) = split_key(key);
        self.entry(&section, &key).map(|e| e.value.as_str())
    }

    /// beego's `AppConfig.String`: the run mode's section's value when it is not empty,
    /// else the top-level value, else "".
    pub fn string(&self, key: &str) -> String {
        self.get(&self.in_runmode(key))
            .filter(|v| !v.is_empty())
            .or_else(|| self.get(key))
            .unwrap_or_default()
            .to_owned()
    }

    /// beego's `AppConfig.DefaultString`: [`string`](Self::string), or `default` when that
    /// is empty.
    pub fn default_string(&self, key: &str, default: &str) -> String {
        Some(self.string(key))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    /// beego's `AppConfig.Strings`: the value split at `;`, empty when the value is.
    pub fn strings(&self, key: &str) -> Vec<String> {
        let value = self.string(key);
        if value.is_empty() {
            return Vec::new();
        }
        value.split(';').map(str::to_owned).collect()
    }

    /// beego's `AppConfig.DefaultStrings`.
    pub fn default_strings(&self, key: &str, default: &[&str]) -> Vec<String> {
        let values = self.strings(key);
        if values.is_empty() {
            default.iter().map(|s| (*s).to_owned()).collect()
        } else {
            values
        }
    }

    /// beego's `AppConfig.Int`/`Int64`: the run mode's section's value when it is a
    /// number, else the top-level value (Go's `strconv.Atoi`: decimal digits, optional sign).
    pub fn int(&self, key: &str) -> Result<i64, AppConfValueError> {
        self.typed(key, "an integer", |v| v.parse().ok())
    }

    /// beego's `AppConfig.DefaultInt`.
    pub fn default_int(&self, key: &str, default: i64) -> i64 {
        self.int(key).unwrap_or(default)
    }

    /// beego's `AppConfig.Bool`: exactly beego's spellings (`true`, `TRUE`, `True`, `1`,
    /// `t`, `yes`, `on`, … and their false forms), so `tRue` is an error.
    pub fn bool(&self, key: &str) -> Result<bool, AppConfValueError> {
        self.typed(key, "a boolean", super::values::go_bool)
    }

    /// beego's `AppConfig.DefaultBool`.
    pub fn default_bool(&self, key: &str, default: bool) -> bool {
        self.bool(key).unwrap_or(default)
    }

    /// beego's `AppConfig.Float`.
    pub fn float(&self, key: &str) -> Result<f64, AppConfValueError> {
        self.typed(key, "a number", |v| v.parse().ok())
    }

    /// beego's `AppConfig.DefaultFloat`.
    pub fn default_float(&self, key: &str, default: f64) -> f64 {
        self.float(key).unwrap_or(default)
    }

    /// beego's `AppConfig.GetSection`: every key of `[name]` (`default` for the top level)
    /// and its value; `None` when the file has no such section.
    pub fn section(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let keys = self.sections.get(&name.to_lowercase())?;
        Some(
            keys.iter()
                .map(|(k, e)| (k.clone(), e.value.clone()))
                .collect(),
        )
    }

    /// The sections of the file (`default` for the top level), sorted.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// The line `key` (lowercase) of `section` (lowercase) came from.
    pub(crate) fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        self.sections.get(section)?.get(key)
    }

    fn in_runmode(&self, key: &str) -> String {
        format!("{}::{key}", self.runmode)
    }

    /// beego's typed look-up: the run mode's section's value when it reads as `T`, else the
    /// top-level value's reading, else an error about the top-level value.
    fn typed<T>(
        &self,
        key: &str,
        expected: &'static str,
        read: impl Fn(&str) -> Option<T>,
    ) -> Result<T, AppConfValueError> {
        if let Some(v) = self.get(&self.in_runmode(key)).and_then(&read) {
            return Ok(v);
        }
        let value = self.get(key).unwrap_or_default();
        read(value).ok_or_else(|| AppConfValueError {
            key: key.to_owned(),
            value: shown_value(key, value),
            expected,
        })
    }
}

/// beego's `getdata` (ini.go:483-507): `section::key` (anything after a second `::` is
/// dropped), or a key of the top level; both lowercased.
fn split_key(key: &str) -> (String, String) {
    let lower = key.to_lowercase();
    let mut parts = lower.split("::");
    let first = parts.next().unwrap_or_default().to_owned();
    match parts.next() {
        Some(second) => (first, second.to_owned()),
        None => (TOP.to_owned(), first),
    }
}

impl fmt::Debug for AppConf {
    /// Values of keys named like secrets are masked, as are passwords in URLs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sections: BTreeMap<&str, BTreeMap<&str, String>> = self
            .sections
            .iter()
            .map(|(name, keys)| {
                let keys = keys
                    .iter()
                    .map(|(k, e)| (k.as_str(), shown_value(k, &e.value)))
                    .collect();
                (name.as_str(), keys)
            })
            .collect();
        f.debug_struct("AppConf")
            .field("origin", &self.origin)
            .field("runmode", &self.runmode)
            .field("framework_runmode", &self.framework_runmode)
            .field("sections", &sections)
            .finish()
    }
}
