//! Sealing and opening the data cookie's value.
//!
//! Construction (format version 1):
//!
//! - per secret: `PRK = HKDF-Extract(salt = "session-cookie/v1", IKM = secret)`, the AEAD key
//!   `= HKDF-Expand(PRK, "xchacha20poly1305 key\0" ‖ securityName, 32)` and a one-byte key id
//!   `= HKDF-Expand(PRK, "key id", 1)`. The id only narrows which keys are tried; it is no
//!   secret and collisions are harmless (every key with a matching id is tried).
//! - value `= base64url-nopad(version ‖ key id ‖ nonce[24] ‖ XChaCha20-Poly1305(plaintext))`
//!   with a fresh random nonce from the OS, `plaintext = expires_at (u64 BE, unix ms) ‖
//!   SessionData::encode()` and associated data `= version ‖ key id ‖ session id`.
//!
//! Binding the session id as associated data means a cookie only opens together with the
//! id it was made for; the expiry is inside the authenticated plaintext, so it cannot be
//! extended by the client.
//!
//! HKDF is a key derivation function for secrets that are already random, not a password
//! hash: it is fast, so a guessable secret could be found offline from one captured cookie.
//! That is why the configuration refuses secrets that do not look random (`secret.rs`)
//! instead of this module slowing the derivation down.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use hkdf::Hkdf;
use session_core::{ConfigError, Error};
use sha2::Sha256;

use crate::config::CookieConfig;
use crate::ENGINE;

const VERSION: u8 = 1;
const SALT: &[u8] = b"session-cookie/v1";
pub(crate) const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const EXPIRY_LEN: usize = 8;
const HEADER_LEN: usize = 2 + NONCE_LEN;

/// The longest cookie value even looked at: anything longer cannot have come from this
/// engine (it never sets a cookie over 4096 bytes), so it is dropped before decoding.
pub(crate) const MAX_VALUE_LEN: usize = 4096;

/// The length of the value [`Keyring::seal`] makes for a body of `body_len` bytes.
pub(crate) fn sealed_len(body_len: usize) -> usize {
    let raw = HEADER_LEN + EXPIRY_LEN + body_len + TAG_LEN;
    raw / 3 * 4 + [0, 2, 3][raw % 3]
}

/// Why a cookie value was not accepted. Every case means "no session".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    Oversized,
    NotBase64,
    Truncated,
    UnknownVersion,
    /// Tampered, made under another key or `securityName`, or bound to another session id.
    Unauthenticated,
    Expired,
}

impl Rejected {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Rejected::Oversized => "longer than 4096 bytes",
            Rejected::NotBase64 => "not base64url",
            Rejected::Truncated => "too short to be a sealed session",
            Rejected::UnknownVersion => "unknown format version",
            Rejected::Unauthenticated => {
                "does not authenticate (tampered, another key, or another session id)"
            }
            Rejected::Expired => "expired",
        }
    }
}

/// What a cookie opened to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Opened {
    /// Unix milliseconds after which the session is gone.
    pub expires_at: u64,
    /// The stored session (`SessionData::encode` format).
    pub body: Vec<u8>,
    /// Which configured key opened it (0 = current).
    pub key_index: usize,
}

struct SealingKey {
    id: u8,
    cipher: XChaCha20Poly1305,
}

/// The derived keys, current first.
pub(crate) struct Keyring {
    keys: Vec<SealingKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .finish()
    }
}

fn derive(secret: &[u8], security_name: &str) -> Result<SealingKey, ConfigError> {
    let hk = Hkdf::<Sha256>::new(Some(SALT), secret);
    let mut key = [0u8; 32];
    let mut id = [0u8; 1];
    let info = [
        b"xchacha20poly1305 key\0".as_slice(),
        security_name.as_bytes(),
    ]
    .concat();
    // Expanding to 32 or 1 bytes is always within HKDF's limit; map rather than panic anyway.
    hk.expand(&info, &mut key)
        .and_then(|()| hk.expand(b"key id", &mut id))
        .map_err(|_| ConfigError::provider(ENGINE, "HKDF key derivation failed"))?;
    Ok(SealingKey {
        id: id[0],
        cipher: XChaCha20Poly1305::new(&key.into()),
    })
}

impl Keyring {
    /// Derives one AEAD key per configured secret.
    pub(crate) fn new(config: &CookieConfig) -> Result<Self, ConfigError> {
        if config.keys.is_empty() {
            return Err(ConfigError::provider(ENGINE, "no key given"));
        }
        let keys = config
            .keys
            .iter()
            .map(|secret| derive(secret, &config.security_name))
            .collect::<Result<_, _>>()?;
        Ok(Keyring { keys })
    }

    /// Encrypts `body` for session `sid`, valid until `expires_at` (unix ms), under the
    /// current key.
    pub(crate) fn seal(&self, sid: &str, expires_at: u64, body: &[u8]) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        self.seal_with_nonce(sid, expires_at, body, nonce)
    }

    /// [`seal`](Self::seal) with a given nonce. Only `seal` (a fresh OS nonce per value) may
    /// make cookies: a repeated nonce under one key breaks XChaCha20-Poly1305. The fuzzing
    /// entry point uses it to stay deterministic.
    pub(crate) fn seal_with_nonce(
        &self,
        sid: &str,
        expires_at: u64,
        body: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| Error::Config(ConfigError::provider(ENGINE, "no key given")))?;
        let header = [VERSION, key.id];
        let mut plaintext = Vec::with_capacity(EXPIRY_LEN + body.len());
        plaintext.extend_from_slice(&expires_at.to_be_bytes());
        plaintext.extend_from_slice(body);
        let aad = [header.as_slice(), sid.as_bytes()].concat();
        let sealed = key
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::backend(ENGINE, "encrypt the session", "AEAD encryption failed"))?;
        let mut raw = Vec::with_capacity(HEADER_LEN + sealed.len());
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decrypts a cookie value made for `sid` and checks it has not expired at `now` (unix
    /// ms). Never panics, whatever `value` holds.
    pub(crate) fn open(&self, sid: &str, value: &str, now: u64) -> Result<Opened, Rejected> {
        if value.len() > MAX_VALUE_LEN {
            return Err(Rejected::Oversized);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(value.as_bytes())
            .map_err(|_| Rejected::NotBase64)?;
        if raw.len() < HEADER_LEN + EXPIRY_LEN + TAG_LEN {
            return Err(Rejected::Truncated);
        }
        let (header, rest) = raw.split_at(2);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        if header[0] != VERSION {
            return Err(Rejected::UnknownVersion);
        }
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Rejected::Truncated)?;
        let aad = [header, sid.as_bytes()].concat();
        let (key_index, plaintext) = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.id == header[1])
            .find_map(|(i, k)| {
                k.cipher
                    .decrypt(
                        &nonce.into(),
                        Payload {
                            msg: sealed,
                            aad: &aad,
                        },
                    )
                    .ok()
                    .map(|p| (i, p))
            })
            .ok_or(Rejected::Unauthenticated)?;
        let (expiry, body) = plaintext.split_at(EXPIRY_LEN);
        let expires_at = u64::from_be_bytes(expiry.try_into().map_err(|_| Rejected::Truncated)?);
        if expires_at <= now {
            return Err(Rejected::Expired);
        }
        Ok(Opened {
            expires_at,
            body: body.to_vec(),
            key_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl rand -base64 32`
    const K1: &str = "g0/ZusupUpnunb38wPimhEFQI4Lq4ZYOf4rKTOS664E=";
    const K2: &str = "oi0bk6UCtkyYKYa1O9gQrJhN6eO7bu9QKZn/AtlDrI8=";
    const SID: &str = "0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_800_000_000_000;

    fn ring(keys: &[&str]) -> Keyring {
        Keyring::new(&CookieConfig::with_keys(keys).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_and_predicted_length() {
        let r = ring(&[K1]);
        for body in [&b""[..], b"\x01\x80", &[7u8; 1000]] {
            let v = r.seal(SID, NOW + 5, body).unwrap();
            assert_eq!(v.len(), sealed_len(body.len()));
            assert!(v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            let o = r.open(SID, &v, NOW).unwrap();
            assert_eq!(
                (o.expires_at, o.body.as_slice(), o.key_index),
                (NOW + 5, body, 0)
            );
        }
        // Fresh nonces: the same session never seals to the same value twice.
        assert_ne!(
            r.seal(SID, NOW, b"x").unwrap(),
            r.seal(SID, NOW, b"x").unwrap()
        );
    }

    #[test]
    fn every_flipped_byte_is_rejected() {
        let r = ring(&[K1]);
        let v = r
            .seal(SID, NOW + 60_000, b"\x01\x81\xa1a\xc4\x01\x01")
            .unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
        // Header (version, key id), nonce, expiry/body ciphertext and tag: flip each byte.
        for i in 0..raw.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = raw.clone();
                bad[i] ^= bit;
                let got = r.open(SID, &URL_SAFE_NO_PAD.encode(&bad), NOW);
                assert!(
                    got.is_err(),
                    "flip of bit {bit:#x} in byte {i} was accepted"
                );
            }
        }
        // Truncated and extended values too.
        let cut = |n: usize| URL_SAFE_NO_PAD.encode(&raw[..n]);
        assert_eq!(
            r.open(SID, &cut(raw.len() - 1), NOW).unwrap_err(),
            Rejected::Unauthenticated
        );
        assert_eq!(
            r.open(SID, &cut(HEADER_LEN + 23), NOW).unwrap_err(),
            Rejected::Truncated
        );
        assert!(r.open(SID, &v[..v.len() - 1], NOW).is_err());
        assert!(r.open(SID, &format!("{v}AA"), NOW).is_err());
        assert_eq!(
            r.open(SID, "not base64!", NOW).unwrap_err(),
            Rejected::NotBase64
        );
        assert_eq!(
            r.open(SID, &"A".repeat(5000), NOW).unwrap_err(),
            Rejected::Oversized
        );
    }

    #[test]
    fn bound_to_the_session_id() {
        let r = ring(&[K1]);
        let v = r.seal(SID, NOW + 1000, b"data").unwrap();
        let other = "fedcba9876543210fedcba9876543210";
        assert_eq!(
            r.open(other, &v, NOW).unwrap_err(),
            Rejected::Unauthenticated
        );
        assert_eq!(r.open("", &v, NOW).unwrap_err(), Rejected::Unauthenticated);
    }

    #[test]
    fn expiry_is_enforced() {
        let r = ring(&[K1]);
        let v = r.seal(SID, NOW, b"data").unwrap();
        assert!(r.open(SID, &v, NOW - 1).is_ok());
        assert_eq!(r.open(SID, &v, NOW).unwrap_err(), Rejected::Expired);
        assert_eq!(r.open(SID, &v, NOW + 1).unwrap_err(), Rejected::Expired);
    }

    #[test]
    fn rotation_old_keys_open_new_key_seals() {
        let old = ring(&[K2]);
        let rotated = ring(&[K1, K2]);
        let from_old = old.seal(SID, NOW + 1, b"old").unwrap();
        let o = rotated.open(SID, &from_old, NOW).unwrap();
        assert_eq!((o.body.as_slice(), o.key_index), (&b"old"[..], 1));
        let from_new = rotated.seal(SID, NOW + 1, b"new").unwrap();
        assert_eq!(rotated.open(SID, &from_new, NOW).unwrap().key_index, 0);
        assert_eq!(
            old.open(SID, &from_new, NOW).unwrap_err(),
            Rejected::Unauthenticated
        );
        // Once the old key is retired, its cookies stop opening.
        assert!(ring(&[K1]).open(SID, &from_old, NOW).is_err());
    }

    #[test]
    fn security_name_separates_keys() {
        let mut a = CookieConfig::with_keys([K1]).unwrap();
        let v = Keyring::new(&a).unwrap().seal(SID, NOW + 1, b"x").unwrap();
        a.security_name = "other-app".into();
        assert!(Keyring::new(&a).unwrap().open(SID, &v, NOW).is_err());
    }

    #[test]
    fn random_input_never_panics_nor_opens() {
        let r = ring(&[K1, K2]);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = (next() % 700) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // As raw text (lossy), and as well-formed base64 of random bytes.
            let text = String::from_utf8_lossy(&bytes);
            assert!(r.open(SID, &text, NOW).is_err());
            let b64 = URL_SAFE_NO_PAD.encode(&bytes);
            assert!(r.open(SID, &b64, NOW).is_err());
            // Random bytes behind a valid header and a matching key id.
            let mut framed = vec![VERSION, r.keys[0].id];
            framed.extend_from_slice(&bytes);
            assert!(r.open(SID, &URL_SAFE_NO_PAD.encode(&framed), NOW).is_err());
        }
    }
}
