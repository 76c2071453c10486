//! Reading a `providerConfig` string: which form it is in, and taking the engine's
//! [`SqlParams`] out of its query so the rest goes to the driver.

use session_core::dsn::{check_userinfo_encoded, mask_secrets, SqlParams};
use session_core::ConfigError;

/// The forms an engine's `providerConfig` may take: a URL with one of its schemes, or the
/// engine's native form (anything without `://`).
#[derive(Debug, Clone, Copy)]
pub struct ConfigForms {
    /// The engine the errors name.
    pub engine: &'static str,
    /// URL schemes read as the URL form, lower case with their `://`.
    pub url_schemes: &'static [&'static str],
    /// What an empty config should have been, after "empty; expected ".
    pub when_empty: &'static str,
    /// What a URL of another scheme should have been, after "unknown URL scheme; expected ".
    pub when_other_scheme: &'static str,
}

impl ConfigForms {
    /// Parses `config` (trimmed) with `url` or `native`, whichever form it is in. Their
    /// errors say what is wrong; they are returned with the config, passwords masked.
    pub fn parse<T>(
        &self,
        config: &str,
        url: impl FnOnce(&str) -> Result<T, String>,
        native: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let config = config.trim();
        let fail = |why: String| {
            let reason = format!("{why} (in `{}`)", mask_secrets(config));
            ConfigError::provider(self.engine, reason).masking_secrets_of(config)
        };
        if config.is_empty() {
            return Err(fail(format!("empty; expected {}", self.when_empty)));
        }
        let lower = config.to_ascii_lowercase();
        if self.url_schemes.iter().any(|s| lower.starts_with(s)) {
            check_userinfo_encoded(config).map_err(fail)?;
            url(config).map_err(fail)
        } else if lower.contains("://") {
            let why = format!("unknown URL scheme; expected {}", self.when_other_scheme);
            Err(fail(why))
        } else {
            native(config).map_err(fail)
        }
    }
}

/// Takes the engine's parameters out of `query` (`a=1&b=2`, without the `?`) into
/// `params`; the other pairs are returned in order, still encoded. A value that
/// [`SqlParams::take`] rejects is an error naming its key.
pub fn take_query_params<'a>(
    query: &'a str,
    params: &mut SqlParams,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !params.take(key, value)? {
            rest.push((key, value));
        }
    }
    Ok(rest)
}

/// Splits `url` into the URL for the driver (the engine's parameters removed from its
/// query) and those parameters.
pub fn take_url_params(url: &str) -> Result<(String, SqlParams), String> {
    let mut params = SqlParams::default();
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let rest = take_query_params(query, &mut params)?;
    if rest.is_empty() {
        return Ok((base.to_owned(), params));
    }
    let query: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok((format!("{base}?{}", query.join("&")), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMS: ConfigForms = ConfigForms {
        engine: "test",
        url_schemes: &["db://"],
        when_empty: "db://host",
        when_other_scheme: "db://",
    };

    fn parse(config: &str) -> Result<&'static str, ConfigError> {
        FORMS.parse(config, |_| Ok("url"), |_| Err("bad native form".into()))
    }

    #[test]
    fn the_form_is_told_by_the_scheme_and_errors_mask_passwords() {
        assert_eq!(parse("  DB://h ").unwrap(), "url");
        let e = parse("other://u:secret@h").unwrap_err().to_string();
        assert!(e.contains("unknown URL scheme; expected db://"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let e = parse("password=secret").unwrap_err().to_string();
        assert!(
            e.contains("bad native form") && !e.contains("secret"),
            "{e}"
        );
        assert!(parse(" ")
            .unwrap_err()
            .to_string()
            .contains("empty; expected db://host"));
    }

    #[test]
    fn an_unencoded_slash_in_the_password_is_an_error_not_a_database() {
        // Found by fuzzing (fuzz/: config_mysql, config_postgres): `db://u:/hunter2@h/db`
        // parsed, with `hunter2@h/db` as the database name, shown by Debug and errors.
        for url in [
            "db://u:/hunter2@h/db",
            "db://u:pa?table=hunter2@h/db",
            "db://u:a#hunter2@h",
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.contains("percent-encode"), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{url}: {e}");
        }
        assert_eq!(parse("db://u:pa%2Fss@h/db?x=1").unwrap(), "url");
    }

    #[test]
    fn engine_params_leave_the_url_and_the_rest_stays_in_order() {
        let (url, params) = take_url_params("db://h/d?a=1&table=t&b&pool_size=3").unwrap();
        assert_eq!(url, "db://h/d?a=1&b=");
        assert_eq!(params.table.as_deref(), Some("t"));
        assert_eq!(params.max_connections, 3);
        let (url, _) = take_url_params("db://h/d?table=t").unwrap();
        assert_eq!(url, "db://h/d");
        let e = take_url_params("db://h/d?create_table=maybe").unwrap_err();
        assert!(e.contains("parameter `create_table`"), "{e}");
    }
}
