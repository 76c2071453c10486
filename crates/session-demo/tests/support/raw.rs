//! Requests as raw bytes over a `TcpStream`, for what no client library will send (NUL,
//! bare CR or LF, bytes that are not UTF-8 in a header).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::browser::{Failure, TIMEOUT};

/// What came back: the status code and the whole response as text (lossy).
#[derive(Debug, Clone)]
pub struct RawReply {
    /// The status code of the first line.
    pub status: u16,
    /// Status line, headers and body.
    pub text: String,
}

impl RawReply {
    /// The response's header lines, lowercased (for looking for injected headers).
    pub fn header_lines(&self) -> Vec<String> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().skip(1).map(str::to_ascii_lowercase).collect()
    }
}

/// Sends `GET path` with `header_bytes` (whole header lines, each ending in `\r\n`) and
/// `Connection: close`, and reads the response to the end, within [`TIMEOUT`].
pub async fn get(addr: SocketAddr, path: &str, header_bytes: &[u8]) -> Result<RawReply, Failure> {
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    request.extend_from_slice(header_bytes);
    request.extend_from_slice(b"\r\n");
    send(addr, &request).await
}

/// Sends `request` as it is and reads the response to the end, within [`TIMEOUT`].
pub async fn send(addr: SocketAddr, request: &[u8]) -> Result<RawReply, Failure> {
    tokio::time::timeout(TIMEOUT, async {
        let transport = |e: std::io::Error| Failure::Transport(e.to_string());
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(transport)?;
        stream.write_all(request).await.map_err(transport)?;
        let mut bytes = Vec::new();
        // A server that rejects a request may close before reading all of it: what it
        // answered is still in `bytes`.
        let _ = stream.read_to_end(&mut bytes).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| Failure::Transport(format!("no status line in {text:?}")))?;
        Ok(RawReply { status, text })
    })
    .await
    .map_err(|_| Failure::Timeout)?
}
