//! The `session-demo` binary itself: prints its URL, serves, and stops cleanly on Ctrl-C.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

async fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn serves_on_the_printed_url_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(["--port", "0", "--provider", "memory"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the demo prints its URL")
        .unwrap()
        .unwrap();
    let url = banner
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {banner:?}"));
    let addr = url.trim_start_matches("http://").trim_end_matches('/');

    let page = get(addr, "/").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("set-cookie: beegosessionID="), "{page}");
    assert!(page.contains("<span id=\"count\">0</span>"), "{page}");

    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the demo stops after Ctrl-C")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let rest = lines.next_line().await.unwrap();
    assert_eq!(rest.as_deref(), Some("session demo stopped"));
}

#[tokio::test]
async fn bad_arguments_fail_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(["--port", "eighty"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(["--provider", "cookie", "--port", "0"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success(), "the cookie engine needs a key");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cookie"), "{stderr}");
}
