//! Servers going away: with one of two servers stopped, the other's sessions keep working
//! and the stopped one's are a clear error within the timeouts; after its restart the same
//! provider reconnects by itself. A server that accepts connections but never answers is a
//! timeout, never a hang.

mod common;

use std::time::{Duration, Instant};

use common::{home, manager, release, start, stored};
use session_core::conformance::Client;
use session_core::{Error, Manager};
use tokio::io::AsyncReadExt;

/// The provider's connect and io timeouts, in milliseconds.
const TIMEOUT_MS: u64 = 400;

/// How long one failing call may take: the engine's bound (connect + io timeout) plus
/// generous scheduling slack on a busy machine; a hang would take forever.
fn bound() -> Duration {
    Duration::from_millis(2 * TIMEOUT_MS) + Duration::from_millis(1500)
}

fn options() -> String {
    format!("?connect_timeout={TIMEOUT_MS}ms&io_timeout={TIMEOUT_MS}ms&pool_size=3")
}

/// A client whose cookie names a valid id placed on `server`, never stored.
fn client_on(manager: &Manager, servers: &[String], server: &str) -> (Client, String) {
    loop {
        let sid = manager.id_policy().generate().unwrap();
        if home(servers, &sid) == server {
            let mut client = Client::new();
            client.cookies.insert("beegosessionID".into(), sid.clone());
            return (client, sid);
        }
    }
}

/// A client whose new session holds `key = 1` and was placed on `server` (new sessions get
/// random ids, so this stores until one lands there).
async fn stored_on(
    manager: &Manager,
    servers: &[String],
    server: &str,
    key: &str,
) -> (Client, String) {
    loop {
        let mut client = Client::new();
        let session = start(manager, &client).await;
        let sid = session.id();
        if home(servers, &sid) != server {
            continue;
        }
        session.set(key, &1).await.unwrap();
        release(session, &mut client).await;
        return (client, sid);
    }
}

/// Checks that `err` is the clear, secret-free backend error of `server` for `sid`.
fn assert_clear(err: &Error, server: &str, sid: &str, action: &str) {
    let message = err.to_string();
    assert!(err.is_unavailable(), "not a 503 error: {message}");
    assert!(
        message.contains("memcache") && message.contains(server),
        "{message}"
    );
    assert!(message.contains(action), "{message}");
    assert!(
        !message.contains(sid),
        "the session id is in the error: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_down_the_other_keeps_working_then_a_restart_reconnects() {
    let Some(mut own) = common::own_servers("one_server_down", 2).await else {
        return;
    };
    let list = session_testkit::servers::join_urls(&own);
    let servers = common::names(&list);
    let manager = manager(&format!("{list}{}", options()), 3600).await;
    let (down, up) = (servers[0].clone(), servers[1].clone());

    // Sessions on both servers.
    let (mut on_down, mut on_up) = (Vec::new(), Vec::new());
    while on_down.len() < 3 || on_up.len() < 3 {
        let (client, sid) = stored(&manager, "n", 1).await;
        let list = if home(&servers, &sid) == down {
            &mut on_down
        } else {
            &mut on_up
        };
        list.push((client, sid));
    }

    let stopped = common::restart(own.remove(0), false).await;

    for (client, _) in &mut on_up {
        let session = start(&manager, client).await;
        assert_eq!(
            session.get::<i64>("n").await.unwrap(),
            Some(1),
            "a live server's session"
        );
        session.set("n", &2).await.unwrap();
        release(session, client).await;
    }
    for (client, sid) in &on_down {
        let began = Instant::now();
        let err = manager
            .session_start(&client.request("/"))
            .await
            .unwrap_err();
        let took = began.elapsed();
        assert_clear(&err, &down, sid, "read session");
        assert!(took < bound(), "a read of the stopped server took {took:?}");
        eprintln!("stopped server: `{err}` after {took:?}");
    }
    // A new session placed on the stopped server fails at release; one on the other works.
    loop {
        let session = start(&manager, &Client::new()).await;
        session.set("fresh", &1).await.unwrap();
        let (sid, began) = (session.id(), Instant::now());
        let result = session.release(&mut http::HeaderMap::new()).await;
        if home(&servers, &sid) == up {
            result.expect("a new session on the live server");
            continue;
        }
        let err = result.unwrap_err();
        assert_clear(&err, &down, &sid, "create session");
        assert!(
            began.elapsed() < bound(),
            "a write to the stopped server took {:?}",
            began.elapsed()
        );
        break;
    }

    // Back on the same port: memcached lost what it held, and the same provider reconnects.
    let restarted = common::restart(stopped, true).await;
    for (client, sid) in &on_down {
        let session = start(&manager, client).await;
        assert!(
            session.is_new() && session.id() != *sid,
            "a session survived its server's restart"
        );
    }
    let (client, _) = stored_on(&manager, &servers, &down, "after").await;
    let session = start(&manager, &client).await;
    assert_eq!(session.get::<i64>("after").await.unwrap(), Some(1));
    for (client, _) in &on_up {
        let session = start(&manager, client).await;
        assert_eq!(
            session.get::<i64>("n").await.unwrap(),
            Some(2),
            "the live server lost data"
        );
    }

    // A restart nobody noticed: the pooled connections to it are dead, and the next
    // request still works.
    let restarted = common::restart(restarted, true).await;
    let (client, _) = stored_on(&manager, &servers, &down, "again").await;
    let session = start(&manager, &client).await;
    assert_eq!(session.get::<i64>("again").await.unwrap(), Some(1));
    drop((restarted, own));
}

/// Accepts connections on a loopback port and reads, but never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut sink = [0u8; 1024];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_a_timeout_not_a_hang() {
    let Some(mut own) = common::own_servers("a_server_that_never_answers", 1).await else {
        return;
    };
    let (real, silent) = (own.remove(0), silent_server().await);
    let list = format!("{};{silent}", real.url);
    let servers = common::names(&list);
    let manager = manager(&format!("{list}{}", options()), 3600).await;

    // More requests at once than the pool has connections: each still ends in time.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (client, sid) = client_on(&manager, &servers, &silent);
        let manager = manager.clone();
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let err = manager
                .session_start(&client.request("/"))
                .await
                .unwrap_err();
            (err, sid, began.elapsed())
        }));
    }
    for task in tasks {
        let (err, sid, took) = task.await.unwrap();
        assert_clear(&err, &silent, &sid, "read session");
        eprintln!("silent server: `{err}` after {took:?}");
        assert!(err.to_string().contains("no answer within"), "{err}");
        assert!(took < bound(), "a silent server held a request {took:?}");
    }
    let (client, _) = stored_on(&manager, &servers, &real.url, "k").await;
    let session = start(&manager, &client).await;
    assert_eq!(
        session.get::<i64>("k").await.unwrap(),
        Some(1),
        "the answering server"
    );
}
