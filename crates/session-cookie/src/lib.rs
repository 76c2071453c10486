//! The `cookie` session engine: the whole session lives on the client, in a data cookie that
//! is encrypted and authenticated, so the server stores nothing.
//!
//! Each release seals the session's values with XChaCha20-Poly1305 under a key derived
//! (HKDF-SHA256) from your secret, binds the result to the session id and stamps an
//! absolute expiry inside the authenticated plaintext. A cookie that was tampered with,
//! made for another session id or under an unknown key, expired, oversized or plain garbage
//! reads as "no session"; it is never an error page. Keys rotate: the first configured key
//! seals, every key opens.
//!
//! # Cookie format (version 1)
//!
//! - Per secret: `PRK = HKDF-SHA256-Extract(salt "session-cookie/v1", secret)`; AEAD key
//!   `= HKDF-Expand(PRK, "xchacha20poly1305 key\0" ‖ securityName, 32)`; key id
//!   `= HKDF-Expand(PRK, "key id", 1)` (a hint for which key to try, not a secret).
//! - Value: `base64url-nopad(0x01 ‖ key id ‖ nonce[24] ‖ XChaCha20-Poly1305(key, nonce,
//!   plaintext, aad))` with a random nonce from the OS for every release,
//!   `plaintext = expiry (u64 big-endian, unix milliseconds) ‖ stored session` (the
//!   `session-core` stored format) and `aad = 0x01 ‖ key id ‖ session id`.
//!
//! # Getting started
//!
//! Link the crate, give it at least one random secret (make one with
//! `openssl rand -base64 32`), and ask the manager for `"cookie"`. The response then
//! carries two cookies: the usual session-id cookie and the sealed data cookie.
//!
//! ```
//! use session_core::{Manager, ManagerConfig};
//! use session_cookie as _; // registers "cookie"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ManagerConfig::builder()
//!     .cookie_name("sid")
//!     // Current key first; older keys still open cookies made before a rotation. These
//!     // two are examples: make your own with `openssl rand -base64 32`.
//!     .provider_config(r#"{"cookieName":"sid_data",
//!         "keys":["/W9AUqx97IJ3ta+dHCL8iH294GnQ4glCTxKYwqJ9cds=",
//!                 "PIZ3hc5TXGfJGCx7yyWrNxlDNQB7DyI/5a4CZNghlcA="]}"#)
//!     .build()?;
//! let manager = Manager::new("cookie", config).await?;
//!
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("user", "asta").await?;
//! let mut response = http::HeaderMap::new();
//! session.release(&mut response).await?;
//!
//! // `sid_data=<base64url sealed session>; HttpOnly; SameSite=Lax; Path=/` and `sid=<id>; …`
//! let set_cookie: Vec<&str> = response
//!     .get_all("set-cookie")
//!     .iter()
//!     .filter_map(|v| v.to_str().ok())
//!     .collect();
//! assert!(set_cookie.iter().any(|c| c.starts_with("sid_data=")));
//! assert!(set_cookie.iter().any(|c| c.starts_with("sid=")));
//!
//! // The browser sends both back, and the next request sees the data.
//! let cookies: Vec<&str> = set_cookie.iter().filter_map(|c| c.split(';').next()).collect();
//! let request = http::Request::builder().header("cookie", cookies.join("; ")).body(())?;
//! let session = manager.session_start(&request).await?;
//! assert_eq!(session.get::<String>("user").await?.as_deref(), Some("asta"));
//! # Ok(()) }
//! ```
//!
//! # Configuration
//!
//! `providerConfig` is JSON, in this crate's form `{"keys":["<current>","<old>",…],
//! "cookieName":"…"}` or beego's `{"cookieName":"gosessionid","securityKey":"…",
//! "blockKey":"…","securityName":"…","secure":false,"maxage":3600}`; see [`CookieConfig`]
//! for every field and how beego's keys map onto one secret. A missing key, or one that does
//! not look random (too short, a published example such as beego's `beegocookiehashkey`,
//! words, sequences, repeats) is a configuration error that says how to make a good one;
//! keys given as base64 or hex are decoded. There is no random per-process default, which
//! would log everyone out on each restart and break behind a load balancer.
//!
//! The data cookie takes Path `/`, `HttpOnly`, `Secure`, `SameSite` and `Domain` from the
//! manager's configuration (`secure` in `providerConfig` can add `Secure`; the manager's
//! run-time `set_secure` does not reach engines). Its name is `cookieName` from
//! `providerConfig`, by default `<manager cookieName>-data`. beego's configurations give
//! the provider the manager's own `cookieName` (beego's engine overwrites the id cookie with
//! the data); such a configuration is accepted as is, and the data cookie is then named
//! `<cookieName>-data`, so the two cookies never clobber each other (logged once, at
//! start-up, as info). It is written even when `enableSetCookie` is off: it is the storage,
//! and the session id may travel in a header or the query instead.
//!
//! Each sealed value costs 50 bytes before base64url (version, key id, 24-byte nonce,
//! 8-byte expiry, 16-byte tag), so with default attributes a session of about 2,990 encoded
//! bytes is the most that fits in 4096.
//!
//! # Limits
//!
//! - **No merging.** Each release writes the whole session as this request saw it, so of
//!   two concurrent requests that change different keys, the response that arrives last
//!   wins. Capabilities: none claimed, and
//!   [`keeps_data_on_client`](session_core::Capabilities::keeps_data_on_client) declared.
//! - **4096 bytes.** A release whose `Set-Cookie` header would exceed
//!   [`MAX_COOKIE_BYTES`] fails with [`Error::TooLarge`](session_core::Error::TooLarge) and
//!   writes no cookie; the previous cookie stays in the browser. Incoming cookies over
//!   4096 bytes are ignored without being decoded.
//! - **Destroy.** The engine has no response to send a removal cookie on when a session is
//!   destroyed; the manager removes the session-id cookie, and the stale data cookie is
//!   useless because it only opens together with the old id. It also means a destroyed
//!   session cannot be revoked on a client that kept both cookies until its expiry passes.
//! - **Counting.** `session_all` is [`Error::Unsupported`](session_core::Error::Unsupported);
//!   `session_gc` has nothing to do (expiry is checked on every read).
//! - **Sliding expiry** re-issues the data cookie on every release, so every response of a
//!   request with a session carries it.
#![warn(missing_docs)]

use std::sync::Arc;

use session_core::Provider;

mod config;
mod cookies;
mod crypto;
mod provider;
mod secret;

/// Seal and open for the fuzz targets in `fuzz/`; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::{CookieConfig, MIN_KEY_BYTES};
pub use provider::CookieProvider;

/// The name this engine registers under.
pub const ENGINE: &str = "cookie";

/// The largest `Set-Cookie` header this engine sends, and the largest cookie value it reads:
/// the size every browser is required to accept for one cookie.
pub const MAX_COOKIE_BYTES: usize = 4096;

session_core::register_provider!(COOKIE, "cookie", "session-cookie", |init| {
    Box::pin(async move { Ok(Arc::new(CookieProvider::from_init(&init)?) as Arc<dyn Provider>) })
});

#[cfg(test)]
mod tests;
