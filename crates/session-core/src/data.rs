//! The session value map and its stored format.
//!
//! Values are kept as MessagePack bytes, one encoding per key, so a value that does not
//! decode as the asked type fails alone and never takes the rest of the session with it.
//! The stored form is one version byte followed by a MessagePack map of key → bytes.

use std::collections::HashMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::Error;

/// The version byte every stored session starts with.
pub const FORMAT_VERSION: u8 = 1;

/// Why stored bytes could not be turned back into a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Zero bytes: nothing was ever stored, or it was truncated to nothing.
    #[error("stored session is empty")]
    Empty,
    /// Written by another (newer or foreign) format.
    #[error("stored session has format version {0}, this build reads version {FORMAT_VERSION}")]
    Version(u8),
    /// The body is not the expected MessagePack map.
    #[error("stored session is corrupt: {0}")]
    Corrupt(#[from] rmp_serde::decode::Error),
}

/// One session's values: key → MessagePack-encoded value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionData {
    values: HashMap<String, Vec<u8>>,
}

#[derive(Serialize)]
struct StoredRef<'a>(#[serde(with = "serde_bytes_map")] &'a HashMap<String, Vec<u8>>);

#[derive(Deserialize)]
struct StoredOwned(#[serde(with = "serde_bytes_map")] HashMap<String, Vec<u8>>);

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

    /// Removes every key.
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

    /// Decodes the value under `key` as `T`; `Ok(None)` when the key is absent.
    pub fn get_typed<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.get(key).map(|raw| decode_value(key, raw)).transpose()
    }

    /// Encodes the session in the stored format (version byte + MessagePack map).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.values.values().map(Vec::len).sum::<usize>());
        out.push(FORMAT_VERSION);
        // Writing a map of strings to byte strings into a Vec cannot fail.
        if let Err(e) = rmp_serde::encode::write(&mut out, &StoredRef(&self.values)) {
            tracing::error!(error = %e, "encoding a session map failed; storing it empty");
            out.truncate(1);
            out.push(0x80); // an empty MessagePack map
        }
        out
    }

    /// Decodes bytes written by [`encode`](Self::encode). Never panics on hostile input.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let (&version, body) = bytes.split_first().ok_or(FormatError::Empty)?;
        if version != FORMAT_VERSION {
            return Err(FormatError::Version(version));
        }
        let StoredOwned(values) = rmp_serde::from_slice(body)?;
        Ok(SessionData { values })
    }

    /// Decodes stored bytes, or logs why not and returns an empty session.
    ///
    /// This is what engines do with data they cannot read: report it and carry on with an
    /// empty session rather than fail the request.
    pub fn decode_or_empty(bytes: &[u8], engine: &str, sid: &str) -> Self {
        Self::decode(bytes).unwrap_or_else(|error| {
            tracing::error!(engine, sid, %error, "stored session is unreadable; treating it as empty");
            SessionData::new()
        })
    }
}

impl FromIterator<(String, Vec<u8>)> for SessionData {
    fn from_iter<I: IntoIterator<Item = (String, Vec<u8>)>>(iter: I) -> Self {
        SessionData {
            values: iter.into_iter().collect(),
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
        let bytes = d.encode();
        assert_eq!(bytes[0], FORMAT_VERSION);
        let back = SessionData::decode(&bytes).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.get_typed::<u32>("a").unwrap(), Some(42));
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        assert!(matches!(SessionData::decode(&[]), Err(FormatError::Empty)));
        assert!(matches!(
            SessionData::decode(&[9, 0x80]),
            Err(FormatError::Version(9))
        ));
        for junk in [
            &[1u8, 0xff][..],
            &[1, 0xdf, 0xff, 0xff, 0xff, 0xff],
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
            if !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
                bytes[0] = FORMAT_VERSION;
            }
            // Must return, not panic or allocate without bound; the result may be either.
            let _ = SessionData::decode(&bytes);
        }
        // A map header claiming four billion entries is an error, not an allocation.
        assert!(SessionData::decode(&[FORMAT_VERSION, 0xdf, 0xff, 0xff, 0xff, 0xff]).is_err());
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
