//! The demo's routes plus a few for the suites, on one session layer:
//! `/put/{key}/{value}` stores a value, `/incr` adds one to `n`, `/slow/{key}` waits at a
//! [`Gate`] after its session was loaded and then stores `key`, `/dump` shows the session
//! as JSON without changing it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use session_core::Manager;
use session_demo::app;
use session_web::config::WebSessionConfig;
use session_web::{Session, SessionError};
use tokio::sync::Semaphore;

use super::server::{serve, Served};

/// A sync point: requests [`arrive`](Gate::arrive) once their session is loaded and wait
/// until the test [`open`](Gate::open)s the gate, so a test orders them against another
/// request without sleeping.
#[derive(Debug)]
pub struct Gate {
    arrived: Semaphore,
    open: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            arrived: Semaphore::new(0),
            open: Semaphore::new(0),
        }
    }
}

impl Gate {
    async fn pass(&self) {
        self.arrived.add_permits(1);
        if let Ok(permit) = self.open.acquire().await {
            permit.forget();
        }
    }

    /// Waits until `n` requests wait at the gate.
    pub async fn arrivals(&self, n: u32) {
        if let Ok(permits) = self.arrived.acquire_many(n).await {
            permits.forget();
        }
    }

    /// Lets `n` waiting requests through.
    pub fn open(&self, n: usize) {
        self.open.add_permits(n);
    }
}

/// The app under test, served.
pub struct TestApp {
    /// The server.
    pub served: Served,
    /// The manager behind it, for looking at storage directly.
    pub manager: Manager,
    /// The gate `/slow` waits at.
    pub gate: Arc<Gate>,
}

/// Beego's defaults with sessions on, on `engine` with `provider_config`.
pub fn config(engine: &str, provider_config: &str) -> WebSessionConfig {
    WebSessionConfig {
        session_on: true,
        provider: engine.to_owned(),
        provider_config: provider_config.to_owned(),
        ..WebSessionConfig::default()
    }
}

/// Serves the demo plus the test routes on `config`'s sessions.
pub async fn start(config: &WebSessionConfig) -> TestApp {
    let layer = session_demo::layer(config)
        .await
        .unwrap_or_else(|e| panic!("the session layer on {}: {e}", config.provider));
    let manager = layer.manager().clone();
    let gate = Arc::new(Gate::default());
    let extra = Router::new()
        .route("/put/{key}/{value}", get(put))
        .route("/incr", get(incr))
        .route("/slow/{key}", get(slow))
        .route("/dump", get(dump))
        .with_state(Arc::clone(&gate))
        .layer(layer.clone());
    let router = app::router(layer).merge(extra);
    TestApp {
        served: serve(router).await,
        manager,
        gate,
    }
}

async fn put(
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.set(&key, &value).await?;
    Ok("ok")
}

async fn incr(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("n").await?.unwrap_or(0);
    session.set("n", &(n + 1)).await?;
    Ok((n + 1).to_string())
}

async fn slow(
    State(gate): State<Arc<Gate>>,
    session: Session,
    Path(key): Path<String>,
) -> Result<&'static str, SessionError> {
    gate.pass().await;
    session.set(&key, "slow").await?;
    Ok("ok")
}

async fn dump(session: Session) -> Result<impl IntoResponse, SessionError> {
    let mut values = BTreeMap::new();
    for key in session.keys().await? {
        let value: Option<serde_json::Value> = session.get(&key).await?;
        values.insert(key, value.unwrap_or(serde_json::Value::Null));
    }
    let body = serde_json::json!({
        "id": session.id(),
        "new": session.is_new(),
        "values": values,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    ))
}

/// What `/dump` showed.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The session id served.
    pub id: String,
    /// True when the request's session was a new one (nothing stored under its id).
    pub new: bool,
    /// The session's values.
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Dump {
    /// Parses a `/dump` body.
    pub fn parse(body: &str) -> Dump {
        let json: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("/dump gave {body:?}: {e}"));
        Dump {
            id: json["id"].as_str().unwrap_or_default().to_owned(),
            new: json["new"].as_bool().unwrap_or(true),
            values: serde_json::from_value(json["values"].clone()).unwrap_or_default(),
        }
    }
}
