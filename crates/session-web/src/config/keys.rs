//! Every key beego's framework reads from app.conf, in beego v1.12, v2 and before 1.6.
//!
//! beego 1.6 to v2 read the fields of `BConfig` by their Go names (`assignSingleConfig`,
//! server/web/config.go:706-735; v1.12 config.go:371-401), plus a few keys by name
//! (server/web/config.go:640-704, hooks.go:50; v1.12 config.go:294-369, hooks.go:50-100,
//! parser.go:519). beego 1.0 to 1.5 used other names for some of them (v1.5.0
//! config.go:325-516).

/// beego's session keys (lowercase, as matched) in the order beego documents them.
pub const SESSION_KEYS: &[&str] = &[
    "sessionon",
    "sessionprovider",
    "sessionname",
    "sessiongcmaxlifetime",
    "sessionproviderconfig",
    "sessioncookielifetime",
    "sessionabsolutelifetime",
    "sessionautosetcookie",
    "sessiondomain",
    "sessiondisablehttponly",
    "sessionenablesidinhttpheader",
    "sessionnameinhttpheader",
    "sessionenablesidinurlquery",
    "sessioncookiesamesite",
    "sessionidprefix",
    "sessionhashfunc",
    "sessionhashkey",
    "sessionconfig",
];

/// How beego reads a value: `DefaultBool`, `DefaultInt64` or `DefaultString`
/// (server/web/config.go:723-730).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    Text,
}

/// The session keys as beego spells them (`SessionConfig`, server/web/config.go:345-413;
/// `sessionConfig`, hooks.go:50; `SessionHashFunc`/`SessionHashKey`, beego ≤ 1.4), with how
/// beego reads each.
pub(crate) const SESSION: &[(&str, Kind)] = &[
    ("SessionOn", Kind::Bool),
    ("SessionProvider", Kind::Text),
    ("SessionName", Kind::Text),
    ("SessionGCMaxLifetime", Kind::Int),
    ("SessionProviderConfig", Kind::Text),
    ("SessionCookieLifeTime", Kind::Int),
    // Ours, not beego's: the absolute lifetime (ManagerConfig::absolute_lifetime).
    ("SessionAbsoluteLifetime", Kind::Int),
    ("SessionAutoSetCookie", Kind::Bool),
    ("SessionDomain", Kind::Text),
    ("SessionDisableHTTPOnly", Kind::Bool),
    ("SessionEnableSidInHTTPHeader", Kind::Bool),
    ("SessionNameInHTTPHeader", Kind::Text),
    ("SessionEnableSidInURLQuery", Kind::Bool),
    ("SessionCookieSameSite", Kind::Int),
    ("SessionIDPrefix", Kind::Text),
    ("SessionHashFunc", Kind::Text),
    ("SessionHashKey", Kind::Text),
    ("sessionConfig", Kind::Text),
];

/// beego's other framework keys (v1.12 and v2), as spelt in its sources. This library reads
/// only `EnableHTTPS` (the session cookie's `Secure`, hooks.go:56) and `RunMode`.
pub(crate) const FRAMEWORK: &[&str] = &[
    // Config (server/web/config.go:37-131)
    "AppName",
    "RunMode",
    "RouterCaseSensitive",
    "ServerName",
    "RecoverPanic",
    "CopyRequestBody",
    "EnableGzip",
    "MaxMemory",
    "MaxUploadSize",
    "EnableErrorsShow",
    "EnableErrorsRender",
    // Listen (server/web/config.go:134-245)
    "Graceful",
    "ServerTimeOut",
    "ListenTCP4",
    "EnableHTTP",
    "HTTPAddr",
    "HTTPPort",
    "AutoTLS",
    "Domains",
    "TLSCacheDir",
    "EnableHTTPS",
    "EnableMutualHTTPS",
    "HTTPSAddr",
    "HTTPSPort",
    "HTTPSCertFile",
    "HTTPSKeyFile",
    "TrustCaFile",
    "ClientAuth",
    "EnableAdmin",
    "AdminAddr",
    "AdminPort",
    "EnableFcgi",
    "EnableStdIo",
    // WebConfig (server/web/config.go:248-343; XSRFSecure and XSRFHttpOnly: v1.12.10+)
    "AutoRender",
    "EnableDocs",
    "FlashName",
    "FlashSeparator",
    "DirectoryIndex",
    "StaticDir",
    "StaticExtensionsToGzip",
    "StaticCacheFileSize",
    "StaticCacheFileNum",
    "TemplateLeft",
    "TemplateRight",
    "ViewsPath",
    "CommentRouterPath",
    "EnableXSRF",
    "XSRFKey",
    "XSRFExpire",
    "XSRFSecure",
    "XSRFHttpOnly",
    // LogConfig (server/web/config.go:416-438) and LogOutputs (config.go:690)
    "AccessLogs",
    "EnableStaticLogs",
    "AccessLogsFormat",
    "FileLineNum",
    "Outputs",
    "LogOutputs",
    // Read by name: hooks.go (gzip), v1.12 parser.go:519 (routersdir)
    "gzipMinLength",
    "gzipCompressLevel",
    "routersdir",
];

/// A key name of beego 1.0 to 1.5, renamed (or dropped) in 1.6; beego 1.6 and later ignore
/// it.
#[derive(Debug)]
pub(crate) struct OldKey {
    /// The old name, as beego spelt it.
    pub old: &'static str,
    /// Today's name for the same setting, if it still exists.
    pub now: Option<&'static str>,
    /// Where beego ≤ 1.5 used it for sessions; this library maps those to today's key.
    pub session_use: Option<&'static str>,
}

/// beego ≤ 1.5's names that differ from today's (beyond case).
pub(crate) const OLD: &[OldKey] = &[
    old(
        "SessionSavePath",
        "SessionProviderConfig",
        Some("the engine's configuration, v1.5.0 beego.go:307"),
    ),
    old(
        "EnableHttpTLS",
        "EnableHTTPS",
        Some("the session cookie's Secure, v1.5.0 beego.go:308"),
    ),
    old(
        "HttpTLS",
        "EnableHTTPS",
        Some("the session cookie's Secure, v1.2.0 beego.go:273"),
    ),
    old("AdminHttpAddr", "AdminAddr", None),
    old("AdminHttpPort", "AdminPort", None),
    old("BeegoServerName", "ServerName", None),
    old("EnableHttpListen", "EnableHTTP", None),
    old("ErrorsShow", "EnableErrorsShow", None),
    old("FlashSeperator", "FlashSeparator", None),
    old("HttpCertFile", "HTTPSCertFile", None),
    old("HttpKeyFile", "HTTPSKeyFile", None),
    old("HttpServerTimeOut", "ServerTimeOut", None),
    old("UseFcgi", "EnableFcgi", None),
    old("UseStdIo", "EnableStdIo", None),
    OldKey {
        old: "HotUpdate",
        now: None,
        session_use: None,
    },
];

const fn old(old: &'static str, now: &'static str, session_use: Option<&'static str>) -> OldKey {
    OldKey {
        old,
        now: Some(now),
        session_use,
    }
}

/// The top-level fields of beego v2's `Config` (server/web/config.go:37-131): v2 decodes a
/// section of that name into `BConfig` (config.go:620).
const V2_CONFIG_FIELDS: &[&str] = &[
    "appname",
    "runmode",
    "routercasesensitive",
    "recoverpanic",
    "copyrequestbody",
    "enablegzip",
    "enableerrorsshow",
    "enableerrorsrender",
    "servername",
    "recoverfunc",
    "maxmemory",
    "maxuploadsize",
    "listen",
    "webconfig",
    "log",
];

/// A session key's spelling in beego and how beego reads it.
pub(crate) fn session_key(key: &str) -> Option<(&'static str, Kind)> {
    SESSION
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .copied()
}

/// The old (beego ≤ 1.5) key named `key`, if it is one.
pub(crate) fn old_key(key: &str) -> Option<&'static OldKey> {
    OLD.iter().find(|k| k.old.eq_ignore_ascii_case(key))
}

/// True when beego (any version) reads `key` itself: a session, framework or old key.
pub(crate) fn is_framework(key: &str) -> bool {
    session_key(key).is_some()
        || FRAMEWORK.iter().any(|k| k.eq_ignore_ascii_case(key))
        || old_key(key).is_some()
}

/// True when beego v2 decodes a section named `name` into its `BConfig`.
pub(crate) fn is_v2_config_field(name: &str) -> bool {
    V2_CONFIG_FIELDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_list_matches_beegos_spellings() {
        let lower: Vec<String> = SESSION.iter().map(|(k, _)| k.to_lowercase()).collect();
        assert_eq!(lower, SESSION_KEYS);
    }

    #[test]
    fn keys_of_every_version_are_known() {
        for key in [
            "logoutputs",
            "ClientAuth",
            "maxuploadsize",
            "xsrfhttponly",
            "commentrouterpath",
            "sessionsavepath",
            "HttpServerTimeOut",
            "routersdir",
        ] {
            assert!(is_framework(key), "{key}");
        }
        assert!(!is_framework("mysqluser"));
        assert!(!is_framework("domain"));
    }
}
