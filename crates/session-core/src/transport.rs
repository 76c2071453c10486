//! How the id travels: read from the cookie, then the URL query, then a header; written as a
//! cookie (and a header when enabled).

use cookie::time::{Duration as CookieDuration, OffsetDateTime};
use cookie::{Cookie, CookieBuilder};
use http::{header, HeaderMap, HeaderName, HeaderValue};

use crate::config::{ManagerConfig, SameSite};
use crate::context::Context;
use crate::id::IdPolicy;

/// The first valid session id the request carries: cookie, then URL query (if enabled),
/// then header (if enabled). Values that fail the id policy are ignored.
pub(crate) fn find_sid(
    cx: &Context<'_>,
    config: &ManagerConfig,
    policy: &IdPolicy,
) -> Option<String> {
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
    [from_cookie(), from_query(), from_header()]
        .into_iter()
        .flatten()
        .find(|sid| policy.validate(sid))
}

fn base_cookie(config: &ManagerConfig, secure: bool, value: String) -> CookieBuilder<'static> {
    let mut builder = Cookie::build((config.cookie_name.clone(), value))
        .path("/")
        .http_only(!config.disable_http_only)
        .secure(secure);
    builder = match config.cookie_same_site {
        SameSite::Lax => builder.same_site(cookie::SameSite::Lax),
        SameSite::Strict => builder.same_site(cookie::SameSite::Strict),
        SameSite::None => builder.same_site(cookie::SameSite::None),
        SameSite::Unset => builder,
    };
    if !config.domain.is_empty() {
        builder = builder.domain(config.domain.clone());
    }
    builder
}

/// The session cookie for `sid`, with every configured attribute. With `cookieLifeTime`
/// set it carries both `Max-Age` and `Expires`, as beego does, so old browsers agree.
pub(crate) fn session_cookie(config: &ManagerConfig, secure: bool, sid: &str) -> Cookie<'static> {
    let mut builder = base_cookie(config, secure, sid.to_owned());
    if config.cookie_life_time > 0 {
        let secs = i64::try_from(config.cookie_life_time).unwrap_or(i64::MAX);
        let age = CookieDuration::seconds(secs);
        builder = builder
            .max_age(age)
            .expires(OffsetDateTime::now_utc().saturating_add(age));
    }
    builder.build()
}

/// A cookie that makes the browser forget the session cookie: same name, Path, Domain,
/// Secure and SameSite, empty value, `Max-Age=0` and an `Expires` in the past.
pub(crate) fn removal_cookie(config: &ManagerConfig, secure: bool) -> Cookie<'static> {
    let mut cookie = base_cookie(config, secure, String::new()).build();
    cookie.make_removal();
    cookie
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
        let text = session_cookie(&config, true, "abc").to_string();
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
            Some(good.clone())
        );
        let req = http::Request::builder()
            .header("x-sid", &good)
            .body(())
            .unwrap();
        assert_eq!(find_sid(&Context::from(&req), &config, &policy), Some(good));
    }
}
