//! The public conformance suite, run against the cookie engine.

use session_cookie as _; // links the engine and its "cookie" registration
use session_core::conformance::{CorruptFuture, Corruption, Suite};
use session_core::ManagerConfig;

/// The suite's managers use beego's default session-id cookie name.
fn suite_cookie_name() -> String {
    ManagerConfig::default().cookie_name
}

/// Damages the data cookie `name` in the client's jar. A value that is valid base64url of
/// the right length but does not authenticate exercises the AEAD, not just the decoder.
fn corrupt_cookie(name: String) -> impl Fn(Corruption) -> CorruptFuture + Send + Sync + 'static {
    move |mut c: Corruption| {
        let name = name.clone();
        Box::pin(async move {
            let names: Vec<String> = c.cookies.keys().cloned().collect();
            let value = c
                .cookies
                .get_mut(&name)
                .unwrap_or_else(|| panic!("no data cookie {name} among {names:?}"));
            *value = value
                .bytes()
                .map(|b| if b == b'A' { 'B' } else { 'A' })
                .collect();
            c
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    // Keys made with `openssl rand -base64 32`.
    Suite::new("cookie")
        .provider_config(
            r#"{"cookieName":"session_data","keys":["vwUybT6BQu3jG1705ZC1SKhU+Mo3z1jPObQtgRqfs48=","kbSYhkNIvnjdCmW1o1vqqLOmKrw8/9CVTPKcROFC/1I="]}"#,
        )
        .corrupt_with(corrupt_cookie("session_data".into()))
        .run()
        .await;
}

/// beego's form, with the provider's `cookieName` equal to the manager's as in every beego
/// configuration: the data then travels in `<cookieName>-data`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_beegos_config() {
    let name = suite_cookie_name();
    let provider = format!(
        r#"{{"cookieName":"{name}","securityKey":"1l8FuGdU0Zl35ihUyC0Mjdt2QBT3B39wQvzRiJtoxaY=","blockKey":"FAlFzmpsIcYrScnL"}}"#
    );
    Suite::new("cookie")
        .provider_config(provider)
        .corrupt_with(corrupt_cookie(format!("{name}-data")))
        .run()
        .await;
}
