//! The demo app's routes (`session_demo::app::router`) rebuilt on tower-sessions, with the
//! demo's own pages, so that the two serve the same bytes over HTTP.

/// The demo's routes for one version of tower-sessions.
macro_rules! tower_demo_routes {
    ($ts:ident) => {
        use axum::http::StatusCode;
        use axum::response::{Html, IntoResponse, Redirect, Response};
        use axum::routing::{get, post};
        use axum::{Form, Router};
        use session_demo::app::{LoginForm, MAX_NAME};
        use session_demo::pages;
        use $ts::{Expiry, Session, SessionManagerLayer, SessionStore};

        fn failed<E>(_: E) -> StatusCode {
            StatusCode::SERVICE_UNAVAILABLE
        }

        /// The demo on tower-sessions over `store`; `engine` is what the pages call it.
        pub fn router<S: SessionStore + Clone>(store: S, engine: &'static str) -> Router {
            Router::new()
                .route("/", get(move |session| counter(session, engine)))
                .route("/login", get(login_form).post(login))
                .route("/logout", post(logout))
                .route(
                    "/sessions",
                    get(move || async move { Html(pages::sessions(None, engine)) }),
                )
                .route("/health", get(|| async { "ok" }))
                .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
                .layer(SessionManagerLayer::new(store).with_secure(false))
        }

        async fn counter(
            session: Session,
            engine: &'static str,
        ) -> Result<Html<String>, StatusCode> {
            let count: u64 = session.get("asta").await.map_err(failed)?.unwrap_or(0);
            session
                .insert("asta", count.saturating_add(1))
                .await
                .map_err(failed)?;
            let user: Option<String> = session.get("user").await.map_err(failed)?;
            let remembered = matches!(session.expiry(), Some(Expiry::OnInactivity(_)));
            Ok(Html(pages::counter(
                count,
                user.as_deref(),
                remembered,
                engine,
            )))
        }

        async fn login_form() -> Html<String> {
            Html(pages::login(None))
        }

        async fn login(
            session: Session,
            Form(form): Form<LoginForm>,
        ) -> Result<Response, StatusCode> {
            let name = form.user.trim();
            if name.is_empty()
                || name.chars().count() > MAX_NAME
                || name.chars().any(char::is_control)
            {
                let page = pages::login(Some(&format!(
                    "Enter a user name of 1 to {MAX_NAME} characters."
                )));
                return Ok((StatusCode::BAD_REQUEST, Html(page)).into_response());
            }
            session.insert("user", name).await.map_err(failed)?;
            session.cycle_id().await.map_err(failed)?;
            if form.remember.is_some() {
                session.set_expiry(Some(Expiry::OnInactivity(time::Duration::days(30))));
            }
            Ok(Redirect::to("/").into_response())
        }

        async fn logout(session: Session) -> Result<Redirect, StatusCode> {
            session.flush().await.map_err(failed)?;
            Ok(Redirect::to("/"))
        }
    };
}

/// On tower-sessions 0.15 (its `MemoryStore`).
pub mod v015 {
    tower_demo_routes!(tower_sessions_015);
}

/// On tower-sessions 0.14 (the Redis store).
pub mod v014 {
    tower_demo_routes!(tower_sessions_014);
}
