//! Engine behaviour through a real `Manager` and a small cookie-jar client.

use std::time::Duration;

use session_core::conformance::Client;
use session_core::http::HeaderMap;
use session_core::{Error, Manager, ManagerConfig, ProviderInit, Session};

use crate::{CookieProvider, MAX_COOKIE_BYTES};

// `openssl rand -base64 32`
const KEY: &str = "C7hlP6O1t9ASRGY3gXIgD9NTvsghGGbBOVL0I2YT3Ac=";
const OLD: &str = "Fw3NWapu7bmpfvjUdMxEVkZ5SwVKOwFuZwnhhZlRzI0=";
/// A random beego pair: a securityKey and a 16-byte blockKey.
const SECURITY_KEY: &str = "h#9Lq2$Vx7!mR4pZ";
const BLOCK_KEY: &str = "FAlFzmpsIcYrScnL";

mod beego;

/// Drives a manager the way a browser would, with core's cookie-jar client.
trait Visit {
    async fn start(&self, m: &Manager) -> Session;
    async fn release(&mut self, s: &Session) -> Result<HeaderMap, Error>;
}

impl Visit for Client {
    async fn start(&self, m: &Manager) -> Session {
        m.session_start(&self.request("/")).await.unwrap()
    }

    async fn release(&mut self, s: &Session) -> Result<HeaderMap, Error> {
        let mut response = HeaderMap::new();
        s.release(&mut response).await?;
        self.absorb(&response);
        Ok(response)
    }
}

fn provider_config(keys: &[&str]) -> String {
    let list: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
    format!(r#"{{"keys":[{}],"cookieName":"sd"}}"#, list.join(","))
}

async fn manager_with(provider: String, lifetime: u64) -> Manager {
    let config = ManagerConfig::builder()
        .cookie_name("sid")
        .max_lifetime(Duration::from_secs(lifetime))
        .provider_config(provider)
        .build()
        .unwrap();
    Manager::new("cookie", config).await.unwrap()
}

async fn manager(keys: &[&str]) -> Manager {
    manager_with(provider_config(keys), 3600).await
}

#[tokio::test]
async fn round_trip_through_the_manager() {
    let m = manager(&[KEY]).await;
    assert_eq!(
        m.provider().capabilities(),
        session_core::Capabilities::NONE.client_side()
    );
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("n", &7u32).await.unwrap();
    client.release(&s).await.unwrap();
    assert!(client.cookies.contains_key("sid") && client.cookies.contains_key("sd"));
    let again = client.start(&m).await;
    assert_eq!(again.id(), s.id());
    assert_eq!(again.get::<u32>("n").await.unwrap(), Some(7));
    // A new visitor with nothing to remember gets no cookie at all.
    let mut fresh = Client::default();
    let s = fresh.start(&m).await;
    assert!(fresh.release(&s).await.unwrap().is_empty());
}

#[tokio::test]
async fn wrong_sid_garbage_and_oversized_cookies_read_as_no_session() {
    let m = manager(&[KEY]).await;
    let mut a = Client::default();
    let s = a.start(&m).await;
    s.set("who", "a").await.unwrap();
    a.release(&s).await.unwrap();
    let mut b = Client::default();
    let s = b.start(&m).await;
    s.set("who", "b").await.unwrap();
    b.release(&s).await.unwrap();

    // A's data cookie replayed under B's id does not open.
    let mut mixed = b.clone();
    mixed.cookies.insert("sd".into(), a.cookies["sd"].clone());
    let s = mixed.start(&m).await;
    assert!(s.is_new());
    assert_ne!(
        s.id(),
        b.cookies["sid"],
        "an unknown session id is never adopted"
    );
    assert_eq!(s.get::<String>("who").await.unwrap(), None);

    for junk in [
        "",
        "x",
        "%%%",
        "AAAA",
        &"A".repeat(MAX_COOKIE_BYTES + 1),
        &"Zm9v".repeat(300),
    ] {
        let mut c = a.clone();
        c.cookies.insert("sd".into(), junk.into());
        assert!(c.start(&m).await.is_new(), "{junk:?}");
    }
}

#[tokio::test]
async fn expired_cookies_read_as_no_session_and_touch_slides() {
    let m = manager_with(provider_config(&[KEY]), 1).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    client.release(&s).await.unwrap();
    // Touching (no changes) re-issues the cookie with a later expiry.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let s = client.start(&m).await;
        assert!(!s.is_new(), "touched session expired early");
        let response = client.release(&s).await.unwrap();
        assert!(response
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("sd=")));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(client.start(&m).await.is_new());
}

#[tokio::test]
async fn rotated_keys_keep_old_cookies_and_reseal_with_the_new_key() {
    let old = manager(&[OLD]).await;
    let mut client = Client::default();
    let s = client.start(&old).await;
    s.set("k", "v").await.unwrap();
    client.release(&s).await.unwrap();

    let rotated = manager(&[KEY, OLD]).await;
    let s = client.start(&rotated).await;
    assert_eq!(s.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    client.release(&s).await.unwrap();
    // Resealed under the new key: a manager that only knows the new key reads it.
    let new_only = manager(&[KEY]).await;
    assert!(!client.start(&new_only).await.is_new());
    assert!(client.start(&old).await.is_new());
}

#[tokio::test]
async fn too_large_is_an_error_and_writes_nothing() {
    let m = manager(&[KEY]).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("small", "x").await.unwrap();
    client.release(&s).await.unwrap();
    let before = client.cookies.clone();

    let s = client.start(&m).await;
    s.set("big", &"y".repeat(3000)).await.unwrap();
    let mut response = HeaderMap::new();
    match s.release(&mut response).await {
        Err(Error::TooLarge { size, limit, .. }) => assert!(size > limit && limit == 4096),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(response
        .get_all("set-cookie")
        .iter()
        .all(|v| !v.to_str().unwrap().starts_with("sd=")));
    assert_eq!(client.cookies, before);

    // Just under the limit still fits, and the header is within 4096 bytes.
    let s = client.start(&m).await;
    s.set("big", &"y".repeat(2800)).await.unwrap();
    let response = client.release(&s).await.unwrap();
    for v in response.get_all("set-cookie") {
        assert!(v.len() <= MAX_COOKIE_BYTES);
    }
}

#[tokio::test]
async fn flush_sends_a_removal_cookie() {
    let m = manager(&[KEY]).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    client.release(&s).await.unwrap();
    let s = client.start(&m).await;
    s.flush().await.unwrap();
    let response = client.release(&s).await.unwrap();
    let removal = response
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("sd="))
        .expect("a removal cookie");
    assert!(
        removal.contains("Max-Age=0") && removal.contains("Path=/"),
        "{removal}"
    );
    assert!(!client.cookies.contains_key("sd"));
    assert!(client.start(&m).await.is_new());
}

#[tokio::test]
async fn release_if_present_never_creates() {
    let m = manager(&[KEY]).await;
    let client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    let mut response = HeaderMap::new();
    s.release_if_present(&mut response).await.unwrap();
    assert!(response.is_empty());
}

#[tokio::test]
async fn regenerate_moves_the_data_to_the_new_id() {
    let m = manager(&[KEY]).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", "v").await.unwrap();
    client.release(&s).await.unwrap();
    let old_sid = client.cookies["sid"].clone();
    let old_data = client.cookies["sd"].clone();

    // Manager-level regenerate (reads the old cookie through the request context).
    let mut response = HeaderMap::new();
    let s = m
        .session_regenerate_id(&client.request("/"), &mut response)
        .await
        .unwrap();
    s.release(&mut response).await.unwrap();
    client.absorb(&response);
    assert_ne!(client.cookies["sid"], old_sid);
    assert_ne!(client.cookies["sd"], old_data);
    let again = client.start(&m).await;
    assert_eq!(again.get::<String>("v").await.unwrap(), None);
    assert_eq!(
        again.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );

    // Session-level regenerate.
    again.regenerate().await.unwrap();
    client.release(&again).await.unwrap();
    let third = client.start(&m).await;
    assert_eq!(third.id(), again.id());
    assert_eq!(
        third.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );

    // The old pair no longer matches: the old data cookie is bound to the old id.
    let mut stale = client.clone();
    stale.cookies.insert("sd".into(), old_data);
    assert!(stale.start(&m).await.is_new());
}

#[tokio::test]
async fn destroy_ends_the_session_and_counting_is_unsupported() {
    let m = manager(&[KEY]).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    client.release(&s).await.unwrap();
    let s = client.start(&m).await;
    s.destroy().await.unwrap();
    client.release(&s).await.unwrap();
    assert!(!client.cookies.contains_key("sid"));
    assert!(client.start(&m).await.is_new());
    assert!(matches!(
        m.get_active_session().await,
        Err(Error::Unsupported { .. })
    ));
    m.gc().await.unwrap();
}

#[tokio::test]
async fn construction_errors_are_config_errors() {
    for provider in [
        String::new(),
        r#"{"keys":["short"]}"#.to_owned(),
        format!(r#"{{"securityKey":"beegocookiehashkey","blockKey":"{BLOCK_KEY}"}}"#),
        format!(r#"{{"keys":["{KEY}"],"cookieName":"no spaces"}}"#),
    ] {
        let config = ManagerConfig::builder()
            .cookie_name("sid")
            .provider_config(provider.clone())
            .build()
            .unwrap();
        let e = Manager::new("cookie", config).await.unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{provider}: {e}");
        assert!(!e.to_string().contains(KEY), "{e}");
        assert!(!e.to_string().contains(BLOCK_KEY), "{e}");
    }
}

#[tokio::test]
async fn random_cookie_values_never_panic() {
    let m = manager(&[KEY]).await;
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    client.release(&s).await.unwrap();
    let good = client.cookies["sd"].clone();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..400 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut value = good.clone().into_bytes();
        if round % 2 == 0 {
            // Mutate one character of a real cookie.
            let i = (state as usize) % value.len();
            let c = alphabet[(state >> 32) as usize % alphabet.len()];
            if value[i] == c {
                continue;
            }
            value[i] = c;
        } else {
            let len = (state % 6000) as usize;
            value = (0..len)
                .map(|i| alphabet[(state as usize).wrapping_add(i * 7) % alphabet.len()])
                .collect();
        }
        let mut c = client.clone();
        c.cookies
            .insert("sd".into(), String::from_utf8(value).unwrap());
        assert!(c.start(&m).await.is_new(), "round {round}");
    }
}

#[tokio::test]
async fn size_limit_is_exact_at_the_boundary() {
    let m = manager(&[KEY]).await;
    let mut last_ok = None;
    let mut first_err = None;
    for n in 2900..3100 {
        let client = Client::default();
        let s = client.start(&m).await;
        s.set("v", &"z".repeat(n)).await.unwrap();
        let mut response = HeaderMap::new();
        match s.release(&mut response).await {
            Ok(_) => {
                assert!(
                    first_err.is_none(),
                    "{n} fits after a smaller session did not"
                );
                let data = response
                    .get_all("set-cookie")
                    .iter()
                    .find(|v| v.to_str().unwrap().starts_with("sd="))
                    .unwrap()
                    .len();
                assert!(data <= MAX_COOKIE_BYTES);
                last_ok = Some(data);
            }
            Err(Error::TooLarge { size, .. }) => {
                assert!(response.is_empty());
                first_err.get_or_insert(size);
            }
            Err(other) => panic!("{other}"),
        }
    }
    let (ok, err) = (last_ok.unwrap(), first_err.unwrap());
    // One more byte of session grows the base64 value by one or two characters: the size
    // reported without encrypting is the header that would have been sent.
    assert!(
        err > MAX_COOKIE_BYTES && (1..=2).contains(&(err - ok)),
        "{ok} then {err}"
    );
}

#[test]
fn debug_output_hides_keys() {
    let manager = ManagerConfig {
        provider_config: provider_config(&[KEY, OLD]),
        max_lifetime: 60,
        ..ManagerConfig::default()
    };
    let init = ProviderInit::new("cookie", &manager);
    let p = CookieProvider::from_init(&init).unwrap();
    let text = format!("{p:?}");
    assert!(
        text.contains("redacted") && !text.contains("secret"),
        "{text}"
    );
}
