//! Request flows of `Manager` and `Session` on the reference engine (`catches_bugs/engine.rs`,
//! without a bug): what a user sees when regenerate, destroy, expiry and format versions
//! meet.

#[path = "catches_bugs/engine.rs"]
mod engine;

use std::sync::Arc;

use engine::{Backend, Engine, Handle};
use session_core::conformance::{set_cookies, Client};
use session_core::http::HeaderMap;
use session_core::{
    Error, Manager, ManagerConfig, ProviderInit, Released, FORMAT_MAGIC, FORMAT_VERSION,
};

fn manager(config: ManagerConfig) -> (Manager, Arc<Backend>) {
    let backend = Arc::new(Backend::default());
    let init = ProviderInit::new("reference", &config);
    let engine = Engine {
        bug: None,
        lifetimes: init.lifetimes,
        backend: Arc::clone(&backend),
    };
    let manager =
        Manager::with_provider("reference", Arc::new(Handle(Arc::new(engine))), config).unwrap();
    (manager, backend)
}

/// A stored session holding `user = 1`, and the client holding its cookie.
async fn stored(manager: &Manager) -> (Client, String) {
    let mut client = Client::new();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("user", &1).await.unwrap();
    let mut headers = HeaderMap::new();
    session.release(&mut headers).await.unwrap();
    client.absorb(&headers);
    (client, session.id())
}

#[tokio::test]
async fn a_regenerate_whose_release_is_skipped_leaves_the_old_session_usable() {
    let (manager, _) = manager(ManagerConfig::default());
    let (client, old) = stored(&manager).await;
    let login = manager.session_start(&client.request("/")).await.unwrap();
    login.set("user", &2).await.unwrap();
    login.regenerate().await.unwrap();
    // The handler answers 5xx: the web layer skips the release.
    drop(login);
    let again = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(again.id(), old);
    assert_eq!(again.get::<i64>("user").await.unwrap(), Some(1));
}

#[tokio::test]
async fn session_regenerate_id_of_an_unknown_id_is_a_new_session() {
    let (manager, backend) = manager(ManagerConfig::default());
    let unknown = manager.id_policy().generate().unwrap();
    let mut client = Client::new();
    client
        .cookies
        .insert("beegosessionID".into(), unknown.clone());
    let mut headers = HeaderMap::new();
    let session = manager
        .session_regenerate_id(&client.request("/"), &mut headers)
        .await
        .unwrap();
    assert!(session.is_new(), "nothing was stored under the old id");
    assert!(
        set_cookies(&headers).is_empty(),
        "no cookie for a session not stored: {headers:?}"
    );
    // What the web layer does with a new session: a plain release, which stores its data.
    session.set("k", &1).await.unwrap();
    let released = session.release(&mut headers).await.unwrap();
    assert!(matches!(released, Released::Stored { .. }), "{released:?}");
    assert!(backend.holds(&session.id()));
}

#[tokio::test]
async fn a_release_that_finds_the_session_gone_sends_no_cookie() {
    let (manager, _) = manager(ManagerConfig {
        cookie_life_time: 60,
        ..ManagerConfig::default()
    });
    let (client, old) = stored(&manager).await;
    let slow = manager.session_start(&client.request("/")).await.unwrap();
    slow.set("late", &1).await.unwrap();
    manager
        .session_destroy(&client.request("/"), &mut HeaderMap::new())
        .await
        .unwrap();
    let mut headers = HeaderMap::new();
    let released = slow.release_if_present(&mut headers).await.unwrap();
    assert_eq!(released, Released::Gone);
    assert!(
        set_cookies(&headers).iter().all(|c| c.value() != old),
        "a refreshed cookie was sent for a destroyed session: {headers:?}"
    );
}

#[tokio::test]
async fn a_session_in_a_newer_format_fails_the_request_and_is_left_alone() {
    let (manager, backend) = manager(ManagerConfig::default());
    let (client, sid) = stored(&manager).await;
    let newer = vec![FORMAT_MAGIC, FORMAT_VERSION + 1, 0x93, 0x00, 0xc0, 0x80];
    backend.set_bytes(&sid, newer.clone());
    let err = manager
        .session_start(&client.request("/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NewerFormat { .. }), "{err}");
    assert!(err.is_unavailable(), "the web layer answers 503 for it");
    assert!(!err.to_string().contains(&sid), "{err}");
    assert_eq!(
        backend.bytes(&sid),
        Some(newer),
        "the newer bytes were touched"
    );
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let (manager, _) = manager(ManagerConfig {
        provider_config: "postgres://app:hunter2@db/app".into(),
        session_id_hash_key: "hash-key-s3cr3t".into(),
        ..ManagerConfig::default()
    });
    let (client, sid) = stored(&manager).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    let shown = format!(
        "{manager:?} {session:?} {:?}",
        session_core::conformance::Suite::new("x").provider_config("redis://:hunter2@h")
    );
    for secret in ["hunter2", "s3cr3t", sid.as_str()] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}
