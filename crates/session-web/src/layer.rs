//! [`SessionLayer`]: starts a session before the handler and releases it after, before the
//! response head leaves the server.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::Request;
use session_core::{GcTask, Manager};
use tower_layer::Layer;
use tower_service::Service;

use crate::error::error_response;

type SkipRule = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

/// A tower [`Layer`] that gives every request a [`session_core::Session`] (read it with the
/// [`Session`](crate::Session) extractor) and writes it back once the handler is done.
///
/// - Before the handler: [`Manager::session_start`]. An engine that fails answers
///   `503 Service Unavailable` (logged with `tracing`) and the handler does not run.
/// - After the handler, before the response is handed to the server: the session is released
///   and its `Set-Cookie` (or id header) added, so the cookie can never be lost to a response
///   that has already started. A session loaded from storage is released with
///   [`release_if_present`](session_core::Session::release_if_present), so a logout made by a
///   concurrent request is not undone.
/// - A `5xx` response saves nothing and sends no session cookie: the handler failed, so
///   whatever it changed is dropped. (Engine calls the handler made itself, such as
///   [`destroy`](session_core::Session::destroy), have already happened.)
/// - The engine's garbage collection runs in the background from the moment the layer is built
///   (or, outside a tokio runtime, from its first request) until every copy of the layer and
///   its services is dropped, which `axum::serve` does when the server stops, or until
///   [`shutdown_gc`](Self::shutdown_gc). A manager has one GC loop, however many layers are
///   built on it ([`Manager::spawn_gc`] hands every layer the same loop).
/// - Routes can opt out with [`skip_path`](Self::skip_path), [`skip_prefix`](Self::skip_prefix)
///   or [`skip_if`](Self::skip_if): they get no session, cost no engine call and send no cookie.
#[derive(Clone)]
pub struct SessionLayer {
    manager: Manager,
    skip: Arc<[SkipRule]>,
    gc: Arc<GcSlot>,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("manager", &self.manager)
            .field("skip_rules", &self.skip.len())
            .finish_non_exhaustive()
    }
}

impl SessionLayer {
    /// A layer serving `manager`'s sessions, with its garbage collection started.
    pub fn new(manager: Manager) -> Self {
        let gc = GcSlot::pending();
        gc.ensure_started(&manager);
        SessionLayer {
            manager,
            skip: Arc::from(Vec::new()),
            gc: Arc::new(gc),
        }
    }

    /// The same layer without background garbage collection (for engines that expire
    /// sessions natively, or apps that run [`Manager::gc`] themselves).
    pub fn without_gc(mut self) -> Self {
        // Dropping our handle on the slot stops a task already started, unless a clone of the
        // layer still shares it.
        self.gc = Arc::new(GcSlot::off());
        self
    }

    /// No session for requests whose path is exactly `path` (e.g. `/health`).
    pub fn skip_path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.skip_if(move |parts| parts.uri.path() == path)
    }

    /// No session for requests whose path starts with `prefix` (e.g. `/static/`).
    pub fn skip_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.skip_if(move |parts| parts.uri.path().starts_with(&prefix))
    }

    /// No session for requests `rule` returns true for. Rules see the request head before
    /// routing, so they work for a layer put on a whole `Router`.
    pub fn skip_if<F>(mut self, rule: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        let mut rules: Vec<SkipRule> = self.skip.iter().cloned().collect();
        rules.push(Arc::new(rule));
        self.skip = Arc::from(rules);
        self
    }

    /// The manager behind the layer (for counts, or sessions outside requests).
    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    /// Stops background garbage collection now and waits for a pass in progress to finish.
    /// Every layer built on the same manager shares the loop, so this stops it for all of
    /// them.
    pub async fn shutdown_gc(&self) {
        self.gc.shutdown().await;
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum_core::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone may not be ready; call the instance that was polled ready and keep the
        // clone for next time.
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        let layer = self.layer.clone();
        Box::pin(serve(layer, inner, request))
    }
}

async fn serve<S, ReqBody, ResBody>(
    layer: SessionLayer,
    mut inner: S,
    request: Request<ReqBody>,
) -> Result<Response, S::Error>
where
    S: Service<Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum_core::BoxError>,
{
    layer.gc.ensure_started(&layer.manager);
    let (mut parts, body) = request.into_parts();
    if layer.skip.iter().any(|rule| rule(&parts)) {
        let response = inner.call(Request::from_parts(parts, body)).await?;
        return Ok(response.map(Body::new));
    }
    let manager = &layer.manager;
    let session = match manager.session_start(&parts).await {
        Ok(session) => session,
        Err(error) => {
            return Ok(error_response(
                Some(manager.engine()),
                "start the session",
                &error,
            ))
        }
    };
    parts.extensions.insert(session.clone());
    let response = inner.call(Request::from_parts(parts, body)).await?;
    let (mut head, body) = response.into_parts();
    if head.status.is_server_error() {
        tracing::debug!(status = %head.status, "handler failed: session not saved");
        return Ok(http::Response::from_parts(head, Body::new(body)));
    }
    // A session that came from storage must not be re-created if another request destroyed
    // it meanwhile (beego #5681); a new or regenerated one is written as usual.
    let released = if session.is_new() {
        session.release(&mut head.headers).await
    } else {
        session.release_if_present(&mut head.headers).await
    };
    match released {
        Ok(_) => Ok(http::Response::from_parts(head, Body::new(body))),
        Err(error) => Ok(error_response(
            Some(manager.engine()),
            "save the session",
            &error,
        )),
    }
}

/// The layer's GC task: started once, stopped when the last layer copy is dropped.
struct GcSlot {
    state: Mutex<GcState>,
    /// Set once the state left `Pending`, so requests skip the lock from then on.
    settled: AtomicBool,
}

enum GcState {
    Pending,
    Running(GcTask),
    Off,
}

impl GcSlot {
    fn pending() -> Self {
        GcSlot {
            state: Mutex::new(GcState::Pending),
            settled: AtomicBool::new(false),
        }
    }

    fn off() -> Self {
        GcSlot {
            state: Mutex::new(GcState::Off),
            settled: AtomicBool::new(true),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GcState> {
        // Only ever replaced whole, never left half-written: a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the task if it is pending and a tokio runtime is there to run it.
    fn ensure_started(&self, manager: &Manager) {
        if self.settled.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        if matches!(*state, GcState::Pending) && tokio::runtime::Handle::try_current().is_ok() {
            tracing::debug!(engine = manager.engine(), "session GC started");
            *state = GcState::Running(manager.spawn_gc());
            self.settled.store(true, Ordering::Release);
        }
    }

    async fn shutdown(&self) {
        self.settled.store(true, Ordering::Release);
        let previous = std::mem::replace(&mut *self.lock(), GcState::Off);
        if let GcState::Running(task) = previous {
            task.shutdown().await;
        }
    }
}
