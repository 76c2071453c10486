//! beego's own configurations of this engine, and keys given as base64 or hex.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::*;
use crate::CookieConfig;

/// beego's configuration of its cookie engine, as its docs write it (with random keys):
/// the provider's `cookieName` is the manager's.
fn beegos_config() -> ManagerConfig {
    let provider = serde_json::json!({
        "cookieName": "gosessionid",
        "securityKey": SECURITY_KEY,
        "blockKey": BLOCK_KEY,
    });
    ManagerConfig::from_json(
        &serde_json::json!({
            "cookieName": "gosessionid",
            "enableSetCookie": true,
            "gclifetime": 3600,
            "ProviderConfig": provider.to_string(),
        })
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn beegos_config_with_equal_cookie_names_starts_and_keeps_both_cookies_apart() {
    let m = Manager::new("cookie", beegos_config()).await.unwrap();
    let mut client = Client::default();

    // Start, set, release: the id and the data travel in two cookies.
    let s = client.start(&m).await;
    s.set("user", "asta").await.unwrap();
    client.release(&s).await.unwrap();
    assert_eq!(client.cookie("gosessionid"), Some(s.id().as_str()));
    assert!(
        client.cookie("gosessionid-data").is_some(),
        "{:?}",
        client.cookies
    );

    // The next request reads it back.
    let s = client.start(&m).await;
    assert!(!s.is_new());
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );
    s.set("visits", &2).await.unwrap();
    client.release(&s).await.unwrap();
    let first_id = s.id();

    // Regenerate through the manager: a new id, the same data.
    let mut response = HeaderMap::new();
    let s = m
        .session_regenerate_id(&client.request("/"), &mut response)
        .await
        .unwrap();
    s.release(&mut response).await.unwrap();
    client.absorb(&response);
    assert_ne!(client.cookie("gosessionid"), Some(first_id.as_str()));
    assert_eq!(client.cookie("gosessionid"), Some(s.id().as_str()));
    let s = client.start(&m).await;
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );
    assert_eq!(s.get::<i32>("visits").await.unwrap(), Some(2));

    // Regenerate on the session itself.
    s.regenerate().await.unwrap();
    client.release(&s).await.unwrap();
    let s = client.start(&m).await;
    assert_eq!(client.cookie("gosessionid"), Some(s.id().as_str()));
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );

    // Destroy: the next request starts afresh.
    s.destroy().await.unwrap();
    client.release(&s).await.unwrap();
    assert!(client.cookie("gosessionid").is_none());
    let s = client.start(&m).await;
    assert!(s.is_new());
    assert_eq!(s.get::<String>("user").await.unwrap(), None);
}

#[tokio::test]
async fn beegos_published_example_key_is_refused_at_startup() {
    let provider = serde_json::json!({
        "cookieName": "gosessionid",
        "securityKey": "beegocookiehashkey",
        "blockKey": BLOCK_KEY,
    });
    let config = ManagerConfig::builder()
        .cookie_name("gosessionid")
        .provider_config(provider.to_string())
        .build()
        .unwrap();
    let e = Manager::new("cookie", config)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not look random"), "{e}");
    assert!(e.contains("openssl rand -base64 32"), "{e}");
    assert!(
        !e.contains("beegocookiehashkey") && !e.contains(BLOCK_KEY),
        "{e}"
    );
}

#[tokio::test]
async fn a_base64_key_is_decoded_and_its_bytes_are_the_key() {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let as_base64 = STANDARD.encode(bytes);
    let as_hex = hex::encode(bytes);
    let writer = manager(&[&as_base64]).await;
    let mut client = Client::default();
    let s = client.start(&writer).await;
    s.set("k", &1).await.unwrap();
    client.release(&s).await.unwrap();

    // The same bytes spelt in hex read the cookie: the key is the decoded bytes ...
    let reader = manager(&[&as_hex]).await;
    assert_eq!(
        client.start(&reader).await.get::<i32>("k").await.unwrap(),
        Some(1)
    );
    // ... and not the base64 text's bytes.
    let mut undecoded = CookieConfig::with_keys([&as_base64]).unwrap();
    assert_eq!(undecoded.keys, vec![bytes.to_vec()]);
    undecoded.keys = vec![as_base64.clone().into_bytes()];
    undecoded.cookie_name = Some("sd".into());
    let config = ManagerConfig::builder().cookie_name("sid").build().unwrap();
    let text_keyed = CookieProvider::new(&undecoded, &config).unwrap();
    let text_keyed =
        Manager::with_provider("cookie", std::sync::Arc::new(text_keyed), config).unwrap();
    assert!(client.start(&text_keyed).await.is_new());
}

#[tokio::test]
async fn beego_config_maps_onto_the_engine() {
    let provider = serde_json::json!({
        "cookieName": "gosessionid",
        "securityKey": SECURITY_KEY,
        "blockKey": BLOCK_KEY,
        "securityName": "app",
        "secure": true,
        "maxage": 30,
    });
    let manager = ManagerConfig::from_json(
        &serde_json::json!({
            "cookieName": "beegosid",
            "cookieLifeTime": 60,
            "providerConfig": provider.to_string(),
        })
        .to_string(),
    )
    .unwrap();
    let init = ProviderInit::new("cookie", &manager);
    let p = CookieProvider::from_init(&init).unwrap();
    assert_eq!(p.cookie_name(), "gosessionid");
    // maxage caps the lifetime below maxLifetime (3600).
    assert_eq!(p.lifetime(), Duration::from_secs(30));
    let m = Manager::new("cookie", manager).await.unwrap();
    let mut client = Client::default();
    let s = client.start(&m).await;
    s.set("k", &1).await.unwrap();
    let response = client.release(&s).await.unwrap();
    let data = response
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("gosessionid="))
        .unwrap();
    assert!(
        data.contains("Max-Age=30") && data.contains("Secure"),
        "{data}"
    );
    assert!(!client.start(&m).await.is_new());
}
