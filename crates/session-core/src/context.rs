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

    /// The value of the first request cookie called `name`, percent-decoded.
    ///
    /// Malformed `Cookie` headers and cookies are skipped, never an error.
    ///
    /// This runs on every request, so it scans the header's `name=value` pairs (RFC 6265
    /// §4.2.1: pairs separated by `;`, optional spaces, values optionally in double
    /// quotes) without building a parsed cookie for each, and allocates only the value it
    /// returns. (Parsing a `Set-Cookie` with attributes is the `cookie` crate's job; a
    /// request's `Cookie` header has none.)
    pub fn cookie(&self, name: &str) -> Option<String> {
        let headers = self.headers?;
        headers
            .get_all(header::COOKIE)
            .iter()
            .find_map(|line| find_cookie(line.as_bytes(), name))
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

/// The value of the first well-formed pair called `name` in a `Cookie` header line.
fn find_cookie(line: &[u8], name: &str) -> Option<String> {
    // Browsers send ASCII; a line that is not UTF-8 has no usable pair. (str searches for a
    // single character use memchr, faster than a byte-by-byte split.)
    let line = std::str::from_utf8(line).ok()?;
    line.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if key.trim_matches([' ', '\t']) != name {
            return None;
        }
        let value = value.trim_matches([' ', '\t']);
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.contains('%') {
            percent_decode(value)
        } else {
            Some(value.to_owned())
        }
    })
}

/// `%XX` escapes decoded; `None` when the result is not UTF-8. A `%` not followed by two
/// hex digits stays as it is.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let (h, l) = (hex(h).unwrap_or(0), hex(l).unwrap_or(0));
                out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
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

    #[test]
    fn cookie_pairs_are_found_like_a_browser_sends_them() {
        let line = |l: &str| {
            let req = http::Request::builder()
                .header("cookie", l)
                .body(())
                .unwrap();
            (
                Context::from(&req).cookie("sid"),
                Context::from(&req).cookie("d"),
            )
        };
        assert_eq!(line("sid=abc"), (Some("abc".into()), None));
        assert_eq!(
            line("  a=1 ;sid = abc ; d=x%2Fy"),
            (Some("abc".into()), Some("x/y".into()))
        );
        assert_eq!(
            line("sid=\"quoted\"; d=%zz%4"),
            (Some("quoted".into()), Some("%zz%4".into()))
        );
        assert_eq!(
            line("sidx=1; xsid=2; sid"),
            (None, None),
            "names match whole"
        );
        assert_eq!(
            line("sid=; d=%C3%A9"),
            (Some(String::new()), Some("é".into()))
        );
        assert_eq!(line("d=%FF"), (None, None), "not UTF-8 once decoded");
        assert_eq!(line("sid=first; sid=second").0.as_deref(), Some("first"));
    }
}
