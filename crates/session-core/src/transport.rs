//! How the id travels: read from the cookie, then the URL query, then a header; written as a
//! cookie (and a header when enabled).

use cookie::time::{Duration as CookieDuration, OffsetDateTime};
use cookie::{Cookie, CookieBuilder};
use http::{header, HeaderMap, HeaderName, HeaderValue};

use crate::config::{ManagerConfig, SameSite};
use crate::context::Context;
use crate::id::IdPolicy;

/// Where a request's session id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    /// The session cookie.
    Cookie,
    /// The URL query (`EnableSidInURLQuery`). Such an id is never written into a cookie:
    /// a link carrying somebody else's id must not fix the visitor's session.
    Query,
    /// The `SessionNameInHTTPHeader` header (`EnableSidInHTTPHeader`).
    Header,
    /// None: the id was minted for this request.
    Minted,
}

/// The first valid session id the request carries, and where it was: cookie, then URL
/// query (if enabled), then header (if enabled). Values that fail the id policy are ignored.
pub(crate) fn find_sid(
    cx: &Context<'_>,
    config: &ManagerConfig,
    policy: &IdPolicy,
) -> Option<(String, IdSource)> {
    let from_cookie = || cx.cookie(&config.cookie_name);
    let from_query = || {
        config
            .enable_sid_in_url_query
            .then(|| cx.query_param(&config.cookie_name))
            .flatten()
    };
    let from_header = || {
        config
            .enable_sid_in_http_header
            .then(|| {
                cx.header(&config.session_name_in_http_header)
                    .map(str::to_owned)
            })
            .flatten()
    };
    [
        (from_cookie(), IdSource::Cookie),
        (from_query(), IdSource::Query),
        (from_header(), IdSource::Header),
    ]
    .into_iter()
    .filter_map(|(sid, source)| Some((sid?, source)))
    .find(|(sid, _)| policy.validate(sid))
}

/// True when `name` can be a cookie name (an RFC 6265 token: visible ASCII, no separators).
pub fn is_valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// The attributes a manager gives its cookies: `Path=/`, `HttpOnly`, `Secure`, `SameSite`,
/// `Domain` and, with a lifetime, both `Max-Age` and `Expires` (so old browsers agree).
///
/// Engines that send cookies of their own (the cookie engine's data cookie) build them here,
/// so they travel exactly like the session-id cookie.
///
/// ```
/// use session_core::{CookieAttributes, ManagerConfig};
///
/// let config = ManagerConfig { domain: "example.com".into(), ..ManagerConfig::default() };
/// let attributes = CookieAttributes::new(&config, config.secure);
/// let cookie = attributes.cookie("data", "v".to_owned());
/// assert_eq!(cookie.domain(), Some("example.com"));
/// assert_eq!(attributes.removal("data").max_age(), Some(cookie::time::Duration::ZERO));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttributes {
    /// `HttpOnly` (on unless `disableHTTPOnly`).
    pub http_only: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite`.
    pub same_site: SameSite,
    /// `Domain`; empty for none.
    pub domain: String,
    /// `Max-Age` in seconds; 0 leaves it off (a browser-session cookie).
    pub max_age: u64,
}

impl CookieAttributes {
    /// The attributes `config` describes (`cookieLifeTime` as the max age), with `Secure`
    /// as given (the manager's [`set_secure`](crate::Manager::set_secure) may differ from
    /// `config.secure`).
    pub fn new(config: &ManagerConfig, secure: bool) -> Self {
        CookieAttributes {
            http_only: !config.disable_http_only,
            secure,
            same_site: config.cookie_same_site,
            domain: config.domain.clone(),
            max_age: config.cookie_life_time,
        }
    }

    fn builder(&self, name: &str, value: String) -> CookieBuilder<'static> {
        let mut builder = Cookie::build((name.to_owned(), value))
            .path("/")
            .http_only(self.http_only)
            .secure(self.secure);
        builder = match self.same_site {
            SameSite::Lax => builder.same_site(cookie::SameSite::Lax),
            SameSite::Strict => builder.same_site(cookie::SameSite::Strict),
            SameSite::None => builder.same_site(cookie::SameSite::None),
            SameSite::Unset => builder,
        };
        if !self.domain.is_empty() {
            builder = builder.domain(self.domain.clone());
        }
        builder
    }

    /// The cookie `name=value` with every attribute.
    pub fn cookie(&self, name: &str, value: String) -> Cookie<'static> {
        let mut builder = self.builder(name, value);
        if self.max_age > 0 {
            let age = CookieDuration::seconds(i64::try_from(self.max_age).unwrap_or(i64::MAX));
            builder = builder
                .max_age(age)
                .expires(OffsetDateTime::now_utc().saturating_add(age));
        }
        builder.build()
    }

    /// A cookie that makes the browser forget `name`: same Path, Domain, Secure and
    /// SameSite, empty value, `Max-Age=0` and an `Expires` in the past.
    pub fn removal(&self, name: &str) -> Cookie<'static> {
        let mut cookie = self.builder(name, String::new()).build();
        cookie.make_removal();
        cookie
    }
}

impl CookieAttributes {
    /// The same attributes with `Max-Age` (and `Expires`) `max_age`; `None` for a
    /// browser-session cookie.
    pub fn with_max_age(mut self, max_age: Option<std::time::Duration>) -> Self {
        self.max_age = max_age.map_or(0, |age| age.as_secs().max(1));
        self
    }
}

/// The session cookie for `sid`, with every configured attribute and `max_age`.
pub(crate) fn session_cookie(
    config: &ManagerConfig,
    secure: bool,
    sid: &str,
    max_age: Option<std::time::Duration>,
) -> Cookie<'static> {
    CookieAttributes::new(config, secure)
        .with_max_age(max_age)
        .cookie(&config.cookie_name, sid.to_owned())
}

/// The session cookie's header text, worked out once per manager: every session cookie of
/// a manager has the same attributes, and only its value (and, with a lifetime, its
/// `Max-Age`/`Expires`) changes. The text comes from the `cookie` crate (a template cookie
/// split around its value), so the fast path writes exactly what the crate would.
#[derive(Debug, Clone)]
pub(crate) struct SessionCookieTemplate {
    /// `name=`.
    prefix: String,
    /// `; HttpOnly; SameSite=…; Path=/…`, without and with `Secure`.
    suffix: [String; 2],
}

/// The placeholder value the template cookie is built with (no character to encode).
const PLACEHOLDER: &str = "0";

impl SessionCookieTemplate {
    pub(crate) fn new(config: &ManagerConfig) -> Self {
        let prefix = format!("{}=", config.cookie_name);
        let suffix = [false, true].map(|secure| {
            let text = session_cookie(config, secure, PLACEHOLDER, None)
                .encoded()
                .to_string();
            text.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_prefix(PLACEHOLDER))
                .unwrap_or_default()
                .to_owned()
        });
        SessionCookieTemplate { prefix, suffix }
    }

    /// The `Set-Cookie` value for `sid` (an id the manager minted or validated: visible
    /// ASCII without separators, so nothing to encode).
    pub(crate) fn header(
        &self,
        config: &ManagerConfig,
        secure: bool,
        sid: &str,
        max_age: Option<std::time::Duration>,
    ) -> Option<HeaderValue> {
        if max_age.is_some() {
            // `Expires` is a date: let the crate write it.
            let cookie = session_cookie(config, secure, sid, max_age);
            return HeaderValue::from_str(&cookie.encoded().to_string()).ok();
        }
        let suffix = &self.suffix[usize::from(secure)];
        let mut text = String::with_capacity(self.prefix.len() + sid.len() + suffix.len());
        text.push_str(&self.prefix);
        text.push_str(sid);
        text.push_str(suffix);
        HeaderValue::from_maybe_shared(bytes::Bytes::from(text)).ok()
    }
}

/// A cookie that makes the browser forget the session cookie.
pub(crate) fn removal_cookie(config: &ManagerConfig, secure: bool) -> Cookie<'static> {
    CookieAttributes::new(config, secure).removal(&config.cookie_name)
}

/// Appends `Set-Cookie: cookie` to the response headers.
pub fn append_cookie(response: &mut HeaderMap, cookie: &Cookie<'_>) {
    // A cookie built from validated configuration and a hex id is always a valid header
    // value; should an engine hand us something odd, drop it with a log rather than panic.
    match HeaderValue::from_str(&cookie.encoded().to_string()) {
        Ok(value) => {
            response.append(header::SET_COOKIE, value);
        }
        Err(error) => {
            tracing::error!(name = cookie.name(), %error, "cookie is not a valid header value")
        }
    }
}

/// Sets the id header when `EnableSidInHTTPHeader` is on.
pub(crate) fn set_sid_header(config: &ManagerConfig, response: &mut HeaderMap, sid: &str) {
    if !config.enable_sid_in_http_header {
        return;
    }
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(config.session_name_in_http_header.as_bytes()),
        HeaderValue::from_str(sid),
    ) {
        response.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_carries_every_attribute() {
        let config = ManagerConfig {
            domain: "example.com".into(),
            cookie_life_time: 60,
            cookie_same_site: SameSite::Strict,
            ..ManagerConfig::default()
        };
        let text = session_cookie(
            &config,
            true,
            "abc",
            Some(std::time::Duration::from_secs(60)),
        )
        .to_string();
        for part in [
            "beegosessionID=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Domain=example.com",
            "Max-Age=60",
            "Expires=",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let gone = removal_cookie(&config, true).to_string();
        for part in [
            "beegosessionID=",
            "Max-Age=0",
            "Path=/",
            "Domain=example.com",
            "Secure",
        ] {
            assert!(gone.contains(part), "{part} missing from {gone}");
        }
    }

    #[test]
    fn the_template_writes_what_the_cookie_crate_writes() {
        for config in [
            ManagerConfig::default(),
            ManagerConfig {
                domain: "example.com".into(),
                cookie_same_site: SameSite::Unset,
                disable_http_only: true,
                ..ManagerConfig::default()
            },
            ManagerConfig {
                cookie_name: "sid".into(),
                cookie_same_site: SameSite::None,
                ..ManagerConfig::default()
            },
        ] {
            let template = SessionCookieTemplate::new(&config);
            for secure in [false, true] {
                let sid = "app-0123456789abcdef";
                let fast = template.header(&config, secure, sid, None).unwrap();
                let crate_text = session_cookie(&config, secure, sid, None)
                    .encoded()
                    .to_string();
                assert_eq!(fast.to_str().unwrap(), crate_text);
                let slow = template
                    .header(
                        &config,
                        secure,
                        sid,
                        Some(std::time::Duration::from_secs(60)),
                    )
                    .unwrap();
                assert!(slow.to_str().unwrap().contains("Max-Age=60"), "{slow:?}");
            }
        }
    }

    #[test]
    fn ids_are_taken_in_order_and_validated() {
        let config = ManagerConfig {
            enable_sid_in_url_query: true,
            enable_sid_in_http_header: true,
            session_name_in_http_header: "X-Sid".into(),
            ..ManagerConfig::default()
        };
        let policy = config.id_policy().unwrap();
        let good = policy.generate().unwrap();
        let req = http::Request::builder()
            .uri(format!("/?beegosessionID={good}"))
            .header("cookie", "beegosessionID=../../etc/passwd")
            .body(())
            .unwrap();
        assert_eq!(
            find_sid(&Context::from(&req), &config, &policy),
            Some((good.clone(), IdSource::Query))
        );
        let req = http::Request::builder()
            .header("x-sid", &good)
            .body(())
            .unwrap();
        assert_eq!(
            find_sid(&Context::from(&req), &config, &policy),
            Some((good, IdSource::Header))
        );
    }
}
