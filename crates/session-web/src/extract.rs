//! The axum extractor: a handler's access to the session [`SessionLayer`](crate::SessionLayer)
//! started.

use std::convert::Infallible;
use std::ops::Deref;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

/// The request's session, as an axum extractor: beego's `GetSession` / `SetSession` /
/// `DelSession` / `SessionRegenerateID` / `DestroySession` are
/// [`get`](session_core::Session::get), [`set`](session_core::Session::set),
/// [`delete`](session_core::Session::delete), [`regenerate`](session_core::Session::regenerate)
/// and [`destroy`](session_core::Session::destroy), with typed values (any `serde` type).
///
/// It dereferences to [`session_core::Session`] and shares it with the layer, which writes it
/// back after the handler: there is nothing to release by hand. Needs [`SessionLayer`](crate::SessionLayer)
/// on the route; without it (or on a skipped route) extraction fails with `500`, while
/// `Option<Session>` gives `None`.
#[derive(Clone, Debug)]
pub struct Session(session_core::Session);

impl Session {
    /// The shared core handle.
    pub fn into_inner(self) -> session_core::Session {
        self.0
    }
}

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<session_core::Session>()
            .cloned()
            .map(Session)
            .ok_or(MissingSession)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<session_core::Session>()
            .cloned()
            .map(Session))
    }
}

/// The rejection when a handler asks for a [`Session`] on a route without [`SessionLayer`](crate::SessionLayer).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no session on this request: add session_web::SessionLayer to the router (and do not skip this route)")]
pub struct MissingSession;

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error: no session\n",
        )
            .into_response()
    }
}
