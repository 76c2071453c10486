//! The request path's id lookup: `Context::cookie` on any `Cookie` headers and
//! `Manager::session_id_of` on a request with any cookies, query and id header.
//!
//! Asserts: whatever `session_id_of` returns passes the manager's `IdPolicy::validate` (and
//! so `is_safe_id`); a minted id sent as the first cookie of the manager's name is found;
//! and on a well-formed header (`name=value` pairs joined by `; `) `Context::cookie` finds
//! the first pair of a name, as RFC 6265 reads it.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Result, Unstructured};
use http::{HeaderValue, Request};
use session_core::id::is_safe_id;
use session_core::{Context, Manager, ManagerConfig};
use session_memory as _;

/// Two managers on the memory engine: beego's defaults, and a keyed one that also takes
/// the id from the query and a header.
fn managers() -> &'static [Manager; 2] {
    static MANAGERS: OnceLock<(tokio::runtime::Runtime, [Manager; 2])> = OnceLock::new();
    &MANAGERS
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime");
            let keyed = ManagerConfig {
                cookie_name: "sid".into(),
                session_id_prefix: "app-".into(),
                session_id_hash_key: "fuzz-hash-key".into(),
                enable_sid_in_url_query: true,
                enable_sid_in_http_header: true,
                session_name_in_http_header: "X-Session-Id".into(),
                ..ManagerConfig::default()
            };
            let managers = runtime.block_on(async {
                [
                    Manager::new("memory", ManagerConfig::default()).await,
                    Manager::new("memory", keyed).await,
                ]
            });
            // Kept with the managers: the engine's tasks belong to it.
            (runtime, managers.map(|m| m.expect("a memory manager")))
        })
        .1
}

#[derive(Debug, Arbitrary)]
struct Input {
    raw_cookies: Vec<Vec<u8>>,
    query: String,
    header: Vec<u8>,
    pairs: Vec<(u8, String)>,
    valid_at: Option<u8>,
}

/// Names the well-formed pairs use: the managers' cookies and others.
const NAMES: &[&str] = &[
    "beegosessionID",
    "sid",
    "other",
    "beegosessionid",
    "sid-data",
];

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    for manager in managers() {
        // The whole input as the one Cookie header.
        if let Ok(value) = HeaderValue::from_bytes(data) {
            let mut request = Request::new(());
            request.headers_mut().append(http::header::COOKIE, value);
            check(manager, &request);
        }
    }
    let _ = structured(&mut Unstructured::new(data));
}

fn check(manager: &Manager, request: &Request<()>) -> Option<String> {
    let _ = Context::from(request).cookie(&manager.config().cookie_name);
    let sid = manager.session_id_of(request)?;
    assert!(
        manager.id_policy().validate(&sid),
        "session_id_of returned an id the policy rejects: {sid:?}"
    );
    assert!(is_safe_id(&sid), "{sid:?}");
    Some(sid)
}

fn structured(u: &mut Unstructured<'_>) -> Result<()> {
    let input = Input::arbitrary(u)?;
    for manager in managers() {
        let name = &manager.config().cookie_name;
        let minted = manager.id_policy().generate().expect("an id");
        // Well-formed pairs: a token name, a value of cookie-octets without `%`.
        let mut pairs: Vec<(String, String)> = input
            .pairs
            .iter()
            .map(|(n, v)| {
                let value: String = v
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && !"\";,\\%".contains(*c))
                    .collect();
                (NAMES[usize::from(*n) % NAMES.len()].to_owned(), value)
            })
            .collect();
        let mut expect_minted = false;
        if let Some(at) = input.valid_at {
            let at = usize::from(at) % (pairs.len() + 1);
            expect_minted = !pairs[..at].iter().any(|(n, _)| n == name);
            pairs.insert(at, (name.clone(), minted.clone()));
        }
        let line = pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = Request::new(());
        let headers = request.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&line) {
            headers.append(http::header::COOKIE, value);
        }
        for expected_name in NAMES {
            let expected = pairs.iter().find(|(n, _)| n == expected_name);
            let found = Context::from(&*headers).cookie(expected_name);
            assert_eq!(
                found.as_deref(),
                expected.map(|(_, v)| v.as_str()),
                "cookie {expected_name:?} of {line:?}"
            );
        }
        // Raw lines after the well-formed one: they cannot hide the minted id.
        for raw in &input.raw_cookies {
            if let Ok(value) = HeaderValue::from_bytes(raw) {
                headers.append(http::header::COOKIE, value);
            }
        }
        if let Ok(value) = HeaderValue::from_bytes(&input.header) {
            headers.append("x-session-id", value);
        }
        if let Ok(uri) = format!("/p?{}", input.query).parse() {
            *request.uri_mut() = uri;
        }
        let found = check(manager, &request);
        if expect_minted {
            assert_eq!(
                found.as_deref(),
                Some(minted.as_str()),
                "minted id not found in {line:?}"
            );
        }
    }
    Ok(())
}
