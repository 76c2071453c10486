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
//! - the `conformance` module (feature `conformance`) runs the whole contract against any
//!   engine.
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
//! use std::time::SystemTime;
//!
//! use session_core::http::{HeaderMap, Request};
//! use session_core::{
//!     async_trait, register, Capabilities, Context, Lifetimes, Manager, ManagerConfig, Persist,
//!     Provider, Release, Released, Result, SessionData, Store, TrackedStore, Write,
//! };
//!
//! /// Sessions in a map, each with the instant it ends.
//! struct MapEngine {
//!     lifetimes: Lifetimes, // the manager's rules, from `ProviderInit::lifetimes`
//!     sessions: Mutex<HashMap<String, (SessionData, SystemTime)>>,
//! }
//!
//! impl MapEngine {
//!     /// A live session's data: an expired entry is as good as absent.
//!     fn live(&self, sid: &str) -> Option<SessionData> {
//!         let sessions = self.sessions.lock().unwrap();
//!         let (data, ends) = sessions.get(sid)?;
//!         (*ends > SystemTime::now()).then(|| data.clone())
//!     }
//! }
//!
//! #[async_trait]
//! impl Persist for MapEngine {
//!     type Token = (); // what a load remembers for the write-back (a version, a CAS value…)
//!
//!     fn lifetimes(&self) -> &Lifetimes {
//!         &self.lifetimes
//!     }
//!
//!     async fn persist(&self, release: Release<'_, ()>, _: &mut HeaderMap) -> Result<Released> {
//!         let now = SystemTime::now();
//!         // One lock across the read and the write: no other release can slip in between.
//!         let mut sessions = self.sessions.lock().unwrap();
//!         let live = sessions.get_mut(release.sid).filter(|(_, ends)| *ends > now);
//!         let ends = match (live, release.write) {
//!             // Merge this request's changes into the latest state (concurrent requests
//!             // that changed other keys keep theirs); the merged state's own expiry counts.
//!             (Some((stored, ends)), Write::Changes(changes)) => {
//!                 changes.apply_to(stored);
//!                 *ends = release.lifetime_of(stored).expires_at();
//!                 *ends
//!             }
//!             // Unchanged: only the lifetime slides.
//!             (Some((_, ends)), Write::Touch) => {
//!                 *ends = release.lifetime.expires_at();
//!                 *ends
//!             }
//!             // Destroyed or expired meanwhile: a logout stays a logout.
//!             (None, _) if release.only_if_present || matches!(release.write, Write::Touch) => {
//!                 return Ok(Released::Gone)
//!             }
//!             (None, _) => {
//!                 let ends = release.lifetime.expires_at();
//!                 sessions.insert(release.sid.to_owned(), (SessionData::clone(release.data), ends));
//!                 ends
//!             }
//!         };
//!         Ok(Released::Stored { expires: ends })
//!     }
//! }
//!
//! struct MapProvider(Arc<MapEngine>);
//!
//! impl MapProvider {
//!     fn store(&self, sid: &str, data: Option<SessionData>) -> Box<dyn Store> {
//!         TrackedStore::boxed(sid, data.map(|d| (d, ())), Arc::clone(&self.0))
//!     }
//! }
//!
//! #[async_trait]
//! impl Provider for MapProvider {
//!     async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
//!         Ok(self.store(sid, self.0.live(sid)))
//!     }
//!     async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
//!         Ok(self.0.live(sid).is_some())
//!     }
//!     // A freshly minted id: nothing to look up.
//!     async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
//!         Ok(self.store(sid, None))
//!     }
//!     async fn session_regenerate(&self, cx: &Context<'_>, old: &str, sid: &str)
//!         -> Result<Box<dyn Store>>
//!     {
//!         let moved = self.session_move(cx, old, sid).await?;
//!         Ok(moved.unwrap_or_else(|| self.store(sid, None)))
//!     }
//!     // One lock: the old id and the new one are never both live.
//!     async fn session_move(&self, _cx: &Context<'_>, old: &str, sid: &str)
//!         -> Result<Option<Box<dyn Store>>>
//!     {
//!         let mut sessions = self.0.sessions.lock().unwrap();
//!         let Some(entry) = sessions.remove(old).filter(|(_, e)| *e > SystemTime::now()) else {
//!             return Ok(None);
//!         };
//!         let data = entry.0.clone();
//!         sessions.insert(sid.to_owned(), entry); // the expiry moves with it
//!         Ok(Some(self.store(sid, Some(data))))
//!     }
//!     async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
//!         self.0.sessions.lock().unwrap().remove(sid);
//!         Ok(())
//!     }
//!     async fn session_all(&self) -> Result<usize> {
//!         let now = SystemTime::now();
//!         Ok(self.0.sessions.lock().unwrap().values().filter(|(_, e)| *e > now).count())
//!     }
//!     async fn session_gc(&self) -> Result<()> {
//!         let now = SystemTime::now();
//!         self.0.sessions.lock().unwrap().retain(|_, (_, ends)| *ends > now);
//!         Ok(())
//!     }
//!     // One lookup instead of `exist` + `read`.
//!     async fn session_load(&self, _cx: &Context<'_>, sid: &str)
//!         -> Result<Option<Box<dyn Store>>>
//!     {
//!         Ok(self.0.live(sid).map(|data| self.store(sid, Some(data))))
//!     }
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities::NONE.merging().counting()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! // Each manager gets its own provider instance from the factory.
//! register("map", |init| {
//!     let engine = MapEngine { lifetimes: init.lifetimes, sessions: Mutex::default() };
//!     Box::pin(async move { Ok(Arc::new(MapProvider(Arc::new(engine))) as Arc<dyn Provider>) })
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
//! dev-dependencies and call `conformance::Suite` from a test:
//! `Suite::new("map").run().await` (see the module for what it checks).
#![warn(missing_docs)]

pub mod cas;
mod changes;
mod config;
mod context;
mod data;
pub mod dsn;
mod error;
mod expiry;
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
pub use data::{
    decode_value, encode_value, FormatError, SessionData, SessionMeta, FORMAT_MAGIC, FORMAT_VERSION,
};
pub use error::{BoxError, ConfigError, Error, RegistryError, Result};
pub use expiry::{Expiry, Lifetime, Lifetimes};
pub use gc::GcTask;
pub use id::IdPolicy;
pub use manager::Manager;
pub use provider::{Capabilities, Provider, ProviderFuture, ProviderInit};
pub use registry::{register, registered_engines, Registration};
pub use session::Session;
pub use store::{Released, Store, StoreExt};
pub use tracked::{lifetime_of, Persist, Release, TrackedStore, Write};
pub use transport::{append_cookie, is_valid_cookie_name, CookieAttributes, IdSource};

pub use async_trait::async_trait;
pub use http;
