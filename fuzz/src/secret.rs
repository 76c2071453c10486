//! Passwords in known places: a marker that must never come back out.
//!
//! A generated password is `<fragment>SECRETPW<fragment>SECRETPW<fragment>`, the fragments
//! drawn from characters that confuse parsers (`@ : / ? # & ; = ' " \ %`, spaces, brackets).
//! The marker appears twice so that wherever a confused parser splits the password, the
//! part it might quote still holds one. A message that contains the marker, in any case,
//! quotes the password.

use arbitrary::{Result, Unstructured};

/// The marker inside every generated password.
pub const MARK: &str = "SECRETPW";

/// Characters that mean something to URL, DSN, key-value, JSON or ini parsers.
const TRICKY: &[char] = &[
    '@', ':', '/', '?', '#', '&', ';', '=', '%', '\'', '"', '\\', ' ', '\t', '(', ')', '[', ']',
    '{', '}', ',', '+', '.', '$', '|', '\n', '\r', '\0',
];

/// True when `text` holds the marker (compared case-insensitively: a parser may have
/// lowercased it).
pub fn holds_mark(text: &str) -> bool {
    text.to_ascii_lowercase().contains(&MARK.to_ascii_lowercase())
}

/// Panics (a fuzzing crash) when `shown` holds the marker.
pub fn assert_hidden(what: &str, shown: &str, input: &str) {
    assert!(
        !holds_mark(shown),
        "{what} shows the password: {shown:?}\n(input: {input:?})"
    );
}

/// A short string of mostly tricky characters, plus letters and anything else.
pub fn fragment(u: &mut Unstructured<'_>) -> Result<String> {
    let len = u.int_in_range(0..=6)?;
    let mut out = String::new();
    for _ in 0..len {
        let c = match u.int_in_range(0..=3)? {
            0 | 1 => *u.choose(TRICKY)?,
            2 => *u.choose(&['a', 'Z', '0', '9', '_', '-'])?,
            _ => u.arbitrary::<char>()?,
        };
        out.push(c);
    }
    Ok(out)
}

/// A fragment that does not hold the marker (the parts around a password may hold
/// anything but the password).
pub fn plain_fragment(u: &mut Unstructured<'_>) -> Result<String> {
    let text = fragment(u)?;
    Ok(if holds_mark(&text) { String::new() } else { text })
}

/// [`surrounding`] without `chars` (which would change where the password sits).
pub fn surrounding_without(u: &mut Unstructured<'_>, chars: &[char]) -> Result<String> {
    let text = surrounding(u)?.replace(chars, "");
    // Removing characters can join two halves of the marker.
    Ok(if holds_mark(&text) { String::new() } else { text })
}

/// A password holding the marker twice.
pub fn password(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(format!(
        "{}{MARK}{}{MARK}{}",
        plain_fragment(u)?,
        plain_fragment(u)?,
        plain_fragment(u)?
    ))
}

/// Text from the fuzzer's bytes for the parts around a password: either a fragment or
/// a (lossy) run of the input.
pub fn surrounding(u: &mut Unstructured<'_>) -> Result<String> {
    let text = if u.arbitrary::<bool>()? {
        fragment(u)?
    } else {
        let len = u.int_in_range(0..=24)?;
        String::from_utf8_lossy(u.bytes(len.min(u.len()))?).into_owned()
    };
    Ok(if holds_mark(&text) { String::new() } else { text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hold_the_mark_and_fragments_do_not() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let mut u = Unstructured::new(&bytes);
        for _ in 0..100 {
            assert!(holds_mark(&password(&mut u).unwrap()));
            assert!(!holds_mark(&plain_fragment(&mut u).unwrap()));
            assert!(!holds_mark(&surrounding(&mut u).unwrap()));
        }
        assert!(holds_mark("x secretpw y"));
    }
}
