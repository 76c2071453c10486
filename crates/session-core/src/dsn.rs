//! Reading engine configuration strings: masking secrets for error messages and logs, and
//! the parameters every pooled engine shares (table, pool size, timeouts).

use std::ops::Range;
use std::time::Duration;

/// What replaces a secret in messages.
pub const MASK: &str = "***";

/// Longest timeout accepted in a configuration string: anything longer is a typo.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A secret-bearing string as `Debug` shows it: its length, never its text.
///
/// Configuration strings (`providerConfig`, hash keys) may carry passwords and keys in
/// forms only their engine can parse (a URL, a DSN, JSON, beego's comma form), so `Debug`
/// output of the types holding them shows none of it.
///
/// ```
/// use session_core::dsn::Redacted;
/// let shown = format!("{:?}", Redacted("redis://:hunter2@127.0.0.1"));
/// assert!(!shown.contains("hunter2"));
/// assert_eq!(format!("{:?}", Redacted("")), "\"\"");
/// ```
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl std::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            write!(f, "<redacted, {} bytes>", self.0.len())
        }
    }
}

/// `text` with its passwords replaced by [`MASK`], for error messages and logs.
///
/// Masks the password of a URL or Go-driver DSN (`user:secret@host`, `user:secret@tcp(…)`)
/// and the value of `password=…` / `pass=…` / `pwd=…` parameters, quoted or not (with
/// `\` escapes and spaces around `=`, as libpq reads them), in `key=value` DSNs and URL
/// queries. It errs on the side of masking too much.
///
/// ```
/// use session_core::dsn::mask_secrets;
/// assert_eq!(mask_secrets("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
/// assert_eq!(mask_secrets("host=h password='a b' user=u"), "host=h password=*** user=u");
/// ```
pub fn mask_secrets(text: &str) -> String {
    // Both kinds of span are found in the original text and masked together: masking one
    // first could cut through the other (a libpq `password = 'a@b'` after a `host:port`
    // looks like userinfo up to its `@`, and would leave the rest of the password behind).
    let spans = secret_spans(text);
    let mut out = String::with_capacity(text.len());
    let mut shown_to = 0;
    for span in spans {
        if span.start >= shown_to {
            out.push_str(&text[shown_to..span.start]);
            out.push_str(MASK);
        }
        shown_to = shown_to.max(span.end);
    }
    out.push_str(&text[shown_to..]);
    out
}

/// `message` (an error about `input`) with `input`'s secrets masked, including pieces of
/// them: a parser that split the input in a place it should not (a `,` or `;` inside a
/// password) may quote half a password, which no longer looks like one.
///
/// Every secret [`mask_secrets`] finds in `input`, and each of its pieces between the
/// characters parsers split at (`, ; ? & / # @ : =`, quotes, brackets, spaces) of three
/// characters or more, is replaced in `message` by [`MASK`] (the rest of `message`, such as
/// a hint `user:password@`, stays as written). Engines apply it to every error about their configuration
/// string ([`ConfigError::masking_secrets_of`](crate::ConfigError::masking_secrets_of)).
///
/// ```
/// use session_core::dsn::mask_secrets_of;
/// let input = "redis://:hunter2,more@h,100";
/// // A parser that split at the first `,` quotes `redis://:hunter2`:
/// let message = "URL `redis://:hunter2`: empty host";
/// assert_eq!(mask_secrets_of(message, input), "URL `redis://:***`: empty host");
/// ```
pub fn mask_secrets_of(message: &str, input: &str) -> String {
    const CUTS: &[char] = &[
        ',', ';', '?', '&', '/', '#', '@', ':', '=', '\'', '"', '`', '(', ')', '[', ']', '{', '}',
        '\\', '%', '+',
    ];
    let mut pieces: Vec<&str> = Vec::new();
    for span in secret_spans(input) {
        let secret = &input[span];
        pieces.push(secret);
        pieces.extend(secret.split(|c: char| c.is_whitespace() || CUTS.contains(&c)));
        // Runs of ASCII letters and digits too: a message may quote the password
        // percent-encoded (`%F0%9F%94%91key`) or lowercased.
        pieces.extend(secret.split(|c: char| !c.is_ascii_alphanumeric()));
    }
    pieces.retain(|piece| piece.chars().count() >= 3);
    // Longest first, so that a piece never masks part of a longer one.
    pieces.sort_by_key(|piece| std::cmp::Reverse(piece.len()));
    pieces.dedup();
    let mut out = message.to_owned();
    for piece in pieces {
        out = replace_ignoring_ascii_case(&out, piece, MASK);
    }
    out
}

/// `text` with every occurrence of `piece`, compared ignoring ASCII case, replaced.
fn replace_ignoring_ascii_case(text: &str, piece: &str, with: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so matches in the lowered text are
    // char boundaries of `text`.
    let (lower, piece) = (text.to_ascii_lowercase(), piece.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    for (at, _) in lower.match_indices(&piece) {
        out.push_str(&text[shown..at]);
        out.push_str(with);
        shown = at + piece.len();
    }
    out.push_str(&text[shown..]);
    out
}

/// Where `text` holds secrets: URL/DSN passwords and `password=` values, in order.
fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = userinfo_passwords(text);
    spans.extend(param_values(text));
    spans.sort_by_key(|span| span.start);
    spans
}

/// The passwords of the URLs and Go DSNs in `text`: for each `@`, from the first `:` after
/// the closest `://` before it (each URL of a list has its own) to that `@`, and from the
/// first `:` after the first `://` (a password may itself hold `://`). Of several `@`s in
/// one userinfo (`u:p@ss@h`) the spans overlap and are masked as one, up to the last.
fn userinfo_passwords(text: &str) -> Vec<Range<usize>> {
    let first_scheme_end = text.find("://").map_or(0, |i| i + 3);
    let mut spans = Vec::new();
    for (at, _) in text.match_indices('@') {
        let closest = text[..at].rfind("://").map_or(0, |i| i + 3);
        let first = if first_scheme_end <= at {
            first_scheme_end
        } else {
            0
        };
        for start in [closest, first] {
            if let Some(colon) = text[start..at].find(':') {
                spans.push(start + colon + 1..at);
            }
        }
    }
    spans
}

/// The values of `password=` parameters (and aliases), in order. The search goes on from
/// each value's start, not its end: where a value's end is misjudged (`,password=x
/// password = 'a,b'` read as comma-separated), a parameter inside it is still found.
fn param_values(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some((value_start, separator)) = find_secret_value(&text[from..]) {
        let start = from + value_start;
        let end = start + secret_value_len(&text[start..], separator);
        spans.push(start..end);
        from = start;
    }
    spans
}

/// The length of the parameter value at the start of `value`: bare text up to what
/// [`ends_bare_value`] says (libpq's pairs: whitespace, so `&` and `;` may be in a
/// password), where quoted runs (`'…'`, `"…"`) may hold anything and `\` escapes the next
/// character. A quote is read as one wherever it stands: that masks more than libpq's
/// grammar would, never less.
fn secret_value_len(value: &str, separator: Option<char>) -> usize {
    let mut chars = value.char_indices();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                chars.next();
            }
            (c, Some(q)) if c == q => quote = None,
            (_, Some(_)) => {}
            ('\'' | '"', None) => quote = Some(c),
            (c, None) if ends_bare_value(c, separator) => return i,
            _ => {}
        }
    }
    value.len()
}

/// Whether `c` ends a bare value among parameters separated by `separator`: whitespace
/// for libpq's pairs and for URL queries (which hold none), only the separator in
/// `;`-separated strings, whose values may hold spaces.
fn ends_bare_value(c: char, separator: Option<char>) -> bool {
    match separator {
        None => c.is_whitespace(),
        Some('&') => c == '&' || c.is_whitespace(),
        Some(s) => c == s,
    }
}

/// Where the value of the next `password=` (or alias) parameter starts, and the separator
/// of the parameters it is among (`&` after `?` or `&`, `;` or `,` after those; `None`
/// after whitespace). As libpq reads them, spaces may surround the `=`.
fn find_secret_value(text: &str) -> Option<(usize, Option<char>)> {
    let lower = text.to_ascii_lowercase();
    let mut best: Option<(usize, Option<char>)> = None;
    for key in ["password", "passwd", "pass", "pwd"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key).map(|i| from + i) {
            from = i + 1;
            let starts_param = i == 0
                || matches!(
                    lower.as_bytes()[i - 1],
                    b' ' | b'\t' | b'\n' | b'\r' | b'?' | b'&' | b';' | b',' | b'_' | b'-' | b'.'
                );
            let after_key = lower[i + key.len()..].trim_start();
            let Some(after_eq) = after_key.strip_prefix('=') else {
                continue;
            };
            if starts_param {
                let value_start = lower.len() - after_eq.trim_start().len();
                // The separator stands before the whole name (`&sentinel_password=`).
                let name_start = lower[..i]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
                    .map_or(0, |p| p + 1);
                let separator = match name_start.checked_sub(1).map(|p| lower.as_bytes()[p]) {
                    Some(b'?' | b'&') => Some('&'),
                    Some(b';') => Some(';'),
                    Some(b',') => Some(','),
                    _ => None,
                };
                if best.map_or(true, |(b, _)| value_start < b) {
                    best = Some((value_start, separator));
                }
                break;
            }
        }
    }
    best
}

/// Refuses a URL with an `@` after its host: a user or password holding an unencoded `/`,
/// `?` or `#` ends the URL's authority early, and the rest of the password would be read
/// as a path (a database name, a socket) or a parameter, and shown as one. The error says
/// how to write it and quotes nothing.
///
/// ```
/// use session_core::dsn::check_userinfo_encoded;
/// assert!(check_userinfo_encoded("postgres://u:pa%2Fss@h/db").is_ok());
/// let err = check_userinfo_encoded("postgres://u:pa/ss@h/db").unwrap_err();
/// assert!(err.contains("percent-encode") && !err.contains("pa/"));
/// ```
pub fn check_userinfo_encoded(url: &str) -> Result<(), String> {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    if after_scheme[authority_end..].contains('@') {
        return Err(
            "`@` after the host: percent-encode `/`, `?` and `#` in the user and \
                    password (%2F, %3F, %23)"
                .into(),
        );
    }
    Ok(())
}

/// Parses a timeout: a number with an optional unit `ms`, `s` (the default), `m` or `h`,
/// e.g. `5`, `2.5s`, `500ms`. At most an hour.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "`{value}` has unknown unit `{other}` (use ms, s, m or h, e.g. 5s)"
            ))
        }
    };
    let secs = number
        .parse::<f64>()
        .map_err(|_| format!("`{value}` is not a duration (e.g. 5s or 500ms)"))?
        * scale;
    let duration = Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{value}` is not a valid duration"))?;
    if duration.is_zero() || duration > MAX_TIMEOUT {
        return Err(format!(
            "`{value}` is out of range (more than 0, at most 1h)"
        ));
    }
    Ok(duration)
}

/// Parses a flag: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

/// The parameters the SQL engines accept on top of their driver's: where the sessions
/// live and how the connection pool is bounded.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `table` | the engine's | table name, optionally `schema.table` |
/// | `create_table` | `true` | create the table and its index if missing |
/// | `max_connections` (`pool_size`) | 10 | connections in the pool |
/// | `connect_timeout` (`acquire_timeout`, `timeout`) | 5 s | connecting, or waiting for a free connection |
/// | `statement_timeout` | 5 s | one statement |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlParams {
    /// The table, when configured; `[A-Za-z_][A-Za-z0-9_]*`, optionally with a schema.
    pub table: Option<String>,
    /// Whether the engine creates its table when it is missing.
    pub create_table: bool,
    /// The size of the connection pool.
    pub max_connections: u32,
    /// Bound on connecting or waiting for a free pooled connection.
    pub connect_timeout: Duration,
    /// Bound on one statement.
    pub statement_timeout: Duration,
}

impl Default for SqlParams {
    fn default() -> Self {
        SqlParams {
            table: None,
            create_table: true,
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

impl SqlParams {
    /// Takes `key=value` if it is one of these parameters: `Ok(true)` when taken,
    /// `Ok(false)` when the key is not one of them, an error naming the key when the value
    /// is unusable.
    pub fn take(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let bad = |why: String| format!("parameter `{key}`: {why}");
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "table" => {
                if !is_table_name(value) {
                    return Err(bad(format!(
                        "`{value}` is not a table name (letters, digits and `_`, not starting \
                         with a digit, at most 63 characters, optionally `schema.table`)"
                    )));
                }
                self.table = Some(value.to_owned());
            }
            "create_table" => self.create_table = parse_bool(value).map_err(bad)?,
            "max_connections" | "pool_size" => {
                self.max_connections = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| bad(format!("`{value}` is not a number from 1 to 1000")))?;
            }
            "connect_timeout" | "acquire_timeout" | "timeout" => {
                self.connect_timeout = parse_duration(value).map_err(bad)?;
            }
            "statement_timeout" => self.statement_timeout = parse_duration(value).map_err(bad)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The table's parts (`schema`, `table`), `default` when none is configured.
    pub fn table_parts<'a>(&'a self, default: &'a str) -> Vec<&'a str> {
        self.table
            .as_deref()
            .unwrap_or(default)
            .split('.')
            .collect()
    }
}

fn is_table_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && !p.as_bytes()[0].is_ascii_digit()
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    match name.split_once('.') {
        Some((schema, table)) => part(schema) && part(table),
        None => part(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_in_every_form() {
        for (raw, masked) in [
            ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
            ("u:p:w@tcp(h:3306)/db?x=1", "u:***@tcp(h:3306)/db?x=1"),
            ("u@tcp(h)/db", "u@tcp(h)/db"),
            (
                "host=h password=pw dbname=d",
                "host=h password=*** dbname=d",
            ),
            ("password='p w' host=h", "password=*** host=h"),
            (
                "mysql://h/db?user=u&password=pw&x=1",
                "mysql://h/db?user=u&password=***&x=1",
            ),
            ("nopassword=x", "nopassword=x"),
            // Prefixed names too (found by fuzzing: redis's `sentinel_password=`).
            (
                "redis://h/0?sentinel_password=pw&db_pass=pw2",
                "redis://h/0?sentinel_password=***&db_pass=***",
            ),
            // Found by fuzzing (fuzz/: config_postgres): libpq allows spaces around `=`
            // and `\` escapes inside quotes; both let the password through.
            (
                "host=h password = pw port=x",
                "host=h password = *** port=x",
            ),
            ("password =\t'a\\' b' user=u", "password =\t*** user=u"),
            ("password=a\\ b user=u", "password=*** user=u"),
            ("x password='a\nb'", "x password=***"),
            ("PASSWORD= 'é b' €", "PASSWORD= *** €"),
            // … and a bare libpq value runs to whitespace, `&` and `;` included.
            ("host=h password=a&b;c port=x", "host=h password=*** port=x"),
            ("Server=h;Password=a b;c", "Server=h;Password=***;c"),
            // A `://` that follows no scheme does not hide a Go DSN's password.
            ("u:pw@tcp(h)/db?k=file://x", "u:***@tcp(h)/db?k=file://x"),
            // A `host:port` before a libpq password holding `@` is no userinfo's end.
            ("h:1 password = 'a@b c' x", "h:*** x"),
            ("h:1 password=a@b x", "h:*** x"),
            ("x,password=y password = 'a,b c' z", "x,password=***"),
            // Each URL of a list keeps its password to itself (found by fuzzing: a second
            // userinfo after a first one hid it).
            (
                "u:pw1@h1;memcache://v:pw2@h2",
                "u:***@h1;memcache://v:***@h2",
            ),
            // A `://` inside a password does not end its userinfo early.
            ("mysql://:a://b@h/db", "mysql://:***@h/db"),
            // A bare value that starts with `"` runs to whitespace like any other.
            (r#"password="a,b"c d"#, "password=*** d"),
        ] {
            assert_eq!(mask_secrets(raw), masked, "{raw}");
        }
    }

    #[test]
    fn pieces_of_a_split_password_are_masked_in_messages() {
        let input = "redis://:hun;ter2,secret@h:1,100";
        for (message, masked) in [
            (
                "URL `redis://:hun;ter2`: empty host",
                "URL `redis://:***;***`: empty host",
            ),
            ("address `secret@h:1`", "address `***@h:1`"),
            ("part 2 (`100`): bad", "part 2 (`100`): bad"),
        ] {
            assert_eq!(mask_secrets_of(message, input), masked, "{message}");
        }
        // Percent-encoded or lowercased as a URL parser shows a host.
        let input = "redis://u:\u{1F511}Hunter2/x@h";
        assert_eq!(
            mask_secrets_of("host `%F0%9F%94%91hunter2` is bad", input),
            "host `%F0%9F%94%91***` is bad"
        );
        let input = "host=h password = 'hunter2 x,yz'";
        assert_eq!(
            mask_secrets_of("`hunter2` has no `=value`", input),
            "`***` has no `=value`"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "0", "x", "5d", "-1", "2h", "1e9"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sql_params() {
        let mut p = SqlParams::default();
        assert_eq!(p.take("table", "app.sessions"), Ok(true));
        assert_eq!(p.take("create-table", "off"), Ok(true));
        assert_eq!(p.take("pool_size", "3"), Ok(true));
        assert_eq!(p.take("sslmode", "disable"), Ok(false));
        assert_eq!(p.table_parts("x"), ["app", "sessions"]);
        assert!(!p.create_table);
        assert_eq!(p.max_connections, 3);
        let err = p.take("table", "x; drop table y").unwrap_err();
        assert!(err.contains("parameter `table`"), "{err}");
        assert!(p.take("max_connections", "0").is_err());
    }
}
