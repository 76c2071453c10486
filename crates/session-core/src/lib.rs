//! Sessions for Rust web apps, ported from the session module of the Go framework beego.
//!
//! TODO crate docs
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
pub mod retry;
pub mod registry;
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
pub use transport::append_cookie;

pub use async_trait::async_trait;
pub use http;
