//! The demo's pages through the real router, on the memory and file engines.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use session_demo::{app, layer, load_config, DemoError, Options};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

/// A one-cookie browser: keeps `beegosessionID` as the server sets and removes it.
struct Client {
    app: Router,
    sid: Option<String>,
}

impl Client {
    async fn new(options: Options) -> Client {
        let config = load_config(&options).unwrap();
        Client {
            app: app::router(layer(&config).await.unwrap()),
            sid: None,
        }
    }

    async fn send(&mut self, method: &str, uri: &str, form: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(sid) = &self.sid {
            request = request.header(header::COOKIE, format!("beegosessionID={sid}"));
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form.to_owned())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        if let Some(cookie) = &cookie {
            let value = cookie
                .split(';')
                .next()
                .unwrap()
                .trim_start_matches("beegosessionID=");
            self.sid = (!cookie.contains("Max-Age=0")).then(|| value.to_owned());
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            location,
            cookie,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn count(&mut self) -> String {
        let page = self.send("GET", "/", None).await.body;
        between(&page, "<span id=\"count\">", "</span>")
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let len = text[from..].find(end).unwrap();
    text[from..from + len].to_owned()
}

fn memory() -> Options {
    Options {
        provider: Some("memory".into()),
        ..Options::default()
    }
}

#[tokio::test]
async fn counter_login_logout() {
    let mut client = Client::new(memory()).await;
    assert_eq!(client.count().await, "0");
    assert_eq!(client.count().await, "1");
    assert_eq!(client.count().await, "2");
    let before = client.sid.clone().unwrap();

    let form = client.send("GET", "/login", None).await;
    assert!(form.body.contains("name=\"user\""));
    let login = client.send("POST", "/login", Some("user=alice")).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.location.as_deref(), Some("/"));
    assert_ne!(
        client.sid.as_deref(),
        Some(before.as_str()),
        "login regenerates the id"
    );
    let home = client.send("GET", "/", None).await.body;
    assert!(home.contains("<b id=\"user\">alice</b>"), "{home}");
    assert_eq!(between(&home, "<span id=\"count\">", "</span>"), "3");

    let sessions = client.send("GET", "/sessions", None).await.body;
    assert_eq!(between(&sessions, "<span id=\"active\">", "</span>"), "1");

    let logout = client.send("POST", "/logout", None).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert!(logout.cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(client.sid, None);
    assert_eq!(client.count().await, "0");
    let sessions = client.send("GET", "/sessions", None).await.body;
    assert_eq!(between(&sessions, "<span id=\"active\">", "</span>"), "1");
}

#[tokio::test]
async fn login_rejects_bad_names_and_escapes_good_ones() {
    let mut client = Client::new(memory()).await;
    for bad in ["user=", "user=+++", &format!("user={}", "x".repeat(65))] {
        let reply = client.send("POST", "/login", Some(bad)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body.contains("id=\"error\""));
    }
    client
        .send("POST", "/login", Some("user=%3Cscript%3E"))
        .await;
    let home = client.send("GET", "/", None).await.body;
    assert!(
        home.contains("&lt;script&gt;") && !home.contains("<script>"),
        "{home}"
    );
}

#[tokio::test]
async fn health_has_no_session() {
    let mut client = Client::new(memory()).await;
    let reply = client.send("GET", "/health", None).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
    assert!(reply.cookie.is_none());
}

#[tokio::test]
async fn the_file_engine_is_one_flag_away() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        provider: Some("file".into()),
        provider_config: Some(dir.path().display().to_string()),
        ..Options::default()
    };
    let mut client = Client::new(options.clone()).await;
    assert_eq!(client.count().await, "0");
    assert_eq!(client.count().await, "1");
    let sid = client.sid.clone().unwrap();
    let stored = dir.path().join(&sid[0..1]).join(&sid[1..2]).join(&sid);
    assert!(stored.is_file(), "{} missing", stored.display());
    // A restarted demo on the same directory still knows the session.
    let mut restarted = Client::new(options).await;
    restarted.sid = Some(sid);
    assert_eq!(restarted.count().await, "2");
}

#[tokio::test]
async fn configuration_comes_from_an_app_conf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    std::fs::write(
        &path,
        "appname = x\nsessionon = true\nsessionname = confsid\n",
    )
    .unwrap();
    let config = load_config(&Options {
        config: Some(path.clone()),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(config.name, "confsid");
    std::fs::write(&path, "sessionon = false\n").unwrap();
    let off = load_config(&Options {
        config: Some(path.clone()),
        ..Options::default()
    })
    .unwrap_err();
    assert!(matches!(off, DemoError::SessionsOff(_)), "{off}");
    // A misspelt key is the app's own, as in beego: it loads (with a warning) and the
    // session keeps beego's default engine.
    std::fs::write(&path, "sessionon = true\nsessionprovder = file\n").unwrap();
    let typo = load_config(&Options {
        config: Some(path.clone()),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(typo.provider, "memory");
    std::fs::write(&path, "sessionon = true\nsessionon true\n").unwrap();
    let broken = load_config(&Options {
        config: Some(path),
        ..Options::default()
    })
    .unwrap_err();
    assert!(broken.to_string().contains("line 2"), "{broken}");
    let unknown = load_config(&Options {
        provider: Some("nosuch".into()),
        ..Options::default()
    })
    .unwrap();
    let e = layer(&unknown).await.unwrap_err().to_string();
    assert!(e.contains("nosuch") && e.contains("memory"), "{e}");
}

/// The server `var` names (as `cargo xtask test` does); `None`, saying the test is skipped,
/// under a plain `cargo test`.
fn server_url(engine: &str, var: &str) -> Option<String> {
    let url = std::env::var(var).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("demo on {engine}: skipped: {var} not set (run cargo xtask test)");
    }
    url.map(|u| u.trim().to_owned())
}

/// The counter, login and logout on an engine with a server, when `var` names one.
async fn sql_flow(engine: &str, var: &str) {
    let Some(url) = server_url(engine, var) else {
        return;
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    server_flow(
        engine,
        engine_options(engine, format!("{url}{sep}table=session_demo_test")),
        true,
    )
    .await;
}

fn engine_options(engine: &str, provider_config: String) -> Options {
    Options {
        provider: Some(engine.into()),
        provider_config: Some(provider_config),
        ..Options::default()
    }
}

/// The counter, login and logout on a demo started with `options`; `counts`: whether the
/// sessions page shows a number.
async fn server_flow(engine: &str, options: Options, counts: bool) {
    let mut client = Client::new(options).await;
    assert_eq!(client.count().await, "0");
    assert_eq!(client.count().await, "1");
    let login = client.send("POST", "/login", Some("user=sql")).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let home = client.send("GET", "/", None).await.body;
    assert!(home.contains("<b id=\"user\">sql</b>"), "{home}");
    let sessions = client.send("GET", "/sessions", None).await.body;
    assert_eq!(
        !sessions.contains("unknown"),
        counts,
        "{engine} counts its sessions: {sessions}"
    );
    client.send("POST", "/logout", None).await;
    assert_eq!(client.count().await, "0");
}

#[tokio::test]
async fn the_mysql_engine_serves_the_demo() {
    sql_flow("mysql", "MYSQL_URL").await;
}

#[tokio::test]
async fn the_postgres_engine_serves_the_demo() {
    sql_flow("postgres", "POSTGRES_URL").await;
}

#[tokio::test]
async fn the_memcache_engine_serves_the_demo() {
    let Some(servers) = server_url("memcache", "MEMCACHE_SERVERS") else {
        return;
    };
    server_flow("memcache", engine_options("memcache", servers), false).await;
}

/// The `host:port` of the Redis server `REDIS_URL` names.
fn redis_addr() -> Option<String> {
    let url = server_url("redis", "REDIS_URL")?;
    Some(
        url.trim_start_matches("redis://")
            .split(['/', '?'])
            .next()?
            .to_owned(),
    )
}

#[tokio::test]
async fn the_redis_engine_serves_the_demo() {
    let Some(addr) = redis_addr() else { return };
    // As `--provider redis --provider-config 127.0.0.1:6379` (a prefix of its own added).
    let config = format!("{addr},10,,0,prefix=demo-test-flags:");
    server_flow("redis", engine_options("redis", config), true).await;
}

#[tokio::test]
async fn the_redis_engine_serves_the_demo_from_app_conf() {
    let Some(addr) = redis_addr() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    let conf = format!(
        "sessionon = true\nsessionprovider = redis\nsessionproviderconfig = {addr},10,,0,prefix=demo-test-conf:\n"
    );
    std::fs::write(&path, conf).unwrap();
    let options = Options {
        config: Some(path),
        ..Options::default()
    };
    server_flow("redis", options, true).await;
}
