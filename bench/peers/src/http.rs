//! Over real HTTP: servers on loopback in threads of their own, loaded by `wrk` with the
//! cookie-keeping script `wrk/cookies.lua`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;

use crate::BoxError;

/// Builds a router inside the server's own runtime (pools and GC tasks belong to it).
pub type MakeRouter =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<Router, BoxError>> + Send>> + Send>;

/// An axum server on `127.0.0.1`, on a multi-threaded tokio runtime of its own (one worker
/// per core); stopped when dropped.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts the router `make` builds on a free port.
    pub fn start(make: MakeRouter) -> Result<Server, BoxError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<SocketAddr, String>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("tokio runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let started = async {
                    let router = make().await.map_err(|e| e.to_string())?;
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .map_err(|e| format!("bind: {e}"))?;
                    let addr = listener.local_addr().map_err(|e| e.to_string())?;
                    Ok::<_, String>((router, listener, addr))
                }
                .await;
                let (router, listener, addr) = match started {
                    Ok(started) => started,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(addr));
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = ready_rx
            .recv()
            .map_err(|_| "the server thread ended before listening")??;
        Ok(Server {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The body of `GET path` on `addr` (a bare HTTP/1.1 exchange, for checks).
pub fn get_text(addr: SocketAddr, path: &str) -> Result<String, BoxError> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map_or(text.clone(), |(_, body)| body.to_owned()))
}

/// The script that keeps cookies per connection.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("wrk/cookies.lua")
}

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WrkRun {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Responses that were neither 2xx nor 3xx, plus socket errors.
    pub failures: u64,
}

/// One load: `connections` connections, each its own wrk thread (so each keeps its own
/// cookie), for `duration`, on `path` in `mode` (`keep` or `fresh`).
pub fn wrk(
    addr: SocketAddr,
    path: &str,
    mode: &str,
    connections: u32,
    duration: Duration,
) -> Result<WrkRun, BoxError> {
    let output = Command::new("wrk")
        .arg(format!("-t{connections}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(script())
        .arg(format!("http://{addr}{path}"))
        .args(["--", mode, path])
        .output()
        .map_err(|e| format!("running wrk (Debian package wrk): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "wrk failed ({}): {text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}").into())
}

/// A latency such as `1.23ms`, `850.00us` or `1.02s`, in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// Reads requests/s, the 50 % and 99 % latencies and the failures from wrk's report.
pub fn parse_wrk(text: &str) -> Option<WrkRun> {
    let mut run = WrkRun::default();
    let mut seen = (false, false, false);
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => {
                run.rps = n.parse().ok()?;
                seen.0 = true;
            }
            ["50%", t] => {
                run.p50_ms = millis(t)?;
                seen.1 = true;
            }
            ["99%", t] => {
                run.p99_ms = millis(t)?;
                seen.2 = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => run.failures += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                run.failures += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (seen == (true, true, true)).then_some(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  64 threads and 64 connections\n\
            \x20 Latency Distribution\n     50%  848.00us\n     75%    1.10ms\n     90%    1.50ms\n\
            \x20    99%    3.21ms\n  100000 requests in 5.00s, 10.00MB read\n\
            \x20 Socket errors: connect 0, read 2, write 0, timeout 1\n\
            \x20 Non-2xx or 3xx responses: 4\nRequests/sec:  20000.50\nTransfer/sec:      2.00MB\n";
        let run = parse_wrk(text).expect("parsed");
        assert_eq!(run.rps, 20000.5);
        assert!((run.p50_ms - 0.848).abs() < 1e-9);
        assert_eq!(run.p99_ms, 3.21);
        assert_eq!(run.failures, 7);
        assert_eq!(parse_wrk("nothing"), None);
    }
}
