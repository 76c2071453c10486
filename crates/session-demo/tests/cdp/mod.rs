//! A small Chrome DevTools Protocol client: launch headless Chromium, open one page, drive it
//! with JavaScript. Just what the end-to-end test needs; failures panic with the browser log.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The Chromium binary: `$CHROMIUM`, else `chromium` or `chromium-browser` on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A headless Chromium with a fresh profile, attached to one page.
pub struct Browser {
    child: Child,
    profile: tempfile::TempDir,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: Option<String>,
    next_id: u64,
}

impl Browser {
    /// Starts `binary` and attaches to a new blank page.
    pub async fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromium.log")).unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut browser = Browser {
            child,
            ws: connect(&profile).await,
            profile,
            session: None,
            next_id: 0,
        };
        let target = browser
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await;
        browser.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
        browser
    }

    /// What Chromium wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default()
    }

    /// Sends one command to the page (or the browser before a page is attached) and
    /// returns its result; protocol errors panic.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        match self.try_call(method, params).await {
            Ok(result) => result,
            Err(error) => panic!("{method} failed: {error}\nchromium log:\n{}", self.log()),
        }
    }

    async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| format!("websocket send: {e}"))?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.ws.next())
                .await
                .map_err(|_| format!("no answer within {STEP_TIMEOUT:?}"))?
                .ok_or("the browser closed the connection")?
                .map_err(|e| format!("websocket: {e}"))?;
            let Message::Text(text) = frame else { continue };
            let reply: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
            if reply["id"].as_u64() != Some(id) {
                continue; // an event, or the answer to an earlier timed-out call
            }
            if let Some(error) = reply.get("error") {
                return Err(error.to_string());
            }
            return Ok(reply["result"].clone());
        }
    }

    /// Evaluates `expression` in the page; `Err` for a JavaScript exception or a page
    /// between documents.
    pub async fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self
            .try_call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        if let Some(details) = result.get("exceptionDetails") {
            return Err(details.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluates `expression`, panicking on an exception.
    pub async fn eval(&mut self, expression: &str) -> Value {
        match self.try_eval(expression).await {
            Ok(value) => value,
            Err(error) => panic!("evaluating {expression:?} failed: {error}"),
        }
    }

    /// Runs `action` (which navigates: a link, a form, `location.reload()`) and waits until
    /// the next document has loaded.
    pub async fn navigate_by(&mut self, action: &str) {
        // A flag on the old window tells the old document from the new one, even when the
        // URL stays the same.
        self.eval("window.__oldDocument = true").await;
        self.eval(action).await;
        self.wait_for(
            "window.__oldDocument === undefined && document.readyState === 'complete'",
            &format!("a new document after {action:?}"),
        )
        .await;
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn open(&mut self, url: &str) {
        self.navigate_by(&format!("location.href = {}", json!(url)))
            .await;
    }

    /// Waits until `condition` is true in the page.
    pub async fn wait_for(&mut self, condition: &str, what: &str) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Ok(Value::Bool(true)) = self.try_eval(condition).await {
                return;
            }
            if Instant::now() > deadline {
                let page = self.try_eval("document.documentElement.outerHTML").await;
                panic!("timed out waiting for {what}; the page is {page:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the first element matching `selector`, or `None`.
    pub async fn text(&mut self, selector: &str) -> Option<String> {
        let expression = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.textContent : null }})()",
            json!(selector)
        );
        self.eval(&expression).await.as_str().map(str::to_owned)
    }

    /// Closes the browser and waits for it to exit.
    pub async fn close(mut self) {
        self.session = None;
        let _ = self.try_call("Browser.close", json!({})).await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Waits for Chromium to write `DevToolsActivePort` into the profile, then connects.
async fn connect(profile: &tempfile::TempDir) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    let file = profile.path().join("DevToolsActivePort");
    let deadline = Instant::now() + STEP_TIMEOUT;
    let (port, path) = loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                break (port.trim().to_owned(), path.trim().to_owned());
            }
        }
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(profile.path().join("chromium.log")).unwrap_or_default();
            panic!("Chromium wrote no DevToolsActivePort within {STEP_TIMEOUT:?}; its log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let url = format!("ws://127.0.0.1:{port}{path}");
    let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to Chromium at {url}: {e}"));
    ws
}
