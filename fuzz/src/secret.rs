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

/// True when `text` holds the marker, as it is or as a parser may turn it into the
/// marker: compared case-insensitively (a parser may lowercase), and also with tabs and
/// line breaks removed (URL parsers drop them anywhere) and percent escapes decoded.
///
/// The same test guards both sides: text generated around a password must not hold the
/// marker even once a parser has cleaned it up (CI's fuzz run found `s\r\recretpw` in a
/// host, which a URL parser reads as `secretpw`), and what the engine shows must not
/// hold it in any of these spellings.
pub fn holds_mark(text: &str) -> bool {
    let mark = MARK.to_ascii_lowercase();
    text.to_ascii_lowercase().contains(&mark) || cleaned(text).contains(&mark)
}

/// `text` lowercased, without tabs and line breaks, with percent escapes decoded (lossy).
///
/// Written here rather than calling session-core's decoder: the oracle must not share a bug
/// with the code it checks, and it decodes lossily where core refuses non-UTF-8.
fn cleaned(text: &str) -> String {
    let kept: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\r' | b'\n'))
        .collect();
    let mut decoded = Vec::with_capacity(kept.len());
    let mut i = 0;
    while i < kept.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            kept[i],
            kept.get(i + 1).copied().and_then(hex),
            kept.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).to_ascii_lowercase()
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
    Ok(if holds_mark(&text) {
        String::new()
    } else {
        text
    })
}

/// [`surrounding`] without `chars` (which would change where the password sits).
pub fn surrounding_without(u: &mut Unstructured<'_>, chars: &[char]) -> Result<String> {
    let text = surrounding(u)?.replace(chars, "");
    // Removing characters can join two halves of the marker.
    Ok(if holds_mark(&text) {
        String::new()
    } else {
        text
    })
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
    Ok(if holds_mark(&text) {
        String::new()
    } else {
        text
    })
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
        // What a URL parser or a percent decoder turns into the marker holds it too.
        assert!(holds_mark("wwG\r\r0\u{ffff}s\r\recretpw"));
        assert!(holds_mark("%53ECRET%70w"));
        assert!(!holds_mark("secret pw"));
    }
}
