//! A pretend browser: a cookie jar that turns responses into the next request.

use std::collections::BTreeMap;

use cookie::Cookie;
use http::{header, HeaderMap, HeaderValue, Request};

/// A client for driving a [`Manager`](crate::Manager) the way a browser would: it keeps the
/// cookies responses set and sends them with the next request.
///
/// ```
/// use session_core::conformance::Client;
///
/// let mut client = Client::new();
/// let mut response = http::HeaderMap::new();
/// response.append("set-cookie", "beegosessionID=abc; Path=/; HttpOnly".parse().unwrap());
/// client.absorb(&response);
/// let request = client.request("/");
/// assert_eq!(request.headers()["cookie"], "beegosessionID=abc");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The cookies the client holds, by name.
    pub cookies: BTreeMap<String, String>,
}

impl Client {
    /// A client with no cookies.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `GET uri` request carrying the client's cookies.
    pub fn request(&self, uri: &str) -> Request<()> {
        let mut request = Request::new(());
        if let Ok(parsed) = uri.parse() {
            *request.uri_mut() = parsed;
        }
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .map(|(name, value)| {
                    Cookie::new(name.as_str(), value.as_str())
                        .encoded()
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("; ");
            if let Ok(value) = HeaderValue::from_str(&line) {
                request.headers_mut().insert(header::COOKIE, value);
            }
        }
        request
    }

    /// Applies every `Set-Cookie` of `response`: stores new values, forgets cookies that are
    /// removed (`Max-Age=0`, an `Expires` in the past, or an empty value).
    pub fn absorb(&mut self, response: &HeaderMap) {
        for cookie in set_cookies(response) {
            let removed = cookie.value().is_empty()
                || cookie
                    .max_age()
                    .is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie
                    .expires_datetime()
                    .is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc());
            if removed {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    /// The value of the cookie `name`, if the client holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }
}

/// The cookies a response sets, parsed; unparsable headers are skipped.
pub fn set_cookies(response: &HeaderMap) -> Vec<Cookie<'static>> {
    response
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Cookie::parse_encoded(v.to_owned()).ok())
        .collect()
}
