//! beego's `app.conf` reader: `AppConf::from_text_with_env`, then
//! `WebSessionConfig::from_appconf` and `manager_config`.
//!
//! Asserts, besides returning: the session settings of a file that reads give a manager
//! configuration that validates (or a clear error); beego's accessors return; and with a
//! secret among the lines (a key named like a secret, a URL with a password, a hash key in
//! `sessionConfig`, written plainly, quoted, with unbalanced quotes, as an `${ENV||default}`
//! default or on a line beego rejects) no error, warning or `Debug` output shows it.
//!
//! `include` lines naming a path with `/` are skipped: the target must not read the
//! machine's files (`/dev/zero` never ends). Other includes resolve in an empty directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use session_web::config::{AppConf, WebSessionConfig};

use crate::logs;
use crate::secret::{assert_hidden, password, surrounding};

/// Keys whose values are secret by their name, and keys whose values are URLs.
const SECRET_KEYS: &[&str] = &[
    "sessionhashkey",
    "SessionHashKey",
    "mysqlpassword",
    "db_pw",
    "qiniu_sk",
    "apitoken",
    "sessionproviderconfig",
    "sessionsavepath",
];
const URL_KEYS: &[&str] = &["dburl", "redis_addr", "sessionproviderconfig", "upstream"];

/// `origin` for the text: a file in an empty directory, so includes find nothing.
fn origin() -> &'static str {
    static ORIGIN: OnceLock<String> = OnceLock::new();
    ORIGIN.get_or_init(|| {
        let dir: PathBuf = std::env::temp_dir().join(format!("beego-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir.join("app.conf").display().to_string()
    })
}

fn env(name: &str) -> Option<String> {
    match name {
        "PORT" => Some("8080".into()),
        "BEEGO_RUNMODE" => Some("dev".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// True when a line would make the reader open a path outside the empty directory.
fn reads_machine_files(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim().to_ascii_lowercase();
        line.starts_with("include") && (line.contains('/') || line.contains(".."))
    })
}

/// Reads `text` all the way to a manager configuration; returns everything shown.
fn read(text: &str) -> String {
    let mut shown = String::new();
    let app = match AppConf::from_text_with_env(text, origin(), env) {
        Ok(app) => app,
        Err(e) => return format!("{e} {e:?}"),
    };
    shown.push_str(&format!("{app:?}"));
    for key in [
        "sessionname",
        "dev::sessionon",
        "httpport",
        "sessionhashkey",
    ] {
        let _ = (
            app.string(key),
            app.strings(key),
            app.int(key),
            app.bool(key),
        );
        let _ = app.float(key).map_err(|e| shown.push_str(&e.to_string()));
    }
    let sessions = match WebSessionConfig::from_appconf(&app) {
        Ok(sessions) => sessions,
        Err(e) => return format!("{shown} {e} {e:?}"),
    };
    shown.push_str(&format!("{sessions:?}"));
    match sessions.manager_config() {
        Ok(config) => {
            config
                .validate()
                .unwrap_or_else(|e| panic!("a built manager configuration does not validate: {e}"));
            shown.push_str(&format!("{config:?}"));
        }
        Err(e) => shown.push_str(&format!("{e} {e:?}")),
    }
    shown
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    logs::install();
    let text = String::from_utf8_lossy(data);
    if !reads_machine_files(&text) {
        read(&text);
    }
    logs::take();
    let _ = with_secret(&mut Unstructured::new(data));
}

fn with_secret(u: &mut Unstructured<'_>) -> Result<()> {
    // One line cannot hold a newline: the password stays on its line.
    let pw = password(u)?.replace('\n', "");
    let line = match u.int_in_range(0..=7)? {
        0 => format!("{} = {pw}", u.choose(SECRET_KEYS)?),
        1 => format!("{} = \"{pw}\"", u.choose(SECRET_KEYS)?),
        2 => format!("{} = \"{pw}", u.choose(SECRET_KEYS)?),
        3 => format!("{} = ${{NOT_SET||{pw}}}", u.choose(SECRET_KEYS)?),
        4 => format!("{} {}", u.choose(SECRET_KEYS)?, pw.replace('=', "")),
        5 => format!("{} = mysql://u:{pw}@127.0.0.1/db", u.choose(URL_KEYS)?),
        6 => format!(
            "sessionconfig = {{\"sessionIDHashKey\":{}}}",
            serde_json::Value::String(pw)
        ),
        _ => format!("sessionconfig = {{\"providerConfig\":[{pw:?}]}}"),
    };
    let mut lines = vec![line];
    for _ in 0..u.int_in_range(0..=4)? {
        let at = u.int_in_range(0..=lines.len())?;
        let extra = match u.int_in_range(0..=3)? {
            0 => "sessionon = true".to_owned(),
            1 => "[dev]".to_owned(),
            2 => format!("{} = {}", surrounding(u)?, surrounding(u)?),
            _ => surrounding(u)?,
        };
        lines.insert(at, extra);
    }
    let text = lines.join("\n");
    if reads_machine_files(&text) {
        return Ok(());
    }
    let shown = read(&text);
    assert_hidden("an error or Debug output", &shown, &text);
    assert_hidden("a warning", &logs::take(), &text);
    Ok(())
}
