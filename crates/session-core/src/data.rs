//! The session value map and its stored format.
//!
//! Values are kept as MessagePack bytes, one encoding per key, so a value that does not
//! decode as the asked type fails alone and never takes the rest of the session with it.
//! Besides its values a session carries its creation time and its own [`Expiry`], if any.
//!
//! The stored format is described on [`SessionData`].

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::Error;
use crate::expiry::{from_unix_millis, to_unix_millis, Expiry};
use crate::id::Fingerprint;

/// The version this build writes.
pub const FORMAT_VERSION: u8 = 2;

/// The first byte of every stored session of format version 2 and later.
pub const FORMAT_MAGIC: u8 = 0xC1;

/// The first (and only header) byte of format version 1.
const LEGACY_V1: u8 = 1;

/// Why stored bytes could not be turned back into a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Zero bytes: nothing was ever stored, or it was truncated to nothing.
    #[error("stored session is empty")]
    Empty,
    /// Written by a newer build of this library, in a format this build cannot read.
    #[error(
        "stored session has format version {0}, this build reads versions 1 to {FORMAT_VERSION}"
    )]
    Version(u8),
    /// Neither of this library's formats (e.g. a file written by beego itself).
    #[error("stored session does not start with a known format header")]
    Foreign,
    /// The body is not the expected MessagePack.
    #[error("stored session is corrupt: {0}")]
    Corrupt(#[from] rmp_serde::decode::Error),
}

/// Creation time and own expiry of a session: what, besides its values, is stored with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionMeta {
    /// When the session was first stored; `None` when unknown (not stored yet, or written
    /// by format version 1).
    pub created: Option<SystemTime>,
    /// The session's own expiry; `None` follows the manager's `maxLifetime`.
    pub expiry: Option<Expiry>,
}

/// One session's values (key → MessagePack-encoded value) and its [`SessionMeta`].
///
/// # Stored format
///
/// Version 2 (written by this build) is the byte `0xC1` (never the first byte of
/// MessagePack, nor of Go's `gob`), the version byte `2`, then a MessagePack array
/// `[created, expiry, values]`: creation time in Unix milliseconds (0 when unknown), the
/// session's expiry (`nil`, or `[kind, milliseconds]`) and the map key → bytes.
/// Version 1 (one byte `1`, then the map) is still read.
///
/// Bytes starting `0xC1` with a version above 2 were written by a newer build: they are
/// never read as empty (a write would then destroy them), but fail the request with
/// [`Error::NewerFormat`] so that during a rolling deploy or a rollback the old binary
/// leaves the newer sessions alone. Anything else that does not decode is corrupt: it is
/// logged and read as an empty session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionData {
    values: HashMap<String, Vec<u8>>,
    meta: SessionMeta,
}

/// The stored expiry: `[0, idle ms]`, `[1, Unix ms]` or `[2, 0]`.
type StoredExpiry = Option<(u8, u64)>;

#[derive(Serialize)]
struct StoredRef<'a>(
    u64,
    StoredExpiry,
    #[serde(with = "serde_bytes_map")] &'a HashMap<String, Vec<u8>>,
);

#[derive(Deserialize)]
struct StoredOwned(
    u64,
    StoredExpiry,
    #[serde(with = "serde_bytes_map")] HashMap<String, Vec<u8>>,
);

#[derive(Deserialize)]
struct StoredV1(#[serde(with = "serde_bytes_map")] HashMap<String, Vec<u8>>);

fn expiry_to_stored(expiry: Option<Expiry>) -> StoredExpiry {
    expiry.map(|e| match e {
        Expiry::OnInactivity(idle) => (0, u64::try_from(idle.as_millis()).unwrap_or(u64::MAX)),
        Expiry::AtDateTime(at) => (1, to_unix_millis(at)),
        Expiry::OnSessionEnd => (2, 0),
    })
}

fn expiry_from_stored(stored: StoredExpiry) -> Option<Expiry> {
    match stored? {
        (0, ms) => Some(Expiry::OnInactivity(Duration::from_millis(ms))),
        (1, ms) => Some(Expiry::AtDateTime(from_unix_millis(ms))),
        (2, _) => Some(Expiry::OnSessionEnd),
        // A kind this build does not know follows the manager's default.
        _ => None,
    }
}

/// Encodes values as MessagePack `bin` rather than arrays of integers.
mod serde_bytes_map {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_bytes::{ByteBuf, Bytes};

    pub fn serialize<S: Serializer>(
        map: &&HashMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let view: HashMap<&str, &Bytes> = map
            .iter()
            .map(|(k, v)| (k.as_str(), Bytes::new(v)))
            .collect();
        view.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<HashMap<String, Vec<u8>>, D::Error> {
        let map: HashMap<String, ByteBuf> = HashMap::deserialize(d)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.into_vec())).collect())
    }
}

impl SessionData {
    /// An empty session.
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded value under `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// Stores an encoded value.
    pub fn insert(&mut self, key: impl Into<String>, value: Vec<u8>) {
        self.values.insert(key.into(), value);
    }

    /// Removes a key, returning its encoded value.
    pub fn remove(&mut self, key: &str) -> Option<Vec<u8>> {
        self.values.remove(key)
    }

    /// Removes every key (the creation time and expiry stay).
    pub fn clear(&mut self) {
        self.values.clear();
    }

    /// How many keys the session holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the session holds no keys.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Key/value pairs, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The session's creation time and own expiry.
    pub fn meta(&self) -> SessionMeta {
        self.meta
    }

    /// Sets the session's own expiry (`None`: the manager's default).
    pub fn set_expiry(&mut self, expiry: Option<Expiry>) {
        self.meta.expiry = expiry;
    }

    /// Records when the session was created, if that is not known yet.
    pub fn created_if_unknown(&mut self, created: SystemTime) {
        self.meta.created.get_or_insert(created);
    }

    /// Decodes the value under `key` as `T`; `Ok(None)` when the key is absent.
    pub fn get_typed<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.get(key).map(|raw| decode_value(key, raw)).transpose()
    }

    /// The encoded size of the values alone (keys and bytes), a cheap lower bound of
    /// [`encode`](Self::encode)'s length.
    pub fn payload_len(&self) -> usize {
        self.values.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Encodes the session in the stored format: `0xC1`, the version byte, then a MessagePack
    /// array `[created, expiry, values]` ([`FORMAT_MAGIC`], [`FORMAT_VERSION`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.payload_len() + 3 * self.values.len());
        out.extend_from_slice(&[FORMAT_MAGIC, FORMAT_VERSION]);
        let created = self.meta.created.map_or(0, to_unix_millis);
        let stored = StoredRef(created, expiry_to_stored(self.meta.expiry), &self.values);
        // Writing integers and a map of strings to byte strings into a Vec cannot fail.
        if let Err(e) = rmp_serde::encode::write(&mut out, &stored) {
            tracing::error!(error = %e, "encoding a session map failed; storing it empty");
            out.truncate(2);
            out.extend_from_slice(&[0x93, 0x00, 0xc0, 0x80]); // [0, nil, {}]
        }
        out
    }

    /// Decodes bytes written by [`encode`](Self::encode) (or by format version 1). Never
    /// panics on hostile input.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        match bytes {
            [] => Err(FormatError::Empty),
            [LEGACY_V1, body @ ..] => {
                let StoredV1(values) = rmp_serde::from_slice(body)?;
                Ok(SessionData {
                    values,
                    meta: SessionMeta::default(),
                })
            }
            [FORMAT_MAGIC, FORMAT_VERSION, body @ ..] => {
                let StoredOwned(created, expiry, values) = rmp_serde::from_slice(body)?;
                let meta = SessionMeta {
                    created: (created > 0).then(|| from_unix_millis(created)),
                    expiry: expiry_from_stored(expiry),
                };
                Ok(SessionData { values, meta })
            }
            // Only a version above ours is a newer build's; `0xC1` then 0 or 1 is no format
            // at all (corrupt), and must not fail every request of the session as "newer".
            [FORMAT_MAGIC, version, ..] if *version > FORMAT_VERSION => {
                Err(FormatError::Version(*version))
            }
            [FORMAT_MAGIC] => Err(FormatError::Empty),
            _ => Err(FormatError::Foreign),
        }
    }

    /// Decodes bytes an engine read from storage for session `sid`:
    /// - corrupt or foreign bytes are logged (with the id's fingerprint, never the id) and
    ///   read as an empty session, which the request may then store again;
    /// - bytes of a newer format version are an [`Error::NewerFormat`]: the request fails
    ///   (the web layer answers 503) and, since nothing is written, the bytes stay.
    ///
    /// Engines use this for every stored session they read.
    pub fn decode_stored(bytes: &[u8], engine: &str, sid: &str) -> Result<Self, Error> {
        match Self::decode(bytes) {
            Ok(data) => Ok(data),
            Err(FormatError::Version(version)) => Err(Error::NewerFormat {
                engine: engine.to_owned().into(),
                version,
            }),
            Err(error) => {
                let session = Fingerprint::of(sid);
                tracing::error!(engine, %session, %error, "stored session is unreadable; treating it as empty");
                Ok(SessionData::new())
            }
        }
    }
}

impl FromIterator<(String, Vec<u8>)> for SessionData {
    fn from_iter<I: IntoIterator<Item = (String, Vec<u8>)>>(iter: I) -> Self {
        SessionData {
            values: iter.into_iter().collect(),
            meta: SessionMeta::default(),
        }
    }
}

/// Encodes one value as MessagePack (struct fields by name, so they survive reordering).
pub fn encode_value<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, Error> {
    rmp_serde::to_vec_named(value).map_err(|source| Error::Encode {
        key: key.to_owned(),
        source,
    })
}

/// Decodes one value; a mismatch names the key and the asked type.
pub fn decode_value<T: DeserializeOwned>(key: &str, raw: &[u8]) -> Result<T, Error> {
    rmp_serde::from_slice(raw).map_err(|source| Error::Decode {
        key: key.to_owned(),
        expected: std::any::type_name::<T>(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_stored_format() {
        let mut d = SessionData::new();
        d.insert("a", encode_value("a", &42u32).unwrap());
        d.insert("b", encode_value("b", "hello").unwrap());
        d.created_if_unknown(crate::expiry::now_millis());
        for expiry in [
            None,
            Some(Expiry::OnSessionEnd),
            Some(Expiry::OnInactivity(Duration::from_secs(86_400))),
            Some(Expiry::AtDateTime(crate::expiry::now_millis())),
        ] {
            d.set_expiry(expiry);
            let bytes = d.encode();
            assert_eq!(bytes[..2], [FORMAT_MAGIC, FORMAT_VERSION]);
            let back = SessionData::decode(&bytes).unwrap();
            assert_eq!(back, d);
            assert_eq!(back.get_typed::<u32>("a").unwrap(), Some(42));
        }
    }

    #[test]
    fn version_1_is_still_read() {
        // Version 1: the byte 1, then a MessagePack map of key -> bin ({"n": bin[0x07]}).
        let v1 = [1u8, 0x81, 0xa1, b'n', 0xc4, 0x01, 0x07];
        let data = SessionData::decode(&v1).unwrap();
        assert_eq!(data.get("n"), Some(&[7u8][..]));
        assert_eq!(data.meta(), SessionMeta::default());
    }

    #[test]
    fn a_newer_version_is_an_error_and_never_empty() {
        let newer = [FORMAT_MAGIC, FORMAT_VERSION + 1, 0x93, 0x00, 0xc0, 0x80];
        assert!(matches!(
            SessionData::decode(&newer),
            Err(FormatError::Version(v)) if v == FORMAT_VERSION + 1
        ));
        let err = SessionData::decode_stored(&newer, "test", "sid").unwrap_err();
        assert!(
            matches!(err, Error::NewerFormat { version: 3, .. }),
            "{err}"
        );
        assert!(err.is_unavailable());
        // Foreign or corrupt bytes (beego's gob files, junk) still read as empty.
        for junk in [&b"\x0e\xff\x81gob"[..], &[0x01, 0xff], b"garbage"] {
            assert!(SessionData::decode_stored(junk, "test", "sid")
                .unwrap()
                .is_empty());
        }
    }

    #[test]
    fn magic_with_an_older_version_byte_is_corrupt_not_newer() {
        // Found by fuzzing (fuzz/: stored_session): `C1 01 …` was reported as "format
        // version 1, this build reads versions 1 to 2" and failed every request of the
        // session with NewerFormat, although no build ever wrote it.
        for bytes in [
            &[FORMAT_MAGIC, 0x01, 0x93, 0x00, 0xc0, 0x80][..],
            &[FORMAT_MAGIC, 0x00, 0x93, 0x00, 0xc0, 0x80],
            &[FORMAT_MAGIC, 0x01],
        ] {
            assert!(
                matches!(SessionData::decode(bytes), Err(FormatError::Foreign)),
                "{bytes:x?}"
            );
            assert!(SessionData::decode_stored(bytes, "test", "sid")
                .unwrap()
                .is_empty());
        }
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        assert!(matches!(SessionData::decode(&[]), Err(FormatError::Empty)));
        assert!(matches!(
            SessionData::decode(&[9, 0x80]),
            Err(FormatError::Foreign)
        ));
        for junk in [
            &[1u8, 0xff][..],
            &[1, 0xdf, 0xff, 0xff, 0xff, 0xff],
            &[FORMAT_MAGIC, FORMAT_VERSION, 0xdf, 0xff, 0xff, 0xff, 0xff],
            &[FORMAT_MAGIC],
            b"\x01garbage",
        ] {
            assert!(SessionData::decode(junk).is_err());
        }
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let mut good = SessionData::new();
        good.insert("user", encode_value("user", "astaxie").unwrap());
        good.insert("n", encode_value("n", &7u64).unwrap());
        let good = good.encode();
        // A small xorshift generator: deterministic, no extra dependency.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000u64 {
            let mut bytes = if round % 2 == 0 {
                good.clone()
            } else {
                (0..next() % 64).map(|_| next() as u8).collect()
            };
            if bytes.len() > 2 {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
                bytes[0] = FORMAT_MAGIC;
                bytes[1] = FORMAT_VERSION;
            }
            // Must return, not panic or allocate without bound; the result may be either.
            let _ = SessionData::decode(&bytes);
        }
        // A map header claiming four billion entries is an error, not an allocation.
        let huge = [
            FORMAT_MAGIC,
            FORMAT_VERSION,
            0x93,
            0,
            0xc0,
            0xdf,
            0xff,
            0xff,
            0xff,
            0xff,
        ];
        assert!(SessionData::decode(&huge).is_err());
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        let mut d = SessionData::new();
        d.insert("n", encode_value("n", "text").unwrap());
        let err = d.get_typed::<u64>("n").unwrap_err();
        assert!(err.to_string().contains("`n`"), "{err}");
        assert_eq!(d.get_typed::<String>("n").unwrap().as_deref(), Some("text"));
    }
}
