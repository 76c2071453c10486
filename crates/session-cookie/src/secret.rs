//! From a configured secret to key material: base64 and hex are decoded, and secrets that
//! do not look random are refused.
//!
//! The keys are stretched with HKDF, which is fast by design and no password hash: a
//! captured cookie lets an attacker test guesses at the secret offline, as fast as they can
//! compute HKDF. So the secret itself must be unguessable, i.e. random bytes. The checks
//! below cannot prove randomness; they refuse what is clearly not random, cheaply and
//! without false alarms on real random keys:
//!
//! - fewer than [`MIN_KEY_BYTES`] bytes (after decoding);
//! - a published example (beego's `beegocookiehashkey` and friends) or a common word such
//!   as "secret" or "password" anywhere in it, in any case;
//! - few distinct bytes, or a shorter pattern repeated;
//! - a conservative entropy estimate under 128 bits, where a character costs what guessing
//!   it from its alphabet costs, except that a repeat of the previous one, the next or
//!   previous one in a counting or alphabet sequence, and a common English letter pair cost
//!   one bit each. Words, sequences and keyboard-mashed repeats fall far short; 32 random
//!   bytes, or 40+ characters from a password generator, clear it with a wide margin.

use std::collections::HashSet;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::config::MIN_KEY_BYTES;

/// How to make a good secret: every refusal says it.
pub(crate) const HOW_TO_MAKE_ONE: &str = "make one with `openssl rand -base64 32` (secrets \
     given as base64 or hex are decoded; otherwise the text's bytes are the key)";

/// Bits a secret must be estimated to hold.
const MIN_BITS: f64 = 128.0;

/// Fragments (lowercase, letters and digits only) that no random secret contains: the
/// example keys of beego's documentation and tests, and the words people put in keys.
const KNOWN_FRAGMENTS: &[&str] = &[
    "beegocookiehashkey",
    "beegosessionkey",
    "testhashkey",
    "beegosecret",
    "secretpassword",
    "secret",
    "password",
    "passwd",
    "changeme",
    "example",
    "sample",
    "default",
    "qwerty",
];

/// Common English letter pairs: a same-case pair among them counts as part of a word.
const COMMON_PAIRS: &[&str] = &[
    "ab", "ac", "ad", "ag", "ai", "al", "am", "an", "ap", "ar", "as", "at", "av", "ay", "ba", "be",
    "bl", "bo", "bu", "by", "ca", "ce", "ch", "ci", "ck", "co", "ct", "de", "di", "do", "ea", "ec",
    "ed", "ee", "ei", "el", "em", "en", "ep", "er", "es", "et", "ev", "ex", "ey", "fe", "fi", "fo",
    "fr", "ge", "gh", "go", "gr", "ha", "he", "hi", "ho", "ia", "ic", "id", "ie", "if", "ig", "il",
    "im", "in", "io", "ir", "is", "it", "iv", "ke", "ki", "la", "ld", "le", "li", "ll", "lo", "ly",
    "ma", "me", "mi", "mo", "mp", "na", "nc", "nd", "ne", "ng", "ni", "no", "ns", "nt", "od", "of",
    "ok", "ol", "om", "on", "oo", "op", "or", "os", "ot", "ou", "ov", "ow", "pa", "pe", "pl", "po",
    "pr", "ra", "rd", "re", "ri", "ro", "rs", "rt", "ry", "sa", "se", "sh", "si", "so", "sp", "ss",
    "st", "su", "ta", "te", "th", "ti", "to", "tr", "ts", "tu", "ty", "uc", "ul", "un", "ur", "us",
    "ut", "ve", "vi", "wa", "we", "wh", "wi", "wo",
];

/// Why a secret was refused. Never carries any of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weakness {
    /// Shorter than [`MIN_KEY_BYTES`] (this many bytes).
    TooShort(usize),
    KnownFragment,
    FewDistinct,
    Repeating,
    Predictable,
}

impl Weakness {
    fn reason(self) -> &'static str {
        match self {
            Weakness::TooShort(_) => "it is too short",
            Weakness::KnownFragment => {
                "it contains a published example key (such as those in beego's documentation) \
                 or a common word such as \"secret\" or \"password\""
            }
            Weakness::FewDistinct => "it uses too few distinct characters",
            Weakness::Repeating => "it repeats a shorter pattern",
            Weakness::Predictable => {
                "it reads like words, a counting or alphabet sequence, or repeated characters"
            }
        }
    }

    /// The refusal for the configured field `field` (e.g. `keys[0]`).
    pub(crate) fn message(self, field: &str) -> String {
        match self {
            Weakness::TooShort(len) => format!(
                "`{field}` is {len} bytes; secrets must be at least {MIN_KEY_BYTES} random \
                 bytes: {HOW_TO_MAKE_ONE}"
            ),
            other => format!(
                "`{field}` does not look random: {}; a secret must be {MIN_KEY_BYTES} or more \
                 random bytes: {HOW_TO_MAKE_ONE}",
                other.reason()
            ),
        }
    }
}

/// The key material of a configured secret: the decoded bytes when it is base64 or hex of
/// [`MIN_KEY_BYTES`] or more, else its bytes as given; refused when it does not look random.
pub(crate) fn key_material(secret: &[u8]) -> Result<Vec<u8>, Weakness> {
    if contains_known_fragment(secret) {
        return Err(Weakness::KnownFragment);
    }
    let key = decode(secret).unwrap_or_else(|| secret.to_vec());
    if let Some(weakness) = weakness(&key) {
        return Err(weakness);
    }
    Ok(key)
}

/// Hex first (every hex string is also base64), then base64 in either alphabet, padded or
/// not; `None` when it is neither or decodes to fewer than [`MIN_KEY_BYTES`].
fn decode(secret: &[u8]) -> Option<Vec<u8>> {
    let decoded = if secret.len() % 2 == 0 && secret.iter().all(u8::is_ascii_hexdigit) {
        hex::decode(secret).ok()
    } else {
        let config =
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        let url_safe = secret.iter().any(|&b| b == b'-' || b == b'_');
        let alphabet = if url_safe {
            &alphabet::URL_SAFE
        } else {
            &alphabet::STANDARD
        };
        GeneralPurpose::new(alphabet, config).decode(secret).ok()
    };
    decoded.filter(|bytes| bytes.len() >= MIN_KEY_BYTES)
}

/// What is wrong with `key` (the bytes the keys are derived from), if anything.
fn weakness(key: &[u8]) -> Option<Weakness> {
    if key.len() < MIN_KEY_BYTES {
        return Some(Weakness::TooShort(key.len()));
    }
    // Decoded bytes that are text are judged as the text they are.
    if contains_known_fragment(key) {
        return Some(Weakness::KnownFragment);
    }
    let units = units(key);
    let distinct: HashSet<u32> = units.iter().copied().collect();
    // A quarter of what was possible: random keys come nowhere near it (32 random
    // characters from 62 have about 25 distinct ones), repeated keyboard mashing does.
    if distinct.len() * 4 < units.len().min(64) {
        return Some(Weakness::FewDistinct);
    }
    if has_short_period(&units) {
        return Some(Weakness::Repeating);
    }
    if estimated_bits(&units, key) < MIN_BITS {
        return Some(Weakness::Predictable);
    }
    None
}

/// The characters of `key` when it is text, otherwise its bytes.
fn units(key: &[u8]) -> Vec<u32> {
    match std::str::from_utf8(key) {
        Ok(text) if is_text(text) => text.chars().map(u32::from).collect(),
        _ => key.iter().map(|&b| u32::from(b)).collect(),
    }
}

fn is_text(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// True when the whole key is a shorter block repeated (possibly cut short at the end).
fn has_short_period(units: &[u32]) -> bool {
    // Keys are short; looking at the first kilobyte bounds the work for absurd ones.
    let units = &units[..units.len().min(1024)];
    (1..=units.len() / 2).any(|p| units.iter().zip(&units[p..]).all(|(a, b)| a == b))
}

fn contains_known_fragment(bytes: &[u8]) -> bool {
    let folded: String = bytes
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect();
    KNOWN_FRAGMENTS.iter().any(|f| folded.contains(f))
}

/// A conservative estimate of the bits in `key` (see the module docs).
fn estimated_bits(units: &[u32], key: &[u8]) -> f64 {
    let text = std::str::from_utf8(key).is_ok_and(is_text);
    let full = if text {
        alphabet_size(units).log2()
    } else {
        8.0
    };
    let mut bits = 0.0;
    for (i, &unit) in units.iter().enumerate() {
        let predictable = i > 0 && {
            let prev = units[i - 1];
            prev.abs_diff(unit) <= 1 || (text && common_pair(prev, unit))
        };
        bits += if predictable { 1.0 } else { full };
    }
    bits
}

/// The size of the alphabet a guesser would try: every class the text uses, in full.
fn alphabet_size(units: &[u32]) -> f64 {
    let class = |u: u32| match char::from_u32(u) {
        Some(c) if c.is_ascii_lowercase() => 0,
        Some(c) if c.is_ascii_uppercase() => 1,
        Some(c) if c.is_ascii_digit() => 2,
        Some(c) if c.is_ascii() => 3,
        _ => 4,
    };
    const SIZES: [f64; 5] = [26.0, 26.0, 10.0, 33.0, 100.0];
    let mut used = [false; 5];
    for &u in units {
        used[class(u)] = true;
    }
    used.iter()
        .zip(SIZES)
        .filter(|(u, _)| **u)
        .map(|(_, s)| s)
        .sum()
}

/// Two letters of the same case that often follow each other in English.
fn common_pair(a: u32, b: u32) -> bool {
    let (Some(a), Some(b)) = (char::from_u32(a), char::from_u32(b)) else {
        return false;
    };
    let same_case = (a.is_ascii_lowercase() && b.is_ascii_lowercase())
        || (a.is_ascii_uppercase() && b.is_ascii_uppercase());
    if !same_case {
        return false;
    }
    let pair = [a.to_ascii_lowercase() as u8, b.to_ascii_lowercase() as u8];
    COMMON_PAIRS.iter().any(|p| p.as_bytes() == pair)
}

#[cfg(test)]
mod tests;
