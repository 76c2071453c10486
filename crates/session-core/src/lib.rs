//! Sessions for Rust web apps, ported from the session module of the Go framework beego.
//!
//! A session remembers a visitor between requests: a random id travels in a cookie (or, if
//! enabled, a URL query parameter or a header), and the values live in an *engine*: memory, a
//! file, the cookie itself, SQL, Redis, memcached or Couchbase. This crate is the part every
//! engine and every web framework shares:
//!
//! - [`Manager`] starts, regenerates and destroys sessions on the `http` crate's request and
//!   header types, so any framework can use it (`session-web` wraps it for tower and axum);
//! - [`ManagerConfig`] is beego's configuration, with beego's names and defaults, readable from
//!   beego's JSON form and checked at construction;
//! - [`Provider`] and [`Store`] are beego's engine interfaces in async Rust; [`TrackedStore`]
//!   and [`Persist`] do the value map and change tracking so that an engine is mostly its I/O;
//! - engines register under a name at link time ([`register_provider!`]) or at run time
//!   ([`register`]), so an app picks one by name, as in beego;
//! - [`conformance`] (feature `conformance`) runs the whole contract against any engine.
//!
//! # Start
//!
//! beego's standalone flow: a manager on the `memory` engine (crate `session-memory`), a
//! session per request, values in and out, and a release that stores what changed and sets
//! the cookie:
//!
//! ```ignore
//! use session_core::{Manager, ManagerConfig};
//! use session_memory as _; // links the "memory" engine
//!
//! let manager = Manager::new("memory", ManagerConfig::default()).await?;
//! let session = manager.session_start(&request).await?;
//! let count: u32 = session.get("asta").await?.unwrap_or(0);
//! session.set("asta", &(count + 1)).await?;
//! session.release(response.headers_mut()).await?; // stores, and adds Set-Cookie
//! ```
//!
//! # Writing an engine
//!
//! An engine implements [`Provider`] (find, move, remove, count and expire sessions) and
//! [`Persist`] (write one session back). Values, change tracking, the "write nothing for an
//! empty new session" rule and the stored format come from this crate. Here is a whole
//! engine, keeping sessions in a map, registered at run time and used through a manager
//! (an engine whose backend keeps one expiring record per session and can write it
//! conditionally, as the SQL engines do, implements [`row::RowBackend`] instead):
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//!
//! use session_core::http::{HeaderMap, Request};
//! use session_core::{
//!     async_trait, register, Capabilities, Context, Manager, ManagerConfig, Persist, Provider,
//!     Release, Result, SessionData, Store, TrackedStore, Write,
//! };
//!
//! /// Sessions in a map. (No expiry, to keep the example short: a real engine honours
//! /// `ProviderInit::max_lifetime`, and the conformance suite checks that it does.)
//! #[derive(Default)]
//! struct MapEngine {
//!     sessions: Mutex<HashMap<String, SessionData>>,
//! }
//!
//! #[async_trait]
//! impl Persist for MapEngine {
//!     type Token = (); // what a load remembers for the write-back (a version, a CAS value…)
//!
//!     async fn persist(&self, release: Release<'_, ()>, _response: &mut HeaderMap) -> Result<()> {
//!         let mut sessions = self.sessions.lock().unwrap();
//!         match (sessions.get_mut(release.sid), release.write) {
//!             // Merge this request's changes into the latest state: concurrent requests
//!             // that changed other keys keep theirs.
//!             (Some(stored), Write::Changes(changes)) => changes.apply_to(stored),
//!             (Some(_), Write::Touch) => {} // unchanged: only the lifetime would be refreshed
//!             // Destroyed meanwhile: a logout stays a logout.
//!             (None, _) if release.only_if_present => {}
//!             (None, _) => {
//!                 sessions.insert(release.sid.to_owned(), release.data.clone());
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! struct MapProvider(Arc<MapEngine>);
//!
//! impl MapProvider {
//!     fn store(&self, sid: &str, data: Option<SessionData>) -> Box<dyn Store> {
//!         let engine = Arc::clone(&self.0);
//!         Box::new(match data {
//!             Some(data) => TrackedStore::loaded(sid, data, (), engine),
//!             None => TrackedStore::new(sid, engine),
//!         })
//!     }
//!     fn get(&self, sid: &str) -> Option<SessionData> {
//!         self.0.sessions.lock().unwrap().get(sid).cloned()
//!     }
//! }
//!
//! #[async_trait]
//! impl Provider for MapProvider {
//!     async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
//!         Ok(self.store(sid, self.get(sid)))
//!     }
//!     async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
//!         Ok(self.get(sid).is_some())
//!     }
//!     async fn session_regenerate(&self, _cx: &Context<'_>, old: &str, sid: &str)
//!         -> Result<Box<dyn Store>>
//!     {
//!         let moved = self.0.sessions.lock().unwrap().remove(old);
//!         if let Some(data) = &moved {
//!             self.0.sessions.lock().unwrap().insert(sid.to_owned(), data.clone());
//!         }
//!         Ok(self.store(sid, moved))
//!     }
//!     async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
//!         self.0.sessions.lock().unwrap().remove(sid);
//!         Ok(())
//!     }
//!     async fn session_all(&self) -> Result<usize> {
//!         Ok(self.0.sessions.lock().unwrap().len())
//!     }
//!     async fn session_gc(&self) -> Result<()> {
//!         Ok(())
//!     }
//!     // One lookup instead of `exist` + `read`.
//!     async fn session_load(&self, _cx: &Context<'_>, sid: &str)
//!         -> Result<Option<Box<dyn Store>>>
//!     {
//!         Ok(self.get(sid).map(|data| self.store(sid, Some(data))))
//!     }
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities::NONE.merging().counting()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! // Each manager gets its own provider instance from the factory.
//! register("map", |_init| {
//!     Box::pin(async { Ok(Arc::new(MapProvider(Arc::default())) as Arc<dyn Provider>) })
//! })?;
//! let manager = Manager::new("map", ManagerConfig::default()).await?;
//!
//! // First request: no cookie, a new session; it holds data, so release stores it.
//! let session = manager.session_start(&Request::new(())).await?;
//! session.set("user", "astaxie").await?;
//! let mut response = HeaderMap::new();
//! session.release(&mut response).await?;
//! let set_cookie = response["set-cookie"].to_str().unwrap();
//! assert!(set_cookie.starts_with(&format!("beegosessionID={}", session.id())));
//!
//! // Second request, carrying the cookie: the same session.
//! let request = Request::builder()
//!     .header("cookie", format!("beegosessionID={}", session.id()))
//!     .body(())
//!     .unwrap();
//! let again = manager.session_start(&request).await?;
//! assert_eq!(again.get::<String>("user").await?.as_deref(), Some("astaxie"));
//! assert_eq!(manager.get_active_session().await?, 1);
//! # Ok(()) }
//! ```
//!
//! To check an engine against the whole contract, enable the `conformance` feature in your
//! dev-dependencies and call [`conformance::Suite`] from a test:
//! `Suite::new("map").run().await` (see the module for what it checks).
#![warn(missing_docs)]

pub mod cas;
mod changes;
mod config;
mod context;
mod data;
pub mod dsn;
mod error;
mod gc;
pub mod id;
mod manager;
mod provider;
pub mod registry;
pub mod retry;
pub mod row;
mod session;
mod store;
mod tracked;
mod transport;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use changes::{Change, ChangeSet};
pub use config::{ManagerConfig, ManagerConfigBuilder, SameSite, MAX_LIFETIME_SECS};
pub use context::Context;
pub use data::{decode_value, encode_value, FormatError, SessionData, FORMAT_VERSION};
pub use error::{BoxError, ConfigError, Error, RegistryError, Result};
pub use gc::GcTask;
pub use id::IdPolicy;
pub use manager::Manager;
pub use provider::{Capabilities, Provider, ProviderFuture, ProviderInit};
pub use registry::{register, registered_engines, Registration};
pub use session::Session;
pub use store::{Store, StoreExt};
pub use tracked::{Persist, Release, TrackedStore, Write};
pub use transport::{append_cookie, is_valid_cookie_name, CookieAttributes};

pub use async_trait::async_trait;
pub use http;
