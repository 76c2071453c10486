//! What an engine may see of the current request: the Rust form of the `ctx` argument that
//! beego passes to every engine call.

use http::{header, HeaderMap, Uri};

/// A borrowed view of the request a session call belongs to.
///
/// Most engines ignore it. The cookie engine reads its data cookie from it. Calls made
/// outside any request (a background job, a test) pass [`Context::detached`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    headers: Option<&'a HeaderMap>,
    uri: Option<&'a Uri>,
}

impl<'a> Context<'a> {
    /// A context for a request with these headers and URI.
    pub fn new(headers: &'a HeaderMap, uri: Option<&'a Uri>) -> Self {
        Context {
            headers: Some(headers),
            uri,
        }
    }

    /// A context with no request behind it.
    pub fn detached() -> Self {
        Context::default()
    }

    /// The request headers, if there is a request.
    pub fn headers(&self) -> Option<&'a HeaderMap> {
        self.headers
    }

    /// The request URI, if known.
    pub fn uri(&self) -> Option<&'a Uri> {
        self.uri
    }

    /// The value of the first request cookie called `name`.
    ///
    /// Malformed `Cookie` headers and cookies are skipped, never an error.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let headers = self.headers?;
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse_encoded)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.uri?.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The value of request header `name`, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers?.get(name)?.to_str().ok()
    }
}

impl<'a, B> From<&'a http::Request<B>> for Context<'a> {
    fn from(req: &'a http::Request<B>) -> Self {
        Context::new(req.headers(), Some(req.uri()))
    }
}

impl<'a> From<&'a http::request::Parts> for Context<'a> {
    fn from(parts: &'a http::request::Parts) -> Self {
        Context::new(&parts.headers, Some(&parts.uri))
    }
}

impl<'a> From<&'a HeaderMap> for Context<'a> {
    fn from(headers: &'a HeaderMap) -> Self {
        Context::new(headers, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_query_and_headers_leniently() {
        let req = http::Request::builder()
            .uri("/x?a=1&sid=abc%21")
            .header("cookie", "junk; beegosessionID=0123; other=\"q\"")
            .header("cookie", "second=2")
            .header("x-sid", "hdr")
            .body(())
            .unwrap();
        let cx = Context::from(&req);
        assert_eq!(cx.cookie("beegosessionID").as_deref(), Some("0123"));
        assert_eq!(cx.cookie("second").as_deref(), Some("2"));
        assert_eq!(cx.cookie("missing"), None);
        assert_eq!(cx.query_param("sid").as_deref(), Some("abc!"));
        assert_eq!(cx.header("x-sid"), Some("hdr"));
        assert_eq!(Context::detached().cookie("x"), None);
    }
}
