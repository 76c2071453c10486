//! The cookie engine's open of a data-cookie value for a session id.
//!
//! Each input is used twice:
//! - as a cookie value (lossy UTF-8) opened for a fixed id: it must be rejected (no input
//!   can forge the tag), and the rejection must not panic;
//! - as the choices of a sealed session (id, body, expiry, nonce, which of two keys) and of
//!   a change to the sealed value: unchanged, it opens to exactly what was sealed (or is
//!   expired exactly when its expiry has passed); changed, it opens only if the change
//!   left the decoded bytes as they were, and never for another id, another key or a
//!   retired key.

use arbitrary::{Arbitrary, Result, Unstructured};
use session_cookie::fuzzing::{sealed_len, Keyring, NONCE_LEN};
use session_cookie::CookieConfig;
use session_core::SessionData;
use std::sync::OnceLock;

// Random secrets (base64 of 32 random bytes), as the engine requires.
const CURRENT: &str = "db56xFOagfGLP3BIWzBXyq0jXt8wiPgfcUzZaMhuarc=";
const OLD: &str = "F0OmNZr8KDoUX3W6IFzf0sWUCHs7UAGoTsj5VfIW6QA=";
const OTHER: &str = "VCA962r1xxOSONjIPq4XUO+B8/pNHjZCTBuvdjUcyBc=";

struct Rings {
    /// Current key first, old key second: what a rotated deployment runs.
    rotated: Keyring,
    /// Only the old key: a deployment before the rotation.
    old_only: Keyring,
    /// Only the current key: the old key retired.
    current_only: Keyring,
    /// A key nobody else has.
    other: Keyring,
}

fn rings() -> &'static Rings {
    static RINGS: OnceLock<Rings> = OnceLock::new();
    RINGS.get_or_init(|| {
        let ring = |keys: &[&str]| {
            Keyring::new(&CookieConfig::with_keys(keys).expect("valid keys")).expect("keyring")
        };
        Rings {
            rotated: ring(&[CURRENT, OLD]),
            old_only: ring(&[OLD]),
            current_only: ring(&[CURRENT]),
            other: ring(&[OTHER]),
        }
    })
}

/// A change to a sealed value.
#[derive(Debug, Arbitrary)]
enum Change {
    None,
    /// XOR one character with a byte (kept only when the result is still UTF-8).
    Flip(u16, u8),
    Truncate(u16),
    Append(String),
    Insert(u16, char),
}

#[derive(Debug, Arbitrary)]
struct Sealed {
    sid: String,
    body: Vec<u8>,
    expires_in: i32,
    now: u64,
    nonce: [u8; NONCE_LEN],
    with_old_key: bool,
    change: Change,
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let rings = rings();
    let now = 1_800_000_000_000;
    let text = String::from_utf8_lossy(data);
    if let Ok(opened) = rings
        .rotated
        .open("0123456789abcdef0123456789abcdef", &text, now)
    {
        panic!("an unsealed value opened: {opened:?}");
    }
    let _ = sealed_round_trip(&mut Unstructured::new(data));
}

fn sealed_round_trip(u: &mut Unstructured<'_>) -> Result<()> {
    let rings = rings();
    let input = Sealed::arbitrary(u)?;
    let now = input.now.min(u64::MAX / 2);
    let expires_at = now.saturating_add_signed(i64::from(input.expires_in));
    let sealer = if input.with_old_key {
        &rings.old_only
    } else {
        &rings.rotated
    };
    let value = sealer
        .seal(&input.sid, expires_at, &input.body, input.nonce)
        .expect("sealing never fails");
    assert_eq!(
        value.len(),
        sealed_len(input.body.len()),
        "predicted length"
    );
    let Some(changed) = apply(&value, &input.change) else {
        return Ok(());
    };
    let opened = rings.rotated.open(&input.sid, &changed, now);
    let same_bytes = decode(&changed).is_some_and(|raw| Some(raw) == decode(&value));
    if !same_bytes {
        assert!(
            opened.is_err(),
            "a changed value opened: {:?} -> {changed:?}",
            input.change
        );
        return Ok(());
    }
    if expires_at <= now {
        assert_eq!(opened, Err("expired"), "expiry not enforced");
        return Ok(());
    }
    let opened = opened.unwrap_or_else(|why| panic!("a sealed value did not open: {why}"));
    assert_eq!(opened.body, input.body);
    assert_eq!(opened.expires_at, expires_at);
    assert_eq!(opened.key_index, usize::from(input.with_old_key));
    // Bound to its id and its key.
    let other_sid = format!("{}x", input.sid);
    assert!(rings.rotated.open(&other_sid, &changed, now).is_err());
    assert!(rings.other.open(&input.sid, &changed, now).is_err());
    if input.with_old_key {
        assert!(rings.current_only.open(&input.sid, &changed, now).is_err());
    } else {
        assert!(rings.old_only.open(&input.sid, &changed, now).is_err());
    }
    // What opens is what the engine decodes next; it must not panic either.
    let _ = SessionData::decode_stored(&opened.body, "cookie", &input.sid);
    Ok(())
}

fn apply(value: &str, change: &Change) -> Option<String> {
    let mut bytes = value.as_bytes().to_vec();
    match change {
        Change::None => {}
        Change::Flip(at, mask) => {
            let at = usize::from(*at) % bytes.len().max(1);
            if let Some(b) = bytes.get_mut(at) {
                *b ^= mask;
            }
        }
        Change::Truncate(len) => bytes.truncate(usize::from(*len)),
        Change::Append(tail) => bytes.extend_from_slice(tail.as_bytes()),
        Change::Insert(at, c) => {
            let at = usize::from(*at) % (bytes.len() + 1);
            let mut buf = [0u8; 4];
            bytes.splice(at..at, c.encode_utf8(&mut buf).bytes());
        }
    }
    String::from_utf8(bytes).ok()
}

/// The bytes a value stands for, when it is canonical unpadded base64url.
fn decode(value: &str) -> Option<Vec<u8>> {
    // A small decoder (the engine's is the `base64` crate; this is the oracle).
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digits: Vec<u8> = value
        .bytes()
        .map(|b| ALPHABET.iter().position(|&a| a == b).map(|p| p as u8))
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for d in digits {
        acc = (acc << 6) | u32::from(d);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Canonical: the leftover bits are zero.
    (acc == 0).then_some(out)
}
