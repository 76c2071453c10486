//! A beego app's whole app.conf: its own keys read with beego's accessors, real files full of
//! app keys and old names, includes, and secrets kept out of every message.

mod conflog;

use conflog::{capture, load, Tree};
use session_web::config::{AppConf, WebConfigError, WebSessionConfig};

fn app(text: &str) -> AppConf {
    AppConf::from_text_with_env(text, "conf/app.conf", |_| None).unwrap()
}

#[test]
fn beego_accessors_read_the_apps_own_keys() {
    let a = app(
        "appname = shop\nrunmode = dev\nMySQLUser = root\nhttpport = 8080\nratio = 0.5\n\
         hosts = a;b;c\nflag = TRUE\nodd = tRue\nmy key = spaced\nempty =\n\
         [dev]\nmysqluser = devuser\nhttpport = oops\nempty =\n[lang]\ntypes = en-US|zh-CN\n",
    );
    assert_eq!(a.runmode(), "dev");
    // beegoAppConfig.String: the run mode's section first when not empty (config.go:778-783).
    assert_eq!(a.string("mysqluser"), "devuser");
    assert_eq!(a.string("MYSQLUSER"), "devuser");
    assert_eq!(a.string("default::mysqluser"), "root");
    assert_eq!(a.string("lang::types"), "en-US|zh-CN");
    assert_eq!(a.string("nosuchkey"), "");
    assert_eq!(a.default_string("nosuchkey", "dflt"), "dflt");
    assert_eq!(a.default_string("empty", "dflt"), "dflt");
    assert_eq!(a.get("nosuchkey"), None);
    assert_eq!(a.get("empty"), Some(""));
    // Int: the run mode's value only when it parses (config.go:792-797).
    assert_eq!(a.int("httpport"), Ok(8080));
    assert_eq!(a.default_int("nosuchkey", 7), 7);
    assert_eq!(a.float("ratio"), Ok(0.5));
    assert_eq!(a.strings("hosts"), ["a", "b", "c"]);
    assert!(a.strings("nosuchkey").is_empty());
    assert_eq!(a.default_strings("nosuchkey", &["x"]), ["x"]);
    assert_eq!(a.bool("flag"), Ok(true));
    // ParseBool's exact spellings (core/config/config.go:321-326).
    let e = a.bool("odd").unwrap_err();
    assert_eq!(
        e.to_string(),
        "app.conf key `odd` = \"tRue\" is not a boolean"
    );
    assert!(a.default_bool("odd", true));
    // ini.go:156: keys keep inner spaces.
    assert_eq!(a.string("my key"), "spaced");
    let lang = a.section("LANG").unwrap();
    assert_eq!(lang.get("types").map(String::as_str), Some("en-US|zh-CN"));
    assert!(a.section("nosuch").is_none());
    assert_eq!(
        a.section_names().collect::<Vec<_>>(),
        ["default", "dev", "lang"]
    );
}

/// An app.conf as public beego apps write them: the app's own settings, beego 1.x names,
/// a `[dev]` section and `${ENV}` values.
const REAL_APP_CONF: &str = r#"appname = blog
httpaddr = "0.0.0.0"
httpport = 8080
runmode = "${RUN_MODE||dev}"
autorender = false
copyrequestbody = true
EnableDocs = true
EnableAdmin = true
AdminHttpAddr = 0.0.0.0
AdminHttpPort = 8088
HttpServerTimeOut = 60
UseFcgi = false
FlashSeperator = BLOGFLASH
TemplateLeft = <<
TemplateRight = >>
viewspath = views
StaticDir = static:static download:download
XSRFKEY = 61oETzKXQAGaYdkL5gEmGeJJFuYh7EQnp2XdTP1o
enablexsrf = true
xsrfexpire = 3600
LogOutputs = console,{} ;file,{"filename":"logs/blog.log"}

# sessions, the beego 1.4 way
sessionon = true
SessionProvider = mysql
SessionSavePath = "root:hunter2@tcp(127.0.0.1:3306)/blog?charset=utf8"
SessionName = blogsid
SessionGCMaxLifetime = 86400
EnableHttpTLS = false

# the app's own
mysqluser = "root"
mysqlpass = "hunter2"
mysqlurls = "127.0.0.1"
mysqldb   = "blog"
qiniu_ak = AKxxxxxxxxxxxx
qiniu_sk = SKxxxxxxxxxxxx
pagesize = 20
site.title = My Blog
lang = en-US|zh-CN

[dev]
httpport = 8081
SessionGCMaxLifetime = 60

[prod]
httpport = 80
"#;

#[test]
fn a_real_app_conf_full_of_app_keys_and_old_names_loads() {
    let tree = Tree::new(&[("conf/app.conf", REAL_APP_CONF)]);
    let ((app, sessions), log) = capture(|| {
        let app = AppConf::from_file_with_env(tree.path("conf/app.conf"), |_| None).unwrap();
        let sessions = WebSessionConfig::from_appconf(&app).unwrap();
        (app, sessions)
    });
    assert_eq!(app.runmode(), "dev");
    assert_eq!(app.int("httpport"), Ok(8081));
    assert_eq!(app.string("mysqlpass"), "hunter2");
    assert_eq!(app.int("pagesize"), Ok(20));
    assert_eq!(app.string("site.title"), "My Blog");
    assert!(sessions.session_on);
    assert_eq!(sessions.provider, "mysql");
    assert_eq!(sessions.name, "blogsid");
    assert_eq!(sessions.gc_max_lifetime, 60);
    assert_eq!(
        sessions.provider_config,
        "root:hunter2@tcp(127.0.0.1:3306)/blog?charset=utf8"
    );
    assert!(!sessions.secure);
    for warning in [
        "line 9: `AdminHttpAddr` is beego ≤ 1.5's name for `AdminAddr`",
        "line 12: `UseFcgi` is beego ≤ 1.5's name for `EnableFcgi`",
        "line 13: `FlashSeperator` is beego ≤ 1.5's name for `FlashSeparator`",
        "line 26: `SessionSavePath` is beego ≤ 1.5's name for `SessionProviderConfig`",
        "line 29: `EnableHttpTLS` is an old beego name for `EnableHTTPS`",
    ] {
        assert!(log.contains(warning), "no {warning:?} in:\n{log}");
    }
    // Nothing else is remarked on: app keys are the app's, and no secret is logged.
    assert_eq!(log.lines().count(), 7, "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    let debug = format!("{app:?} {sessions:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("SKxxx"),
        "{debug}"
    );
    assert!(
        debug.contains("AKxxxxxxxxxxxx") && debug.contains("blogsid"),
        "{debug}"
    );
}

#[test]
fn every_framework_key_of_beego_v112_and_v2_is_known() {
    // Every field assignSingleConfig reads (server/web/config.go:37-438; v1.12
    // config.go:35-122, XSRFSecure/XSRFHttpOnly from v1.12.10) and the keys read by name
    // (config.go:640-704, hooks.go:50, v1.12 hooks.go:99-100, parser.go:519).
    let text = "AppName = a\nRunMode = prod\nRouterCaseSensitive = true\nServerName = s\n\
        RecoverPanic = true\nCopyRequestBody = true\nEnableGzip = true\nMaxMemory = 1\n\
        MaxUploadSize = 1\nEnableErrorsShow = true\nEnableErrorsRender = true\nGraceful = false\n\
        ServerTimeOut = 1\nListenTCP4 = false\nEnableHTTP = true\nHTTPAddr = 127.0.0.1\n\
        HTTPPort = 1\nAutoTLS = false\nDomains = a.test\nTLSCacheDir = .\nEnableHTTPS = false\n\
        EnableMutualHTTPS = false\nHTTPSAddr = 127.0.0.1\nHTTPSPort = 1\nHTTPSCertFile = c\n\
        HTTPSKeyFile = k\nTrustCaFile = t\nClientAuth = 4\nEnableAdmin = false\nAdminAddr = a\n\
        AdminPort = 1\nEnableFcgi = false\nEnableStdIo = false\nAutoRender = true\n\
        EnableDocs = false\nFlashName = F\nFlashSeparator = S\nDirectoryIndex = false\n\
        StaticDir = static\nStaticExtensionsToGzip = .css\nStaticCacheFileSize = 1\n\
        StaticCacheFileNum = 1\nTemplateLeft = {{\nTemplateRight = }}\nViewsPath = views\n\
        CommentRouterPath = controllers\nEnableXSRF = false\nXSRFKey = k\nXSRFExpire = 0\n\
        XSRFSecure = false\nXSRFHttpOnly = false\nAccessLogs = false\nEnableStaticLogs = false\n\
        AccessLogsFormat = APACHE_FORMAT\nFileLineNum = true\nOutputs = console\n\
        LogOutputs = console,{}\ngzipMinLength = 20\ngzipCompressLevel = 1\nroutersdir = routers\n\
        SessionOn = false\nSessionProvider = memory\nSessionName = sid\n\
        SessionGCMaxLifetime = 60\nSessionProviderConfig = x\nSessionCookieLifeTime = 0\n\
        SessionAutoSetCookie = true\nSessionDomain = a.test\nSessionDisableHTTPOnly = false\n\
        SessionEnableSidInHTTPHeader = false\nSessionNameInHTTPHeader = H\n\
        SessionEnableSidInURLQuery = false\nSessionCookieSameSite = 2\nSessionIDPrefix = p\n\
        SessionHashFunc = sha1\n";
    let (loaded, log) = load(&[("app.conf", text)]);
    let c = loaded.unwrap();
    assert_eq!((c.name.as_str(), c.gc_max_lifetime), ("sid", 60));
    assert!(log.is_empty(), "{log}");
}

#[test]
fn include_errors_are_beegos() {
    // ini.go:170-172: a missing included file stops beego.
    let (loaded, _) = load(&[("app.conf", "appname = x\ninclude \"nosuch.conf\"\n")]);
    let e = loaded.unwrap_err();
    assert!(matches!(e, WebConfigError::Include { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("app.conf line 2: cannot read the included file") && e.contains("nosuch.conf"),
        "{e}"
    );
    // beego recurses until it crashes; here it is an error naming the cycle.
    let (loaded, _) = load(&[
        ("app.conf", "include a.conf\n"),
        ("a.conf", "sessionon = true\ninclude app.conf\n"),
    ]);
    let e = loaded.unwrap_err();
    assert!(matches!(e, WebConfigError::IncludeCycle { .. }), "{e}");
    assert!(e.to_string().contains("a.conf line 2"), "{e}");
    // Nested includes are relative to the file that names them (ini.go:166-167, 54-60).
    let (loaded, log) = load(&[
        ("app.conf", "include conf.d/a.conf\n"),
        ("conf.d/a.conf", "include b.conf\n"),
        ("conf.d/b.conf", "sessionname = nested\n"),
    ]);
    assert_eq!(loaded.unwrap().name, "nested");
    assert!(log.is_empty(), "{log}");
}

#[test]
fn syntax_errors_never_echo_secrets() {
    for line in [
        "mysqlpassword: hunter2",
        "root:hunter2@tcp(127.0.0.1:3306)/blog",
        "redis password hunter2",
        "aHVudGVyMmh1bnRlcjJodW50ZXIy2",
    ] {
        let text = format!("appname = x\n{line}\n");
        let e = WebSessionConfig::from_app_conf_str_with_env(&text, "conf/app.conf", |_| None)
            .unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("conf/app.conf line 2"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("aHVudGVy"),
            "{line:?} leaks: {shown}"
        );
        assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
    }
}

#[test]
fn warnings_and_accessor_errors_never_quote_secrets() {
    let text = "mysqlpassword = \"hunter2\nsessionhashkey = \"hunter2hunter2hunter2\n\
                sessionproviderconfig = \"127.0.0.1:6379,100,hunter2\n\
                db_url = \"mysql://root:hunter2@127.0.0.1/blog\napi_token = hunter2\n";
    let (app, log) = capture(|| AppConf::from_text_with_env(text, "conf/app.conf", |_| None));
    let app = app.unwrap();
    assert_eq!(log.matches("do not pair up").count(), 4, "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    let e = app.int("api_token").unwrap_err().to_string();
    assert!(e.contains("api_token") && !e.contains("hunter2"), "{e}");
    let (c, log) = capture(|| WebSessionConfig::from_appconf(&app));
    assert!(!log.contains("hunter2"), "{log}");
    assert!(!format!("{:?} {app:?}", c.unwrap()).contains("hunter2"));
}

#[test]
fn a_file_that_is_not_utf8_loads() {
    // A GBK comment: beego reads bytes; only this line's text is replaced here.
    let tree = Tree::new(&[]);
    let path = tree.path("app.conf");
    std::fs::write(
        &path,
        b"# \xc4\xe3\xba\xc3\nsessionon = true\nsessionname = gbk\n",
    )
    .unwrap();
    let (c, log) = capture(|| WebSessionConfig::from_app_conf(&path));
    let c = c.unwrap();
    assert!(c.session_on && c.name == "gbk");
    assert!(
        log.contains("app.conf line 1: this line is not UTF-8"),
        "{log}"
    );
}
