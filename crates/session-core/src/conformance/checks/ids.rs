//! Session ids from clients: unknown ones are not adopted, invalid ones never reach storage.

use std::sync::Arc;

use super::{config, ensure, every_transport, exists, finish, pass, start, CheckResult};
use crate::config::ManagerConfig;
use crate::conformance::{Client, Env};
use crate::id::IdPolicy;

/// An id of the right form that the engine does not know gets a fresh id, not adoption.
pub(crate) async fn unknown_id_is_not_adopted(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let unknown = h.manager.id_policy().generate()?;
    let mut client = Client::new();
    client
        .cookies
        .insert("beegosessionID".into(), unknown.clone());
    let session = start(&h, &client).await?;
    ensure!(
        session.id() != unknown,
        "the unknown id {unknown} was adopted"
    );
    ensure!(session.is_new(), "an unknown id gave a stored session");
    session.set("k", &1).await?;
    finish(&session, &mut client).await?;
    ensure!(
        client.cookie("beegosessionID") == Some(session.id().as_str()),
        "the client was not given the fresh id"
    );
    ensure!(
        !exists(&h, &client, &unknown).await?,
        "the unknown id {unknown} was stored"
    );
    pass()
}

/// Hostile ids in the cookie, the query or the header never cause a lookup.
pub(crate) async fn invalid_ids_never_reach_storage(env: Arc<Env>) -> CheckResult {
    let h = env.harness(every_transport()).await?;
    let long = "a".repeat(10 * 1024);
    let bad: [&str; 9] = [
        "",
        "a",
        "../../etc/passwd",
        &long,
        "0123456789abcdef0123456789abcdeg",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcde\0",
        "0123456789abcdef/123456789abcdef",
        "0123456789abcdef0123456789abcdef0",
    ];
    for id in bad {
        let mut cookie_client = Client::new();
        cookie_client
            .cookies
            .insert("beegosessionID".into(), id.to_owned());
        let mut requests = vec![cookie_client.request("/")];
        let encoded: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        requests.push(Client::new().request(&format!("/?beegosessionID={encoded}")));
        if let Ok(value) = http::HeaderValue::from_str(id) {
            let mut request = Client::new().request("/");
            request.headers_mut().insert("x-session-id", value);
            requests.push(request);
        }
        for request in requests {
            let session = h.manager.session_start(&request).await?;
            ensure!(
                session.id() != id,
                "invalid id {:?} was adopted",
                shorten(id)
            );
        }
    }
    ensure!(
        h.counts.lookups() == 0,
        "invalid ids caused {} storage lookups; they must be rejected before the engine",
        h.counts.lookups()
    );
    pass()
}

/// With `sessionIDHashKey`, ids not minted under that key are rejected without a lookup,
/// while genuine unknown ids are looked up.
pub(crate) async fn forged_hmac_ids_are_rejected(env: Arc<Env>) -> CheckResult {
    let h = env
        .harness(ManagerConfig {
            session_id_hash_key: "conformance-suite-key".into(),
            ..config()
        })
        .await?;
    let forger = IdPolicy::new(16, "", Some(b"someone-elses-key"))?;
    for _ in 0..5 {
        let forged = forger.generate()?;
        let mut client = Client::new();
        client
            .cookies
            .insert("beegosessionID".into(), forged.clone());
        let session = start(&h, &client).await?;
        ensure!(session.id() != forged, "forged id {forged} was adopted");
    }
    ensure!(
        h.counts.lookups() == 0,
        "forged ids caused {} lookups",
        h.counts.lookups()
    );
    let mut client = Client::new();
    let session = start(&h, &client).await?;
    session.set("k", &1).await?;
    finish(&session, &mut client).await?;
    let session = start(&h, &client).await?;
    ensure!(!session.is_new(), "a genuine tagged id was not found again");
    ensure!(
        h.counts.lookups() == 1,
        "a genuine id took {} lookups",
        h.counts.lookups()
    );
    pass()
}

fn shorten(id: &str) -> String {
    id.chars().take(40).collect()
}
