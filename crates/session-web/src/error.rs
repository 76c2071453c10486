//! How session failures become HTTP responses.

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

/// The status a session failure is answered with: `503` when the engine's backend failed
/// (it may come back: the client can retry), `500` for anything else.
pub fn status_for(error: &session_core::Error) -> StatusCode {
    if error.is_unavailable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Logs `error` and builds the plain-text response for it. The body names no detail of the
/// backend: those go to the log only.
pub(crate) fn error_response(
    engine: Option<&str>,
    action: &str,
    error: &session_core::Error,
) -> Response {
    let status = status_for(error);
    match engine {
        Some(engine) => tracing::error!(engine, %error, %status, "could not {action}"),
        None => tracing::error!(%error, %status, "could not {action}"),
    }
    let text = if status == StatusCode::SERVICE_UNAVAILABLE {
        "503 Service Unavailable: session storage is unavailable, please retry\n"
    } else {
        "500 Internal Server Error: session failure\n"
    };
    (status, text).into_response()
}

/// A session failure returned by a handler: `?` on any [`session_core::Result`] converts to
/// it, and it answers `503` for backend failures and `500` otherwise, logging the cause.
///
/// ```
/// use session_web::{Session, SessionError};
///
/// async fn handler(session: Session) -> Result<String, SessionError> {
///     let name: Option<String> = session.get("user").await?;
///     Ok(name.unwrap_or_default())
/// }
/// # let _ = handler;
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SessionError(#[from] pub session_core::Error);

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        error_response(None, "use the session", &self.0)
    }
}
