//! The demo's routes: beego's counter, login, logout and the active-session count.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use std::time::Duration;

use serde::Deserialize;
use session_core::{Error, Expiry};
use session_web::{Session, SessionError, SessionLayer};

use crate::pages;

/// The longest user name the login form accepts.
pub const MAX_NAME: usize = 64;

/// How long a "remember me" login lasts without a visit (its cookie lasts as long).
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The app on `layer`'s sessions. `/health` and `/favicon.ico` are served without a session.
pub fn router(layer: SessionLayer) -> Router {
    let layer = layer.skip_path("/health").skip_path("/favicon.ico");
    Router::new()
        .route("/", get(counter))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/sessions", get(sessions))
        .route("/health", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(layer)
}

/// beego's example controller: show `asta` (0 on a first visit) and store one more.
async fn counter(session: Session) -> Result<Html<String>, SessionError> {
    let count: u64 = session.get("asta").await?.unwrap_or(0);
    session.set("asta", &count.saturating_add(1)).await?;
    let user: Option<String> = session.get("user").await?;
    let remembered = matches!(session.expiry().await?, Some(Expiry::OnInactivity(_)));
    let engine = session.manager().engine().to_owned();
    Ok(Html(pages::counter(
        count,
        user.as_deref(),
        remembered,
        &engine,
    )))
}

async fn login_form() -> Html<String> {
    Html(pages::login(None))
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The user name.
    pub user: String,
    /// The "remember me" box: present (`on`) when ticked.
    #[serde(default)]
    pub remember: Option<String>,
}

/// Stores the name and moves the session to a new id, so an id known before login (fixed
/// by an attacker, say) is worthless after it. "Remember me" gives the session a lifetime
/// of its own, 30 days of inactivity, and a cookie that lasts as long; without it the
/// session follows the manager (a browser-session cookie by default).
async fn login(session: Session, Form(form): Form<LoginForm>) -> Result<Response, SessionError> {
    let name = form.user.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        let page = pages::login(Some(&format!(
            "Enter a user name of 1 to {MAX_NAME} characters."
        )));
        return Ok((StatusCode::BAD_REQUEST, Html(page)).into_response());
    }
    session.set("user", name).await?;
    session.regenerate().await?;
    let remember = form.remember.is_some();
    session
        .set_expiry(remember.then_some(Expiry::OnInactivity(REMEMBER_FOR)))
        .await?;
    tracing::info!(user = name, remember, "logged in");
    Ok(Redirect::to("/").into_response())
}

/// Destroys the session: data gone, cookie removed.
async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.destroy().await?;
    Ok(Redirect::to("/"))
}

async fn sessions(session: Session) -> Result<Html<String>, SessionError> {
    let manager = session.manager();
    let active = match manager.get_active_session().await {
        Ok(n) => Some(n),
        Err(Error::Unsupported { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    Ok(Html(pages::sessions(active, manager.engine())))
}
