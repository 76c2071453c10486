//! The public conformance suite, run against the cookie engine.

use session_cookie as _;
use session_core::conformance::{Corruption, Suite}; // links the engine and its "cookie" registration

const DATA_COOKIE: &str = "session_data";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    Suite::new("cookie")
        .provider_config(format!(
            r#"{{"cookieName":"{DATA_COOKIE}","keys":["conformance-current-key-0123456789abcdef","conformance-old-key-0123456789abcdef01"]}}"#
        ))
        // The session lives in the client's data cookie: damage it there. A value that is
        // valid base64url of the right length but does not authenticate exercises the AEAD,
        // not just the decoder.
        .corrupt_with(|mut c: Corruption| {
            Box::pin(async move {
                if let Some(value) = c.cookies.get_mut(DATA_COOKIE) {
                    let garbage: String = value
                        .bytes()
                        .map(|b| if b == b'A' { 'B' } else { 'A' })
                        .collect();
                    *value = garbage;
                }
                c
            })
        })
        .run()
        .await;
}
