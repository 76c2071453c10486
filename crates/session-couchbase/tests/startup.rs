//! Start-up never hangs: with nothing listening at the seeds, or a server that accepts
//! connections but never completes a login, `Manager::new` fails within the connect timeout
//! with an error naming the cause. These need no Couchbase server (they use loopback ports
//! of their own) and always run.

use std::time::Duration;

use session_core::{Manager, ManagerConfig};
use session_couchbase as _;
use tokio::net::TcpListener;

/// Far more than the 1 s connect timeout: only a hang reaches it.
const HANG: Duration = Duration::from_secs(30);

fn config(port: u16) -> ManagerConfig {
    ManagerConfig {
        provider_config: format!(
            "couchbase://127.0.0.1:{port}?username=app&password=hunter2&bucket=sessions\
             &connect_timeout=1s"
        ),
        ..ManagerConfig::default()
    }
}

async fn start_up_error(port: u16) -> String {
    let started = tokio::time::timeout(HANG, Manager::new("couchbase", config(port))).await;
    let error = match started {
        Ok(Ok(_)) => panic!("a manager started without a Couchbase server"),
        Ok(Err(error)) => error,
        Err(_) => panic!("Manager::new hung past {HANG:?}"),
    };
    assert!(error.is_unavailable(), "a backend error: {error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_at_the_seeds_is_named() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = start_up_error(port).await;
    assert!(
        error.contains(&format!("no server answers at 127.0.0.1:{port}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_never_succeeds_is_named() {
    // Accepts connections and never answers, as a server rejecting the login looks to a
    // client whose SDK retries it without end.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let error = start_up_error(port).await;
    holder.abort();
    assert!(
        error.contains("logging in as `app` did not succeed within 1s"),
        "{error}"
    );
    assert!(error.contains("username or password"), "{error}");
}

#[tokio::test]
async fn a_malformed_string_is_a_configuration_error() {
    let config = ManagerConfig {
        provider_config: "couchbase://127.0.0.1:0?username=app&password=hunter2".into(),
        ..ManagerConfig::default()
    };
    let error = Manager::new("couchbase", config)
        .await
        .expect_err("refused");
    let shown = error.to_string();
    assert!(matches!(error, session_core::Error::Config(_)), "{shown}");
    assert!(shown.contains("port `0`"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}
