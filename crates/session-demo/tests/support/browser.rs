//! A browser over real TCP: hyper's HTTP/1 client on a fresh connection per request, with
//! its own cookie jar (kept from `Set-Cookie`, dropped on `Max-Age=0`), every request
//! bounded by a timeout so that a hang is a failure, never a stuck test.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// The demo's session cookie name (beego's default).
pub const SESSION_COOKIE: &str = "beegosessionID";

/// How long any one request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text (lossy).
    pub body: String,
}

impl Reply {
    /// The values of every `Set-Cookie` for `name` (`""` for a removal).
    pub fn set_cookies(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|cookie| {
                let pair = cookie.split(';').next()?;
                let (key, value) = pair.split_once('=')?;
                (key.trim() == name).then(|| value.trim().to_owned())
            })
            .collect()
    }

    /// The session id this response gives the browser, if it sets one.
    pub fn new_sid(&self) -> Option<String> {
        self.set_cookies(SESSION_COOKIE)
            .into_iter()
            .find(|value| !value.is_empty())
    }

    /// The text of the element with `id` (e.g. the counter's `count`, the login's `user`).
    pub fn element(&self, id: &str) -> Option<String> {
        let start = self.body.find(&format!("id=\"{id}\">"))? + id.len() + 6;
        let len = self.body[start..].find('<')?;
        Some(self.body[start..start + len].to_owned())
    }

    /// The counter page's count (the value of `asta` before this visit).
    pub fn count(&self) -> u64 {
        self.element("count")
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("no count on the page ({}): {}", self.status, self.body))
    }

    /// The logged-in user the counter page shows.
    pub fn user(&self) -> Option<String> {
        self.element("user")
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Nothing within [`TIMEOUT`].
    Timeout,
    /// The connection failed or broke (the text says how).
    Transport(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => write!(f, "no response within {TIMEOUT:?}"),
            Failure::Transport(why) => write!(f, "transport error: {why}"),
        }
    }
}

/// One simulated browser. Clones share nothing afterwards: each keeps its own jar.
#[derive(Debug, Clone)]
pub struct Browser {
    addr: SocketAddr,
    jar: BTreeMap<String, String>,
    timeout: Duration,
}

impl Browser {
    /// A browser with no cookies for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Browser {
            addr,
            jar: BTreeMap::new(),
            timeout: TIMEOUT,
        }
    }

    /// The value of cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// The session id the browser holds.
    pub fn sid(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE).map(str::to_owned)
    }

    /// Sets (or replaces) a cookie by hand, as a client may.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.jar.insert(name.to_owned(), value.to_owned());
    }

    /// Forgets every cookie.
    pub fn clear(&mut self) {
        self.jar.clear();
    }

    /// `GET path`; panics when no response comes.
    pub async fn get(&mut self, path: &str) -> Reply {
        self.expect(Method::GET, path, &[], None).await
    }

    /// `POST path` with a form body; panics when no response comes.
    pub async fn post_form(&mut self, path: &str, form: &str) -> Reply {
        self.expect(Method::POST, path, &[], Some(form)).await
    }

    /// A request with extra headers; panics when no response comes.
    pub async fn expect(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        form: Option<&str>,
    ) -> Reply {
        match self.send(method.clone(), path, headers, form).await {
            Ok(reply) => reply,
            Err(failure) => panic!("{method} {path}: {failure}"),
        }
    }

    /// A request: the jar's cookies in one `Cookie` header (unless `headers` brings its
    /// own), `headers` added. The jar takes the response's `Set-Cookie`s.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        form: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string());
        let own_cookie = headers.iter().any(|(name, _)| name == header::COOKIE);
        if !self.jar.is_empty() && !own_cookie {
            let line: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header(header::COOKIE, line.join("; "));
        }
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if form.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let body = Full::new(Bytes::from(form.unwrap_or_default().to_owned()));
        let request = builder
            .body(body)
            .map_err(|e| Failure::Transport(format!("building the request: {e}")))?;
        let reply = tokio::time::timeout(self.timeout, exchange(self.addr, request))
            .await
            .map_err(|_| Failure::Timeout)??;
        self.keep_cookies(&reply.headers);
        Ok(reply)
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for cookie in headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = cookie.split(';');
            let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
                continue;
            };
            let removed = value.trim().is_empty()
                || parts.any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
            if removed {
                self.jar.remove(name.trim());
            } else {
                self.jar
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// One request on a new connection.
async fn exchange(addr: SocketAddr, request: Request<Full<Bytes>>) -> Result<Reply, Failure> {
    let transport = |e: &dyn std::fmt::Display| Failure::Transport(e.to_string());
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| transport(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| transport(&e))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| transport(&e))?;
    let (head, body) = response.into_parts();
    let bytes = body.collect().await.map_err(|e| transport(&e))?.to_bytes();
    drop(sender);
    let _ = driver.await;
    Ok(Reply {
        status: head.status,
        headers: head.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Times `f`, for reports.
pub async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let began = Instant::now();
    let out = f.await;
    (out, began.elapsed())
}
