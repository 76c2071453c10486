//! The three requests every contender serves, and the routes that serve them.

use axum::body::Body;
use http::{header, HeaderValue, Request};

/// One of the measured requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// `GET /cycle` with the cookie of a stored session: read the integer, write it plus one.
    Cycle,
    /// `GET /read` with the cookie: only read it.
    Read,
    /// `GET /cycle` without a cookie: a new visitor whose session is created and written.
    New,
}

impl Scenario {
    /// All three, in table order.
    pub const ALL: [Scenario; 3] = [Scenario::Cycle, Scenario::Read, Scenario::New];

    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Cycle => "cycle",
            Scenario::Read => "read-only",
            Scenario::New => "new visitor",
        }
    }

    /// The request, with `cookie` (a `Cookie` header value) unless this is a new visitor.
    pub fn request(self, cookie: &HeaderValue) -> Request<Body> {
        let path = match self {
            Scenario::Read => "/read",
            Scenario::Cycle | Scenario::New => "/cycle",
        };
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = http::Uri::from_static(path);
        if self != Scenario::New {
            request.headers_mut().insert(header::COOKIE, cookie.clone());
        }
        request
    }
}
