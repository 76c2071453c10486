use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::*;

/// `openssl rand -base64 32`.
const B64: &str = "C7hlP6O1t9ASRGY3gXIgD9NTvsghGGbBOVL0I2YT3Ac=";
/// `openssl rand -hex 32`.
const HEX: &str = "5fa9f7bb099f22c47a8a3ade7f6c8082ab5c20bb207eea69e11f6b381ab4e711";
/// 40 characters from a password generator (letters and digits): used as text.
const GENERATED: &str = "OFr2YnbpUgyZe6v1Kk7Be7BrvACYNge1uAH1lb47";

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

#[test]
fn base64_and_hex_of_random_bytes_are_decoded() {
    assert_eq!(
        key_material(B64.as_bytes()).unwrap(),
        STANDARD.decode(B64).unwrap()
    );
    assert_eq!(
        key_material(HEX.as_bytes()).unwrap(),
        hex::decode(HEX).unwrap()
    );
    // The same 32 bytes in every spelling give the same key.
    let bytes = random_bytes(32);
    for spelling in [
        STANDARD.encode(&bytes),
        STANDARD.encode(&bytes).trim_end_matches('=').to_owned(),
        URL_SAFE_NO_PAD.encode(&bytes),
        hex::encode(&bytes),
        hex::encode_upper(&bytes),
    ] {
        assert_eq!(
            key_material(spelling.as_bytes()).unwrap(),
            bytes,
            "{spelling}"
        );
    }
}

#[test]
fn random_text_is_used_as_given() {
    assert_eq!(
        key_material(GENERATED.as_bytes()).unwrap(),
        GENERATED.as_bytes()
    );
    // Base64 of fewer than 32 bytes is no base64 key: it is 32 characters of random text.
    let short = STANDARD.encode(random_bytes(24));
    assert_eq!(key_material(short.as_bytes()).unwrap(), short.as_bytes());
}

#[test]
fn random_keys_pass_every_time() {
    // No false alarms: thousands of fresh random keys in the forms people use.
    let letters: Vec<u8> = (b'a'..=b'z')
        .chain(b'A'..=b'Z')
        .chain(b'0'..=b'9')
        .collect();
    for _ in 0..2000 {
        let bytes = random_bytes(32);
        assert!(key_material(&bytes).is_ok(), "raw bytes refused");
        assert!(key_material(STANDARD.encode(&bytes).as_bytes()).is_ok());
        assert!(key_material(hex::encode(&bytes).as_bytes()).is_ok());
        let text: Vec<u8> = random_bytes(40)
            .iter()
            .map(|b| letters[usize::from(*b) % letters.len()])
            .collect();
        assert!(
            key_material(&text).is_ok(),
            "generated text refused: {}",
            String::from_utf8_lossy(&text)
        );
    }
}

#[test]
fn weak_keys_are_refused_with_the_reason() {
    let beego_block = "FAlFzmpsIcYrScnL";
    for (key, why) in [
        // beego's published example, with a random block key as beego users pair it.
        (
            format!("beegocookiehashkey{beego_block}"),
            Weakness::KnownFragment,
        ),
        (
            "beegocookiehashkey0123456789abcdef".into(),
            Weakness::KnownFragment,
        ),
        (
            "BeegoSessionKey-BeegoSessionKey-x".into(),
            Weakness::KnownFragment,
        ),
        (
            "testhashKey-and-some-more-characters".into(),
            Weakness::KnownFragment,
        ),
        (
            "my application's cookie secret 2024".into(),
            Weakness::KnownFragment,
        ),
        (
            "Password1Password2Password3Password4".into(),
            Weakness::KnownFragment,
        ),
        (
            "qwertyuiopasdfghjklzxcvbnm1234567890".into(),
            Weakness::KnownFragment,
        ),
        // Base64 of a weak text is judged as that text.
        (
            STANDARD.encode("beegocookiehashkey0123456789abcdef"),
            Weakness::KnownFragment,
        ),
        ("a".repeat(40), Weakness::FewDistinct),
        (
            "abababababababababababababababababab".into(),
            Weakness::FewDistinct,
        ),
        (
            "0123456789abcdef0123456789abcdef".into(),
            Weakness::Repeating,
        ),
        (
            format!("{beego_block}{beego_block}{beego_block}"),
            Weakness::Repeating,
        ),
        (
            "abcdefghijklmnopqrstuvwxyz0123456789".into(),
            Weakness::Predictable,
        ),
        (
            "ilovemycatandmydogtheyarethebestpets".into(),
            Weakness::Predictable,
        ),
        (
            "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQ".into(),
            Weakness::Predictable,
        ),
        ("short".into(), Weakness::TooShort(5)),
        // Base64 of 16 random bytes is 24 characters of text: too short.
        (STANDARD.encode(random_bytes(16)), Weakness::TooShort(24)),
    ] {
        assert_eq!(key_material(key.as_bytes()), Err(why), "{key}");
    }
    // Bytes that count up are no key either.
    let counting: Vec<u8> = (0..64).collect();
    assert_eq!(key_material(&counting), Err(Weakness::Predictable));
}

#[test]
fn messages_say_how_to_make_a_key_and_never_quote_it() {
    for weakness in [
        Weakness::TooShort(5),
        Weakness::KnownFragment,
        Weakness::FewDistinct,
        Weakness::Repeating,
        Weakness::Predictable,
    ] {
        let message = weakness.message("keys[0]");
        assert!(message.contains("`keys[0]`"), "{message}");
        assert!(message.contains("openssl rand -base64 32"), "{message}");
    }
}
