//! beego's web session configuration: app.conf parsing, environment overrides, errors.

mod common;
mod conflog;

use std::sync::Arc;

use common::{app, send, Gate};
use session_core::SameSite;
use session_memory as _;
use session_web::config::{AppConf, Location, WebConfigError, WebSessionConfig};

fn parse(text: &str) -> Result<WebSessionConfig, WebConfigError> {
    WebSessionConfig::from_app_conf_str_with_env(text, "conf/app.conf", |_| None)
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn defaults_are_beegos() {
    let c = parse("").unwrap();
    assert!(!c.session_on);
    assert_eq!(
        (c.provider.as_str(), c.name.as_str(), c.gc_max_lifetime),
        ("memory", "beegosessionID", 3600)
    );
    assert!(c.auto_set_cookie && !c.disable_http_only && !c.secure);
    let m = c.manager_config().unwrap();
    assert_eq!(
        (m.cookie_name.as_str(), m.gc_lifetime, m.max_lifetime),
        ("beegosessionID", 3600, 3600)
    );
    assert_eq!(m.cookie_same_site, SameSite::Lax);
}

#[test]
fn the_absolute_lifetime_is_read_and_reaches_the_manager() {
    let c = parse("sessionabsolutelifetime = 28800\n").unwrap();
    assert_eq!(c.absolute_lifetime, 28800);
    let m = c.manager_config().unwrap();
    assert_eq!(m.absolute_lifetime, 28800);
    assert_eq!(
        m.lifetimes().absolute,
        Some(std::time::Duration::from_secs(28800))
    );
    assert_eq!(parse("").unwrap().absolute_lifetime, 0, "off by default");
    let c = parse("")
        .unwrap()
        .with_env_from([("BEEGO_SESSIONABSOLUTELIFETIME", "60")])
        .unwrap();
    assert_eq!(c.absolute_lifetime, 60);
}

#[test]
fn every_session_key_is_read() {
    let text = r#"
# beego app.conf
appname = demo
httpport = 8080
runmode = dev
EnableHTTPS = true
SessionOn = true
sessionprovider = file
sessionname = mysid
sessiongcmaxlifetime = 120
sessionproviderconfig = "./tmp/sessions"
sessioncookielifetime = 600
sessionautosetcookie = false
sessiondomain = example.test
sessiondisablehttponly = yes
sessionenablesidinhttpheader = true
sessionnameinhttpheader = X-Sid
sessionenablesidinurlquery = on
sessioncookiesamesite = 3
sessionidprefix = app_
sessionhashfunc = sha1
sessionhashkey = a-long-secret
"#;
    let c = parse(text).unwrap();
    assert!(c.session_on && c.secure);
    assert_eq!(c.provider, "file");
    let m = c.manager_config().unwrap();
    assert_eq!(m.cookie_name, "mysid");
    assert_eq!(
        (m.gc_lifetime, m.max_lifetime, m.cookie_life_time),
        (120, 120, 600)
    );
    assert_eq!(m.provider_config, "./tmp/sessions");
    assert!(!m.enable_set_cookie && m.disable_http_only && m.secure);
    assert_eq!(m.domain, "example.test");
    assert!(m.enable_sid_in_http_header && m.enable_sid_in_url_query);
    assert_eq!(m.session_name_in_http_header, "X-Sid");
    assert_eq!(m.cookie_same_site, SameSite::Strict);
    assert_eq!(m.session_id_prefix, "app_");
    assert_eq!(m.session_id_hash_key, "a-long-secret");
}

#[test]
fn run_mode_sections_override_the_top_level() {
    // beego ≥ 1.10 runs in prod unless told otherwise (server/web/config.go:526).
    let text = "sessionname = top\n[dev]\nsessionname = devsid\n[prod]\nsessionname = prodsid\n";
    assert_eq!(parse(text).unwrap().name, "prodsid");
    let dev = format!("runmode = dev\n{text}");
    assert_eq!(parse(&dev).unwrap().name, "devsid");
    let test = format!("runmode = test\n{text}");
    assert_eq!(parse(&test).unwrap().name, "top");
    // BEEGO_RUNMODE is applied after beego has read its own keys (config.go:641-650): the
    // session keys still come from the file's run mode; the app's look-ups use the variable.
    let (by_env, log) = conflog::capture(|| {
        let env = |n: &str| (n == "BEEGO_RUNMODE").then(|| "dev".to_owned());
        let app = AppConf::from_text_with_env(text, "x", env).unwrap();
        (
            app.runmode().to_owned(),
            WebSessionConfig::from_appconf(&app).unwrap().name,
        )
    });
    assert_eq!(by_env, ("dev".to_owned(), "prodsid".to_owned()));
    assert!(
        log.contains("environment variable BEEGO_RUNMODE: beego reads its own keys")
            && log.contains("with the file's run mode `prod`"),
        "{log}"
    );
}

#[test]
fn values_can_come_from_the_environment_inline() {
    let c = WebSessionConfig::from_app_conf_str_with_env(
        "sessionproviderconfig = ${SESSION_DIR||/tmp/default}\nsessionname = ${NOT_SET||fallback}\n",
        "x",
        |n| (n == "SESSION_DIR").then(|| "/srv/sessions".to_owned()),
    )
    .unwrap();
    assert_eq!(
        (c.provider_config.as_str(), c.name.as_str()),
        ("/srv/sessions", "fallback")
    );
}

#[test]
fn environment_variables_override_the_file() {
    let c = parse("sessionon = false\nsessionname = fromfile\n")
        .unwrap()
        .with_env_from([
            ("BEEGO_SESSIONON", "true"),
            ("BEEGO_SESSIONPROVIDER", "cookie"),
            ("PATH", "/usr/bin"),
            ("BEEGO_APPNAME", "ignored"),
        ])
        .unwrap();
    assert!(c.session_on);
    assert_eq!(
        (c.provider.as_str(), c.name.as_str()),
        ("cookie", "fromfile")
    );

    let e = WebSessionConfig::default()
        .with_env_from([("BEEGO_SESSIONGCMAXLIFETIME", "soon")])
        .unwrap_err();
    assert!(
        matches!(&e, WebConfigError::Value { at: Location::Env { var }, key: "sessiongcmaxlifetime", .. } if var == "BEEGO_SESSIONGCMAXLIFETIME"),
        "{e}"
    );
    let typo = WebSessionConfig::default()
        .with_env_from([("BEEGO_SESSIONPROVDER", "file")])
        .unwrap_err()
        .to_string();
    assert!(
        typo.contains("BEEGO_SESSIONPROVDER") && typo.contains("sessionprovider"),
        "{typo}"
    );
}

#[test]
fn session_config_json_overrides_the_keys() {
    let text = "sessionon = true\nsessionname = ignored\nsessionConfig = {\"cookieName\":\"fromjson\",\"gclifetime\":30,\"enableSetCookie\":true}\n";
    let (c, log) = conflog::capture(|| parse(text));
    let m = c.unwrap().manager_config().unwrap();
    assert_eq!(
        (m.cookie_name.as_str(), m.gc_lifetime, m.max_lifetime),
        ("fromjson", 30, 30)
    );
    assert!(
        log.contains("line 2: `sessionname` is not used: `sessionConfig` (conf/app.conf line 3) replaces every cookie setting"),
        "{log}"
    );
    // With sessions on, beego fails to start on JSON it cannot read (hooks.go:67-68).
    let bad = err("sessionon = true\n\nsessionconfig = {\"gclifetime\":0}\n");
    assert!(
        bad.contains("line 3") && bad.contains("gclifetime"),
        "{bad}"
    );
}

#[test]
fn only_what_stops_beego_is_an_error() {
    // ini.go:196-197: a line that is not `key = value`; `include` with two names.
    for (text, line) in [
        ("sessionon = true\nsessionon true\n", 2),
        ("\n[dev\n", 2),
        ("// a comment beego does not know\n", 1),
        ("include a.conf b.conf\n", 1),
        ("include\n", 1),
    ] {
        let e = parse(text).unwrap_err();
        assert!(matches!(e, WebConfigError::Syntax { .. }), "{text:?}: {e}");
        let e = e.to_string();
        assert!(
            e.contains(&format!("conf/app.conf line {line}: cannot parse"))
                && e.contains("fails to start on this line too"),
            "{e}"
        );
    }
    let e = err("# ok\nsessionon true\n");
    assert!(
        e.contains("line 2") && e.contains("\"sessionon true\""),
        "{e}"
    );
}

#[test]
fn invalid_combinations_fail_at_manager_config() {
    let c = parse("sessionenablesidinhttpheader = true\n")
        .unwrap()
        .with_env_from([("BEEGO_SESSIONNAMEINHTTPHEADER", "")])
        .unwrap();
    let e = c.manager_config().unwrap_err().to_string();
    assert!(e.contains("SessionNameInHTTPHeader"), "{e}");
    let c = parse("sessionhashfunc = md5\n").unwrap();
    assert!(c
        .manager_config()
        .unwrap_err()
        .to_string()
        .contains("sessionIDHashFunc"));
    // beego would send no cookie at all for this name; here it is an error to build with.
    let c = parse("sessionname = sid # the cookie\n").unwrap();
    let e = c.manager_config().unwrap_err().to_string();
    assert!(e.contains("cookieName"), "{e}");
}

#[test]
fn reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    std::fs::write(&path, "sessionon = true\nsessionname = filesid\n").unwrap();
    let c = WebSessionConfig::from_app_conf(&path).unwrap();
    assert_eq!(c.name, "filesid");
    let e = WebSessionConfig::from_app_conf(dir.path().join("nope.conf")).unwrap_err();
    assert!(
        matches!(e, WebConfigError::Read { .. }) && e.to_string().contains("nope.conf"),
        "{e}"
    );
    std::fs::write(&path, "ok\n").unwrap();
    let e = WebSessionConfig::from_app_conf(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("{} line 1", path.display())), "{e}");
}

#[tokio::test]
async fn sessionon_switches_the_layer_and_the_keys_reach_the_cookie() {
    assert!(parse("").unwrap().layer().await.unwrap().is_none());
    let c = parse("sessionon = true\nsessionname = confsid\nsessioncookielifetime = 60\n").unwrap();
    let layer = c
        .layer()
        .await
        .unwrap()
        .expect("sessionon = true gives a layer");
    let app = app(layer, Arc::new(Gate::default()));
    let reply = send(&app, "GET", "/", None).await;
    let cookie = &reply.set_cookies()[0];
    assert!(
        cookie.starts_with("confsid=") && cookie.contains("Max-Age=60"),
        "{cookie}"
    );
    let missing = parse("sessionon = true\nsessionprovider = nosuchengine\n").unwrap();
    let e = missing.layer().await.unwrap_err().to_string();
    assert!(
        e.contains("nosuchengine") && e.contains("session-nosuchengine"),
        "{e}"
    );
}
