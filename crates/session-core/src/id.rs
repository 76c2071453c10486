//! Session ids: minted from the OS CSPRNG, optionally tagged with an HMAC so that ids the
//! server never issued are rejected before any engine sees them.

use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::error::{ConfigError, Error};

/// The longest session id anything in this library accepts (beego's `char(64)` column).
pub const MAX_ID_LEN: usize = 64;

/// Hex characters of the HMAC-SHA1 tag appended to ids when a hash key is configured.
///
/// 64 bits of tag: forging an id means guessing them online, one request per guess.
pub const TAG_HEX_LEN: usize = 16;

/// True when `sid` is safe to hand to any engine: 1 to 64 characters from
/// `[A-Za-z0-9_-]`. No path separators, dots, spaces or control characters.
///
/// The [`Manager`](crate::Manager) only passes ids that passed the stricter
/// [`IdPolicy::validate`]; engines may call this as a second line of defence,
/// e.g. before building a file path from an id.
pub fn is_safe_id(sid: &str) -> bool {
    !sid.is_empty()
        && sid.len() <= MAX_ID_LEN
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A short, non-reversible stand-in for a session id, for logs and error messages.
///
/// A session id is a bearer credential: whoever has it is logged in. Logs and errors carry
/// this fingerprint instead: the first 8 hex characters of the id's SHA-1, the same in
/// every process (so the lines of one session can be followed across instances) but no
/// help in finding the id itself.
///
/// ```
/// use session_core::id::Fingerprint;
///
/// let sid = "0123456789abcdef0123456789abcdef";
/// let print = Fingerprint::of(sid).to_string();
/// assert_eq!(print.len(), 9);
/// assert!(!print.contains(&sid[..8]));
/// assert_eq!(print, Fingerprint::of(sid).to_string());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 4]);

impl Fingerprint {
    /// The fingerprint of `sid`.
    pub fn of(sid: &str) -> Self {
        use sha1::Digest;
        let digest = Sha1::digest(sid.as_bytes());
        Fingerprint([digest[0], digest[1], digest[2], digest[3]])
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", hex::encode(self.0))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// How ids are minted and checked: length, prefix and optional HMAC key.
#[derive(Clone)]
pub struct IdPolicy {
    random_len: usize,
    prefix: String,
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for IdPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdPolicy")
            .field("random_len", &self.random_len)
            .field("prefix", &self.prefix)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl IdPolicy {
    /// A policy minting `random_len` random bytes behind `prefix`, tagged under `key` if given.
    ///
    /// Fails when fewer than 16 random bytes are asked for, when the prefix has
    /// characters outside `[A-Za-z0-9_-]`, or when the whole id would exceed 64 characters.
    pub fn new(random_len: usize, prefix: &str, key: Option<&[u8]>) -> Result<Self, ConfigError> {
        if random_len < 16 {
            return Err(ConfigError::invalid(
                "sessionIDLength",
                format!("{random_len} is too short: session ids need at least 16 random bytes"),
            ));
        }
        if !prefix.is_empty() && !is_safe_id(prefix) {
            return Err(ConfigError::invalid(
                "sessionIDPrefix",
                format!("{prefix:?} may only contain ASCII letters, digits, `_` and `-`"),
            ));
        }
        let key = key.filter(|k| !k.is_empty()).map(<[u8]>::to_vec);
        let mut probe = [0u8; 1];
        getrandom::fill(&mut probe).map_err(|e| {
            ConfigError::invalid(
                "sessionIDLength",
                format!(
                    "the OS random number generator is unavailable, so no id can be minted: {e}"
                ),
            )
        })?;
        let total = prefix.len() + random_len * 2 + if key.is_some() { TAG_HEX_LEN } else { 0 };
        if total > MAX_ID_LEN {
            return Err(ConfigError::invalid(
                "sessionIDLength",
                format!(
                    "ids would be {total} characters (prefix {} + {} hex{}); the limit is {MAX_ID_LEN}: \
                     lower sessionIDLength or shorten sessionIDPrefix",
                    prefix.len(),
                    random_len * 2,
                    if key.is_some() { " + 16 tag" } else { "" }
                ),
            ));
        }
        Ok(IdPolicy {
            random_len,
            prefix: prefix.to_owned(),
            key,
        })
    }

    /// The length of every id this policy mints.
    pub fn id_len(&self) -> usize {
        self.prefix.len() + self.random_len * 2 + self.key.as_ref().map_or(0, |_| TAG_HEX_LEN)
    }

    /// Mints a fresh id from the thread's CSPRNG (`rand`'s `ThreadRng`: ChaCha12, seeded
    /// from the OS and reseeded from it periodically), so a new visitor costs no system
    /// call. (`IdPolicy::new` checks once that the OS generator works, so the seeding
    /// cannot fail later.)
    pub fn generate(&self) -> Result<String, Error> {
        use rand::RngCore;
        let mut random = [0u8; MAX_ID_LEN / 2];
        let random = &mut random[..self.random_len];
        rand::rng().fill_bytes(random);
        let mut id = String::with_capacity(self.id_len());
        id.push_str(&self.prefix);
        push_hex(&mut id, random);
        if let Some(key) = &self.key {
            let tag = self.mac(key, random).finalize().into_bytes();
            push_hex(&mut id, &tag[..TAG_HEX_LEN / 2]);
        }
        Ok(id)
    }

    /// Checks an id that came from a client. Only ids this policy could have minted pass:
    /// right prefix, right length, lowercase hex, and (with a key) a valid tag, compared in
    /// constant time.
    pub fn validate(&self, candidate: &str) -> bool {
        if candidate.len() != self.id_len() {
            return false;
        }
        let Some(body) = candidate.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        if !body.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return false;
        }
        let Some(key) = &self.key else {
            return true;
        };
        let (random_hex, tag_hex) = body.split_at(self.random_len * 2);
        let (Ok(random), Ok(tag)) = (hex::decode(random_hex), hex::decode(tag_hex)) else {
            return false;
        };
        self.mac(key, &random).verify_truncated_left(&tag).is_ok()
    }

    fn mac(&self, key: &[u8], random: &[u8]) -> Hmac<Sha1> {
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty-key MAC
        // rather than panic should that ever change.
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha1> as Mac>::new_from_slice(&[0]).expect("1-byte key"));
        mac.update(self.prefix.as_bytes());
        mac.update(random);
        mac
    }
}

/// Appends `bytes` as lowercase hex (through a stack buffer: no allocation).
fn push_hex(out: &mut String, bytes: &[u8]) {
    let mut buf = [0u8; MAX_ID_LEN];
    for chunk in bytes.chunks(MAX_ID_LEN / 2) {
        let hex = &mut buf[..chunk.len() * 2];
        if hex::encode_to_slice(chunk, hex).is_ok() {
            // Hex digits are ASCII.
            out.push_str(std::str::from_utf8(hex).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_hex_of_twice_the_length() {
        let p = IdPolicy::new(16, "", None).unwrap();
        let id = p.generate().unwrap();
        assert_eq!(id.len(), 32);
        assert!(p.validate(&id));
        assert_ne!(id, p.generate().unwrap());
    }

    #[test]
    fn prefix_and_tag_are_checked() {
        let p = IdPolicy::new(16, "app-", Some(b"secret")).unwrap();
        let id = p.generate().unwrap();
        assert!(id.starts_with("app-"));
        assert_eq!(id.len(), 4 + 32 + TAG_HEX_LEN);
        assert!(p.validate(&id));
        // Flip one character of the random part: the tag no longer matches.
        let mut forged = id.clone().into_bytes();
        forged[5] = if forged[5] == b'0' { b'1' } else { b'0' };
        assert!(!p.validate(std::str::from_utf8(&forged).unwrap()));
        // Another key never accepts it.
        let other = IdPolicy::new(16, "app-", Some(b"other")).unwrap();
        assert!(!other.validate(&id));
    }

    #[test]
    fn hostile_ids_are_rejected() {
        let p = IdPolicy::new(16, "", None).unwrap();
        for bad in [
            "",
            "a",
            "../../etc/passwd",
            &"a".repeat(10_000),
            &"A".repeat(32),
            &"g".repeat(32),
            "0123456789abcdef0123456789abcde\0",
        ] {
            assert!(!p.validate(bad), "{bad:?} passed");
        }
    }

    #[test]
    fn bad_policies_are_config_errors() {
        assert!(IdPolicy::new(8, "", None).is_err());
        assert!(IdPolicy::new(16, "../", None).is_err());
        assert!(IdPolicy::new(32, "", Some(b"k")).is_err());
        assert!(IdPolicy::new(32, "", None).is_ok());
    }
}
