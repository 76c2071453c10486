//! The limit: `/cycle` and `/read` hand-rolled in the handlers, the least any session layer
//! can cost on these routes. A locked `HashMap` keyed by an id parsed from the cookie, and a
//! `Set-Cookie` whenever the value is written (as the session layers send one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderMap, HeaderValue};

/// The cookie the hand-rolled routes use.
pub const COOKIE: &str = "sid";

type Map = Arc<Mutex<HashMap<u128, i64>>>;

/// The limit's routes on a fresh map.
pub fn router() -> Router {
    Router::new()
        .route("/cycle", get(cycle))
        .route("/read", get(read))
        .with_state(Map::default())
}

/// The id in the request's `sid` cookie, if there is one that parses (32 hex digits).
pub fn cookie_id(headers: &HeaderMap) -> Option<u128> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("sid="))
        .find_map(|id| u128::from_str_radix(id, 16).ok())
}

/// A fresh random id (`rand`'s thread-local CSPRNG, seeded from the OS once).
pub fn new_id() -> u128 {
    rand::random()
}

/// The `Set-Cookie` header for `id`.
pub fn set_cookie(id: u128) -> (header::HeaderName, HeaderValue) {
    let value = format!("{COOKIE}={id:032x}; Path=/; HttpOnly");
    // Hex digits and ASCII punctuation only: always a valid header value.
    let value = HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static(""));
    (header::SET_COOKIE, value)
}

fn lock(map: &Map) -> std::sync::MutexGuard<'_, HashMap<u128, i64>> {
    map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn cycle(State(map): State<Map>, headers: HeaderMap) -> Response {
    let id = cookie_id(&headers).unwrap_or_else(new_id);
    let n = {
        let mut map = lock(&map);
        let slot = map.entry(id).or_insert(0);
        let n = *slot;
        *slot = n + 1;
        n
    };
    ([set_cookie(id)], n.to_string()).into_response()
}

async fn read(State(map): State<Map>, headers: HeaderMap) -> Response {
    let n = cookie_id(&headers)
        .and_then(|id| lock(&map).get(&id).copied())
        .unwrap_or(0);
    n.to_string().into_response()
}
