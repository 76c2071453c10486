use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::*;

/// Random keys (`openssl rand -base64 32`, and 40 generated characters used as text).
const K1: &str = "Fw3NWapu7bmpfvjUdMxEVkZ5SwVKOwFuZwnhhZlRzI0=";
const K2: &str = "OFr2YnbpUgyZe6v1Kk7Be7BrvACYNge1uAH1lb47";
/// A random beego pair: a securityKey and a 16-byte blockKey (AES-128 in beego).
const SECURITY_KEY: &str = "h#9Lq2$Vx7!mR4pZ";
const BLOCK_KEY: &str = "FAlFzmpsIcYrScnL";

#[test]
fn own_form_keeps_key_order_and_decodes_base64() {
    let c =
        CookieConfig::parse(&format!(r#"{{"keys":["{K1}","{K2}"],"cookieName":"sd"}}"#)).unwrap();
    assert_eq!(
        c.keys,
        vec![STANDARD.decode(K1).unwrap(), K2.as_bytes().to_vec()]
    );
    assert_eq!(c.keys[0].len(), 32);
    assert_eq!(c.cookie_name.as_deref(), Some("sd"));
    assert_eq!((c.secure, c.max_age), (false, None));
}

#[test]
fn beego_form_is_mapped_case_insensitively() {
    let c = CookieConfig::parse(&format!(
        r#"{{"CookieName":"gosessionid","securitykey":"{SECURITY_KEY}",
            "BLOCKKEY":"{BLOCK_KEY}","securityName":"beegoapp","secure":true,"MaxAge":3600}}"#
    ))
    .unwrap();
    assert_eq!(c.cookie_name.as_deref(), Some("gosessionid"));
    assert_eq!(
        c.keys,
        vec![format!("{SECURITY_KEY}{BLOCK_KEY}").into_bytes()]
    );
    assert_eq!(c.security_name, "beegoapp");
    assert!(c.secure);
    assert_eq!(c.max_age, Some(3600));
    // The documented move to rotation: the pair, joined, as an entry of `keys`.
    let joined =
        CookieConfig::parse(&format!(r#"{{"keys":["{SECURITY_KEY}{BLOCK_KEY}"]}}"#)).unwrap();
    assert_eq!(joined.keys, c.keys);
}

#[test]
fn beegos_published_example_key_is_refused() {
    for (json, field) in [
        (
            format!(
                r#"{{"cookieName":"gosessionid","securityKey":"beegocookiehashkey","blockKey":"{BLOCK_KEY}"}}"#
            ),
            "securityKey + blockKey",
        ),
        (
            r#"{"keys":["beegocookiehashkey0123456789abcdef"]}"#.to_owned(),
            "keys[0]",
        ),
        (
            format!(r#"{{"keys":["{K1}","0123456789abcdef0123456789abcdef"]}}"#),
            "keys[1]",
        ),
    ] {
        let e = CookieConfig::parse(&json).unwrap_err().to_string();
        assert!(
            e.contains(&format!("`{field}` does not look random")),
            "{e}"
        );
        assert!(e.contains("openssl rand -base64 32"), "{e}");
        assert!(
            !e.contains("beegocookiehashkey") && !e.contains("0123"),
            "{e}"
        );
    }
}

#[test]
fn missing_and_short_keys_are_errors() {
    for (json, needle) in [
        ("", "empty"),
        ("{}", "no key"),
        (r#"{"keys":[]}"#, "empty"),
        (r#"{"keys":["short"]}"#, "keys[0]` is 5 bytes"),
        (&format!(r#"{{"keys":["{K1}","short"]}}"#), "keys[1]"),
        (r#"{"securityKey":"a"}"#, "blockKey` is missing"),
        (r#"{"blockKey":"a"}"#, "securityKey` is missing"),
        (
            r#"{"securityKey":"tooshort","blockKey":"alsoshort"}"#,
            "securityKey + blockKey",
        ),
        (
            &format!(r#"{{"securityKey":"","blockKey":"{K2}"}}"#),
            "non-empty",
        ),
    ] {
        let e = CookieConfig::parse(json).unwrap_err();
        assert!(matches!(e, ConfigError::Provider { .. }), "{json}: {e:?}");
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
    assert!(CookieConfig::with_keys(Vec::<&str>::new()).is_err());
    assert!(CookieConfig::with_keys(["x".repeat(31)]).is_err());
    assert_eq!(CookieConfig::with_keys([K1, K2]).unwrap().key_count(), 2);
    // The typed constructor reads keys exactly as providerConfig does.
    assert_eq!(
        CookieConfig::with_keys([K1]).unwrap().keys,
        vec![STANDARD.decode(K1).unwrap()]
    );
}

#[test]
fn bad_fields_are_named_and_secrets_never_shown() {
    // Random, and marked so that an echo would be seen.
    let secret = "Zq8TOPSECRETvN3kW1r7Xy5Lm0Hb9Gd2Jf4";
    for (json, needle) in [
        (
            format!(r#"{{"keys":["{secret}"],"cookeName":"x"}}"#),
            "cookeName",
        ),
        (format!(r#"{{"keys":"{secret}"}}"#), "`keys` must be a list"),
        (
            r#"{"keys":[12345678901234567890123456789012345]}"#.to_owned(),
            "keys[0]` must be a string",
        ),
        (format!(r#"{{"keys":["{secret}"],"maxage":-1}}"#), "maxage"),
        (
            format!(r#"{{"keys":["{secret}"],"maxage":"1h"}}"#),
            "maxage",
        ),
        (
            format!(r#"{{"keys":["{secret}"],"secure":"yes"}}"#),
            "secure",
        ),
        (
            format!(r#"{{"keys":["{secret}"],"cookieName":5}}"#),
            "cookieName",
        ),
        (
            format!(r#"{{"keys":["{secret}"],"securityKey":"{secret}"}}"#),
            "not both",
        ),
        (format!(r#"{{"keys":["{secret}""#), "JSON"),
        (format!(r#"["{secret}"]"#), "JSON object"),
        (format!(r#""{secret}""#), "JSON object"),
        // Refused for containing a word: still not echoed.
        (
            format!(r#"{{"keys":["{secret}"]}}"#),
            "does not look random",
        ),
    ] {
        let e = CookieConfig::parse(&json).unwrap_err().to_string();
        assert!(e.contains(needle), "{json}: {e}");
        assert!(!e.contains("TOPSECRET"), "{e}");
        assert!(!e.contains("1234567890"), "{e}");
    }
    let c = CookieConfig::parse(&format!(r#"{{"keys":["{K2}"]}}"#)).unwrap();
    let debug = format!("{c:?}");
    assert!(
        !debug.contains(K2) && !debug.contains("OFr2") && debug.contains("redacted"),
        "{debug}"
    );
}
