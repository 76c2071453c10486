//! Shared test pieces: a real engine that can be made to fail, a test app, and helpers to
//! send requests through the router and read cookies back.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use session_core::http::HeaderMap as CoreHeaderMap;
use session_core::{
    async_trait, Context, Error, Manager, ManagerConfig, Provider, Released, Result, Store,
};
use session_memory::MemoryProvider;
use session_web::{Session, SessionError, SessionLayer};
use tokio::sync::Notify;
use tower::ServiceExt;

/// Switches for [`Flaky`].
#[derive(Default)]
pub struct FlakyState {
    /// Every engine call fails, as a database that is down.
    pub down: AtomicBool,
    /// Releases fail.
    pub fail_release: AtomicBool,
    /// GC passes run so far.
    pub gc_passes: AtomicUsize,
}

/// The memory engine behind a switch that makes it fail like an unreachable backend.
pub struct Flaky {
    inner: MemoryProvider,
    state: Arc<FlakyState>,
}

fn down() -> Error {
    Error::backend("flaky", "reach the backend", "connection refused (test)")
}

impl Flaky {
    fn check(&self) -> Result<()> {
        if self.state.down.load(Ordering::SeqCst) {
            Err(down())
        } else {
            Ok(())
        }
    }

    fn wrap(&self, store: Box<dyn Store>) -> Box<dyn Store> {
        Box::new(FlakyStore {
            inner: store,
            state: self.state.clone(),
        })
    }
}

#[async_trait]
impl Provider for Flaky {
    async fn session_read(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.check()?;
        Ok(self.wrap(self.inner.session_read(cx, sid).await?))
    }
    async fn session_exist(&self, cx: &Context<'_>, sid: &str) -> Result<bool> {
        self.check()?;
        self.inner.session_exist(cx, sid).await
    }
    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        self.check()?;
        Ok(self.wrap(self.inner.session_regenerate(cx, old, sid).await?))
    }
    async fn session_destroy(&self, cx: &Context<'_>, sid: &str) -> Result<()> {
        self.check()?;
        self.inner.session_destroy(cx, sid).await
    }
    async fn session_all(&self) -> Result<usize> {
        self.check()?;
        self.inner.session_all().await
    }
    async fn session_gc(&self) -> Result<()> {
        self.state.gc_passes.fetch_add(1, Ordering::SeqCst);
        self.inner.session_gc().await
    }
    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        self.check()?;
        Ok(self
            .inner
            .session_load(cx, sid)
            .await?
            .map(|s| self.wrap(s)))
    }
    async fn session_create(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.check()?;
        Ok(self.wrap(self.inner.session_create(cx, sid).await?))
    }
}

struct FlakyStore {
    inner: Box<dyn Store>,
    state: Arc<FlakyState>,
}

impl FlakyStore {
    fn check_release(&self) -> Result<()> {
        if self.state.fail_release.load(Ordering::SeqCst) || self.state.down.load(Ordering::SeqCst)
        {
            Err(down())
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FlakyStore {
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }
    async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_raw(key).await
    }
    async fn set_raw(&self, key: &str, value: Vec<u8>) -> Result<()> {
        self.inner.set_raw(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key).await
    }
    async fn flush(&self) -> Result<()> {
        self.inner.flush().await
    }
    async fn keys(&self) -> Result<Vec<String>> {
        self.inner.keys().await
    }
    async fn meta(&self) -> Result<session_core::SessionMeta> {
        self.inner.meta().await
    }
    async fn set_expiry(&self, expiry: Option<session_core::Expiry>) -> Result<()> {
        self.inner.set_expiry(expiry).await
    }
    async fn changes(&self) -> Result<session_core::ChangeSet> {
        self.inner.changes().await
    }
    async fn session_release(&self, response: &mut CoreHeaderMap) -> Result<Released> {
        self.check_release()?;
        self.inner.session_release(response).await
    }
    async fn session_release_if_present(&self, response: &mut CoreHeaderMap) -> Result<Released> {
        self.check_release()?;
        self.inner.session_release_if_present(response).await
    }
}

/// Registers a [`Flaky`] engine under `name` (unique per test) and builds a manager on it
/// through the registry, as an app would.
pub async fn flaky_manager(name: &str, config: ManagerConfig) -> (Manager, Arc<FlakyState>) {
    let state = Arc::new(FlakyState::default());
    let shared = state.clone();
    session_core::register(name, move |init| {
        let state = shared.clone();
        Box::pin(async move {
            Ok(Arc::new(Flaky {
                inner: MemoryProvider::from_init(&init)?,
                state,
            }) as Arc<dyn Provider>)
        })
    })
    .unwrap();
    (Manager::new(name, config).await.unwrap(), state)
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub name: String,
    pub admin: bool,
}

/// The controller of beego's example plus login/logout and failure cases.
/// Where the `/slow` route stands: it signals `entered` once its session is loaded (the
/// handler runs after the layer started it), then waits for `open`.
#[derive(Default)]
pub struct Gate {
    pub entered: Notify,
    pub open: Notify,
}

pub fn app(layer: SessionLayer, gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/", get(counter))
        .route("/login/{name}", post(login))
        .route("/logout", post(logout))
        .route("/forget", post(forget))
        .route("/fail", get(fail))
        .route("/login-fails/{name}", post(login_fails))
        .route("/typed", get(typed))
        .route("/wrongtype", get(wrong_type))
        .route("/health", get(health))
        .route(
            "/skipped-needs-session",
            get(|_s: Session| async { "unreachable" }),
        )
        .route(
            "/slow",
            get(move |session: Session| async move {
                session.set("slow", &1).await?;
                gate.entered.notify_one();
                gate.open.notified().await;
                Ok::<_, SessionError>("slow done")
            }),
        )
        .layer(layer)
}

async fn counter(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("asta").await?.unwrap_or(0);
    session.set("asta", &(n + 1)).await?;
    let user: Option<String> = session.get("user").await?;
    Ok(format!("count={n} user={}", user.unwrap_or_default()))
}

async fn login(session: Session, Path(name): Path<String>) -> Result<String, SessionError> {
    session.set("user", &name).await?;
    session.regenerate().await?;
    Ok(format!("hello {name}"))
}

/// A login whose handler then fails: the regenerate must not have happened.
async fn login_fails(
    session: Session,
    Path(name): Path<String>,
) -> Result<(StatusCode, &'static str), SessionError> {
    session.set("user", &name).await?;
    session.regenerate().await?;
    Ok((StatusCode::INTERNAL_SERVER_ERROR, "login failed"))
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.destroy().await?;
    Ok("bye")
}

async fn forget(session: Session) -> Result<&'static str, SessionError> {
    session.delete("user").await?;
    Ok("forgotten")
}

async fn fail(session: Session) -> Result<(StatusCode, &'static str), SessionError> {
    session.set("asta", &100u64).await?;
    Ok((StatusCode::INTERNAL_SERVER_ERROR, "boom"))
}

async fn typed(session: Session) -> Result<String, SessionError> {
    let user = User {
        name: "ann".into(),
        admin: true,
    };
    session.set("profile", &user).await?;
    let back: Option<User> = session.get("profile").await?;
    Ok(format!("{:?}", back == Some(user)))
}

async fn wrong_type(session: Session) -> Result<String, SessionError> {
    session.set("asta", &7u64).await?;
    let text: Option<String> = session.get("asta").await?;
    Ok(text.unwrap_or_default())
}

async fn health(session: Option<Session>) -> &'static str {
    if session.is_some() {
        "with session"
    } else {
        "no session"
    }
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value `Set-Cookie` gives cookie `name`, if it is set.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (n, v) = first.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }
}

/// Sends one request through the router.
pub async fn send(app: &Router, method: &str, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send_request(app, request.body(Body::empty()).unwrap()).await
}

/// Sends a prepared request through the router.
pub async fn send_request(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}
