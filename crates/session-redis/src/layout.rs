//! How a session is laid out in Redis: one hash per session under `<prefix>{<id>}`, one
//! field per session key (`.` + the key, holding the value's MessagePack bytes) and a few
//! meta fields starting with `#` (see the crate docs for why a hash).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use session_core::id::Fingerprint;
use session_core::{Error, Expiry, Lifetime, Result, SessionData};

/// The layout version this build writes in [`VERSION`]. It continues the numbering of the
/// stored format of `session-core` (format 2: values as MessagePack, with creation time and
/// own expiry), so that a newer-format error reads the same for every engine.
pub(crate) const LAYOUT_VERSION: u8 = 2;

/// Layout version of the record.
pub(crate) const VERSION: &str = "#v";
/// Creation time, Unix milliseconds.
pub(crate) const CREATED: &str = "#c";
/// The session's own expiry: `i<ms>` (inactivity), `a<Unix ms>` (at), `s` (browser
/// session); absent for the manager's default.
pub(crate) const EXPIRY: &str = "#e";
/// The sliding part of the record's lifetime, milliseconds (absent: a fixed end).
#[allow(dead_code)] // written and read by the merge script
pub(crate) const IDLE: &str = "#i";
/// The hard end of the record's lifetime, Unix milliseconds (absent: none).
#[allow(dead_code)] // written and read by the merge script
pub(crate) const UNTIL: &str = "#u";
/// A counter every write increments: the record's version for compare-and-set.
pub(crate) const WRITES: &str = "#n";
/// When the key's TTL, as last set, ends (Unix ms): a read learns how long the session has
/// left without asking for the TTL.
pub(crate) const EXPIRES: &str = "#x";
/// What every value field starts with.
pub(crate) const VALUE_MARK: u8 = b'.';

/// The keys of one provider's sessions.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The hash of session `sid`. The id is the key's hash tag, so on a cluster the slot
    /// depends on the id alone and every key of one session shares it.
    pub(crate) fn session(&self, sid: &str) -> String {
        format!("{}{{{sid}}}", self.prefix)
    }

    /// Where a session sits while a cluster moves it to a new id (same slot as `sid`).
    pub(crate) fn moving(&self, sid: &str) -> String {
        format!("{}{{{sid}}}:moving", self.prefix)
    }

    /// The `SCAN … MATCH` pattern of every session key of this prefix.
    pub(crate) fn pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 3);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str("{*}");
        pattern
    }
}

/// The value field of session key `key`.
pub(crate) fn value_field(key: &str) -> Vec<u8> {
    let mut field = Vec::with_capacity(key.len() + 1);
    field.push(VALUE_MARK);
    field.extend_from_slice(key.as_bytes());
    field
}

pub(crate) fn to_unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The meta fields a write stores: `#e`, `#i`, `#u` (empty: remove) and `#c` (empty:
/// unknown), in that order.
pub(crate) fn meta_args(data: &SessionData, lifetime: &Lifetime) -> [String; 4] {
    let meta = data.meta();
    let expiry = match meta.expiry {
        None => String::new(),
        Some(Expiry::OnInactivity(idle)) => format!("i{}", millis(idle)),
        Some(Expiry::AtDateTime(at)) => format!("a{}", to_unix_millis(at)),
        Some(Expiry::OnSessionEnd) => "s".to_owned(),
    };
    let idle = lifetime
        .idle
        .map(|d| millis(d).to_string())
        .unwrap_or_default();
    let until = lifetime
        .until
        .map(|t| to_unix_millis(t).to_string())
        .unwrap_or_default();
    let created = meta
        .created
        .map(|t| to_unix_millis(t).to_string())
        .unwrap_or_default();
    [expiry, idle, until, created]
}

/// Why stored fields are not a session of this layout.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The key holds something other than a hash (a string written by beego, say).
    NotAHash,
    /// A field that must be there is missing or malformed.
    Field(&'static str),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::NotAHash => f.write_str("the key does not hold a hash"),
            Unreadable::Field(field) => write!(f, "field {field} is missing or malformed"),
        }
    }
}

/// A hash's fields as `(field, value)` pairs.
pub(crate) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A stored session as read: its data, its write counter, and when it ends (`None`:
/// unknown, as for a record read as empty).
pub(crate) struct Decoded {
    pub data: SessionData,
    pub writes: u64,
    pub expires: Option<SystemTime>,
}

/// Turns a record's fields back into a session, as `SessionData::decode_stored` does for
/// bytes: an unreadable record is logged and read as an empty session; a record of a newer
/// layout is [`Error::NewerFormat`] (the request fails and nothing is overwritten).
pub(crate) fn decode(
    fields: std::result::Result<Fields, Unreadable>,
    engine: &'static str,
    sid: &str,
) -> Result<Decoded> {
    match fields.map_err(Parse::from).and_then(parse_fields) {
        Ok(decoded) => Ok(decoded),
        Err(Parse::Newer(version)) => Err(Error::NewerFormat {
            engine: engine.into(),
            version,
        }),
        Err(Parse::Unreadable(why)) => {
            let session = Fingerprint::of(sid);
            tracing::error!(engine, %session, error = %why, "stored session is unreadable; treating it as empty");
            Ok(Decoded {
                data: SessionData::new(),
                writes: 0,
                expires: None,
            })
        }
    }
}

enum Parse {
    Newer(u8),
    Unreadable(Unreadable),
}

impl From<Unreadable> for Parse {
    fn from(why: Unreadable) -> Self {
        Parse::Unreadable(why)
    }
}

fn parse_fields(fields: Fields) -> std::result::Result<Decoded, Parse> {
    let mut data = SessionData::new();
    let (mut version, mut created, mut expiry, mut writes, mut expires) =
        (None, None, None, 0, None);
    for (field, value) in fields {
        if field.first() == Some(&VALUE_MARK) {
            let key = String::from_utf8(field[1..].to_vec())
                .map_err(|_| Unreadable::Field("(a key that is not UTF-8)"))?;
            data.insert(key, value);
            continue;
        }
        let text = std::str::from_utf8(&value).ok();
        let name = std::str::from_utf8(&field).unwrap_or_default();
        if name == VERSION {
            version = text.and_then(|t| t.parse::<u8>().ok());
        } else if name == CREATED {
            let ms = text.and_then(|t| t.parse::<u64>().ok());
            created = Some(ms.ok_or(Unreadable::Field(CREATED))?);
        } else if name == EXPIRY {
            expiry = Some(
                text.and_then(parse_expiry)
                    .ok_or(Unreadable::Field(EXPIRY))?,
            );
        } else if name == WRITES {
            writes = text.and_then(|t| t.parse().ok()).unwrap_or(0);
        } else if name == EXPIRES {
            expires = text
                .and_then(|t| t.parse::<u64>().ok())
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        }
        // IDLE and UNTIL are read by the scripts; unknown meta fields are ignored.
    }
    match version {
        Some(LAYOUT_VERSION) => {}
        Some(newer) if newer > LAYOUT_VERSION => return Err(Parse::Newer(newer)),
        _ => return Err(Unreadable::Field(VERSION).into()),
    }
    if let Some(ms) = created.filter(|ms| *ms > 0) {
        data.created_if_unknown(UNIX_EPOCH + Duration::from_millis(ms));
    }
    data.set_expiry(expiry.flatten());
    Ok(Decoded {
        data,
        writes,
        expires,
    })
}

/// `#e` back to an expiry; `Some(None)` for the empty value (the default).
fn parse_expiry(text: &str) -> Option<Option<Expiry>> {
    let number = |rest: &str| rest.parse::<u64>().ok().map(Duration::from_millis);
    match text.as_bytes().first() {
        None => Some(None),
        Some(b'i') => number(&text[1..]).map(|d| Some(Expiry::OnInactivity(d))),
        Some(b'a') => number(&text[1..]).map(|d| Some(Expiry::AtDateTime(UNIX_EPOCH + d))),
        Some(b's') if text.len() == 1 => Some(Some(Expiry::OnSessionEnd)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
        pairs
            .iter()
            .map(|(f, v)| (f.as_bytes().to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn keys_put_the_id_in_the_hash_tag() {
        let keys = Keys::new("app:*s[1]:");
        assert_eq!(keys.session("ab12"), "app:*s[1]:{ab12}");
        assert_eq!(keys.moving("ab12"), "app:*s[1]:{ab12}:moving");
        assert_eq!(keys.pattern(), r"app:\*s\[1\]:{*}");
    }

    #[test]
    fn meta_round_trips() {
        let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        for expiry in [
            None,
            Some(Expiry::OnSessionEnd),
            Some(Expiry::OnInactivity(Duration::from_millis(86_400_000))),
            Some(Expiry::AtDateTime(at)),
        ] {
            let mut data = SessionData::new();
            data.insert("user", vec![0xa1, b'x']);
            data.created_if_unknown(UNIX_EPOCH + Duration::from_millis(1_700_000_000_000));
            data.set_expiry(expiry);
            let [e, _, _, c] = meta_args(&data, &Lifetime::sliding(Duration::from_secs(1)));
            let stored = fields(&[
                ("#v", b"2"),
                ("#e", e.as_bytes()),
                ("#c", c.as_bytes()),
                (".user", &[0xa1, b'x']),
                ("#n", b"7"),
                ("#x", b"1800000000000"),
            ]);
            let back = decode(Ok(stored), "redis", "sid").unwrap();
            assert_eq!(back.data, data);
            assert_eq!(back.writes, 7);
            assert_eq!(
                back.expires,
                Some(UNIX_EPOCH + Duration::from_millis(1_800_000_000_000))
            );
        }
    }

    #[test]
    fn unreadable_records_read_as_empty_and_newer_ones_fail() {
        for junk in [
            fields(&[(".a", b"1")]),
            fields(&[("#v", b"junk"), (".a", b"1")]),
            fields(&[("#v", b"2"), ("#e", b"x9"), (".a", b"1")]),
            fields(&[("#v", b"1"), (".a", b"1")]),
        ] {
            assert!(decode(Ok(junk), "redis", "sid").unwrap().data.is_empty());
        }
        assert!(decode(Err(Unreadable::NotAHash), "redis", "sid")
            .unwrap()
            .data
            .is_empty());
        let newer = decode(Ok(fields(&[("#v", b"3")])), "redis", "sid")
            .err()
            .unwrap();
        assert!(
            matches!(newer, Error::NewerFormat { version: 3, .. }),
            "{newer}"
        );
    }
}
