//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off by default): the
//! keyring's seal and open, which the engine otherwise keeps private.
//!
//! Not part of the crate's API: no stability promise, and never enable the feature in an
//! application. [`Keyring::seal`] takes its nonce from the caller so that a fuzz run is
//! deterministic; a real cookie must never reuse a nonce under one key.

use session_core::{ConfigError, Error};

use crate::config::CookieConfig;
use crate::crypto;

/// The nonce length of a sealed value.
pub const NONCE_LEN: usize = crypto::NONCE_LEN;

/// The longest cookie value [`Keyring::open`] looks at.
pub const MAX_VALUE_LEN: usize = crypto::MAX_VALUE_LEN;

/// The length of the value [`Keyring::seal`] makes for a body of `body_len` bytes.
pub fn sealed_len(body_len: usize) -> usize {
    crypto::sealed_len(body_len)
}

/// What a value opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Unix milliseconds after which the session is gone.
    pub expires_at: u64,
    /// The stored session bytes.
    pub body: Vec<u8>,
    /// Which configured key opened it (0 = current).
    pub key_index: usize,
}

/// The engine's keyring: one derived key per configured secret, current first.
#[derive(Debug)]
pub struct Keyring(crypto::Keyring);

impl Keyring {
    /// Derives the keys of `config`, as the engine does.
    pub fn new(config: &CookieConfig) -> Result<Self, ConfigError> {
        crypto::Keyring::new(config).map(Keyring)
    }

    /// Seals `body` for `sid` until `expires_at` (Unix ms) under the current key and `nonce`.
    pub fn seal(
        &self,
        sid: &str,
        expires_at: u64,
        body: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        self.0.seal_with_nonce(sid, expires_at, body, nonce)
    }

    /// Opens a cookie value for `sid` at `now` (Unix ms), as the engine does for every
    /// request; the error is the reason the value was ignored.
    pub fn open(&self, sid: &str, value: &str, now: u64) -> Result<Opened, &'static str> {
        self.0
            .open(sid, value, now)
            .map(|o| Opened {
                expires_at: o.expires_at,
                body: o.body,
                key_index: o.key_index,
            })
            .map_err(|why| why.reason())
    }
}
