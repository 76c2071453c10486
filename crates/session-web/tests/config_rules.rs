//! One small app.conf per rule of beego's app.conf reading, each with the session setting
//! beego produces from it, written from beego's sources (beego/beego: v2 `core/config/ini.go`
//! and `server/web/config.go`, the same code in v1.12's `config/ini.go` and `config.go`;
//! older names from v1.5.0 `config.go`), and the warning this library logs where beego
//! silently ignores or replaces a value.

mod conflog;

use conflog::load;
use session_core::SameSite;
use session_web::config::WebSessionConfig;

/// One rule: an app.conf (and the files it includes), the setting it yields, and the
/// warnings (parts of the log; none at all when empty).
struct Rule {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    setting: fn(&WebSessionConfig) -> String,
    beego_gives: &'static str,
    warnings: &'static [&'static str],
}

fn on(c: &WebSessionConfig) -> String {
    c.session_on.to_string()
}
fn name(c: &WebSessionConfig) -> String {
    c.name.clone()
}
fn provider(c: &WebSessionConfig) -> String {
    c.provider.clone()
}
fn provider_config(c: &WebSessionConfig) -> String {
    c.provider_config.clone()
}
fn gc(c: &WebSessionConfig) -> String {
    c.gc_max_lifetime.to_string()
}
fn cookie_lifetime(c: &WebSessionConfig) -> String {
    c.cookie_lifetime.to_string()
}
fn same_site(c: &WebSessionConfig) -> String {
    format!("{:?}", c.cookie_same_site)
}
fn secure(c: &WebSessionConfig) -> String {
    c.secure.to_string()
}
fn domain(c: &WebSessionConfig) -> String {
    c.domain.clone()
}

const RULES: &[Rule] = &[
    // 1. App keys: ini.go:154-204 stores every `key = value`; config.go:706-735 reads only
    // BConfig's fields, so the app's own keys change nothing.
    Rule {
        name: "app_keys_are_the_apps",
        files: &[("app.conf", "mysqluser = root\ndb_host = 127.0.0.1\nqiniu_ak = x\nsessionon = true\n")],
        setting: on,
        beego_gives: "true",
        warnings: &[],
    },
    Rule {
        name: "misspelt_session_name_is_an_app_key",
        files: &[("app.conf", "SesstionName = sid\n")],
        setting: name,
        beego_gives: "beegosessionID",
        warnings: &["app.conf line 1: `SesstionName` is not a key beego reads", "did you mean `SessionName`?"],
    },
    Rule {
        name: "underscored_session_key_is_an_app_key",
        files: &[("app.conf", "session_provider = file\n")],
        setting: provider,
        beego_gives: "memory",
        warnings: &["did you mean `SessionProvider`?"],
    },
    Rule {
        name: "bare_session_is_an_app_key",
        files: &[("app.conf", "session = true\n")],
        setting: on,
        beego_gives: "false",
        warnings: &["`session` is not a key beego reads", "did you mean `SessionOn`?"],
    },
    Rule {
        // `domain` is one edit from beego's `Domains` (TLS hosts), which means something
        // else: no hint, and no session domain.
        name: "domain_is_not_domains",
        files: &[("app.conf", "domain = example.com\n")],
        setting: domain,
        beego_gives: "",
        warnings: &[],
    },
    Rule {
        name: "session_like_key_is_named",
        files: &[("app.conf", "sessiontimeout = 30\n")],
        setting: gc,
        beego_gives: "3600",
        warnings: &["`sessiontimeout` starts like a session key but is none of beego's"],
    },
    // 2. include (ini.go:159-193): the other file, relative to the including one, merged
    // over the keys read so far; later lines win.
    Rule {
        name: "include_merges_the_other_file",
        files: &[
            ("app.conf", "sessionon = true\ninclude \"conf.d/session.conf\"\n"),
            ("conf.d/session.conf", "sessionname = incsid\n[prod]\nsessionprovider = file\n"),
        ],
        setting: |c| format!("{} {}", c.name, c.provider),
        beego_gives: "incsid file",
        warnings: &[],
    },
    Rule {
        name: "include_overrides_earlier_lines_and_later_lines_win",
        files: &[
            ("app.conf", "sessionname = a\nsessiondomain = a.test\ninclude s.conf\nsessiondomain = c.test\n"),
            ("s.conf", "sessionname = b\nsessiondomain = b.test\n"),
        ],
        setting: |c| format!("{} {}", c.name, c.domain),
        beego_gives: "b c.test",
        warnings: &[],
    },
    Rule {
        // ini.go:157 lowercases the line first: beego looks for `shared.conf`.
        name: "include_name_is_lowercased_by_beego",
        files: &[("app.conf", "include Shared.conf\n"), ("Shared.conf", "sessionname = shared\n")],
        setting: name,
        beego_gives: "shared",
        warnings: &["beego lowercases include lines and looks for"],
    },
    Rule {
        name: "include_inside_a_section_merges_at_the_top",
        files: &[("app.conf", "[dev]\ninclude s.conf\n"), ("s.conf", "sessionname = top\n")],
        setting: name,
        beego_gives: "top",
        warnings: &["`include` inside [dev]"],
    },
    // 3. Old names: beego ≤ 1.5 read SessionSavePath as the provider config (v1.5.0
    // config.go:379, beego.go:307) and EnableHttpTLS as the cookie's Secure (beego.go:308);
    // 1.6+ ignore both.
    Rule {
        name: "session_save_path_is_the_provider_config",
        files: &[("app.conf", "sessionprovider = file\nSessionSavePath = ./tmp\n")],
        setting: provider_config,
        beego_gives: "./tmp",
        warnings: &["app.conf line 2: `SessionSavePath` is beego ≤ 1.5's name for `SessionProviderConfig`", "reads it as `SessionProviderConfig`"],
    },
    Rule {
        name: "session_save_path_loses_to_provider_config",
        files: &[("app.conf", "SessionSavePath = ./old\nsessionproviderconfig = ./new\n")],
        setting: provider_config,
        beego_gives: "./new",
        warnings: &["since `SessionProviderConfig` is set"],
    },
    Rule {
        name: "enable_http_tls_is_enable_https",
        files: &[("app.conf", "EnableHttpTLS = true\n")],
        setting: secure,
        beego_gives: "true",
        warnings: &["`EnableHttpTLS` is an old beego name for `EnableHTTPS`"],
    },
    Rule {
        name: "old_non_session_names_are_ignored",
        files: &[("app.conf", "HttpServerTimeOut = 30\nAdminHttpAddr = 127.0.0.1\nsessionon = true\n")],
        setting: on,
        beego_gives: "true",
        warnings: &[
            "line 1: `HttpServerTimeOut` is beego ≤ 1.5's name for `ServerTimeOut`; beego 1.6 and later ignore it",
            "line 2: `AdminHttpAddr` is beego ≤ 1.5's name for `AdminAddr`",
        ],
    },
    // 4. Values beego cannot read fall back to its default (config.go:841-853 with
    // DefaultInt64/DefaultBool; ParseBool's spellings: core/config/config.go:321-326).
    Rule {
        name: "arithmetic_is_not_a_number",
        files: &[("app.conf", "SessionGCMaxLifetime = 3600 * 24\n")],
        setting: gc,
        beego_gives: "3600",
        warnings: &["line 1: `SessionGCMaxLifetime` = \"3600 * 24\" is not a whole number beego reads", "so beego uses its default, 3600 seconds; so does this library"],
    },
    Rule {
        name: "mixed_case_true_is_not_a_boolean",
        files: &[("app.conf", "sessionon = tRue\n")],
        setting: on,
        beego_gives: "false",
        warnings: &["`sessionon` = \"tRue\" is not one of the booleans beego reads", "its default, false"],
    },
    Rule {
        // ini.go:124-137: only whole lines are comments.
        name: "inline_comment_is_part_of_a_text_value",
        files: &[("app.conf", "sessionname = sid # the cookie\n")],
        setting: name,
        beego_gives: "sid # the cookie",
        warnings: &["beego has no inline comments: `sessionname` is \"sid # the cookie\""],
    },
    Rule {
        name: "inline_comment_spoils_a_number",
        files: &[("app.conf", "sessiongcmaxlifetime = 60 # a minute\n")],
        setting: gc,
        beego_gives: "3600",
        warnings: &["beego has no inline comments, so the `#`/`;` part is part of the value"],
    },
    Rule {
        // ini.go:200-202: bytes.Trim(val, `"`) strips every leading and trailing quote.
        name: "unterminated_quote_is_stripped",
        files: &[("app.conf", "sessionname = \"sid\n")],
        setting: name,
        beego_gives: "sid",
        warnings: &["the quotes of `sessionname` do not pair up", "reads \"sid\""],
    },
    Rule {
        name: "text_after_a_closing_quote_is_kept",
        files: &[("app.conf", "sessionname = \"sid\" # c\n")],
        setting: name,
        beego_gives: "sid\" # c",
        warnings: &["do not pair up"],
    },
    Rule {
        // beego reads 0, then spins: session.go:280 AfterFunc(0) and :115 maxlifetime 0.
        name: "zero_gc_lifetime_is_not_a_busy_loop",
        files: &[("app.conf", "sessiongcmaxlifetime = 0\n")],
        setting: gc,
        beego_gives: "3600",
        warnings: &["`sessiongcmaxlifetime` = 0: beego reads it, then runs its session GC in a busy loop and expires every session at once", "this library uses beego's default, 3600 seconds, instead"],
    },
    Rule {
        name: "negative_gc_lifetime_is_not_a_busy_loop",
        files: &[("app.conf", "sessiongcmaxlifetime = -1\n")],
        setting: gc,
        beego_gives: "3600",
        warnings: &["= -1: beego reads it, then runs its session GC in a busy loop"],
    },
    Rule {
        // session.go:223: Max-Age only for a lifetime > 0.
        name: "negative_cookie_lifetime_is_a_browser_session_cookie",
        files: &[("app.conf", "sessioncookielifetime = -1\n")],
        setting: cookie_lifetime,
        beego_gives: "0",
        warnings: &["beego sets no Max-Age for a lifetime of 0 or less"],
    },
    Rule {
        name: "huge_lifetime_is_capped",
        files: &[("app.conf", "sessiongcmaxlifetime = 999999999999\n")],
        setting: gc,
        beego_gives: "315360000",
        warnings: &["is more than ten years"],
    },
    Rule {
        // SessionCookieSameSite is an http.SameSite, read with DefaultInt64 (config.go:726).
        name: "same_site_name_is_not_a_number",
        files: &[("app.conf", "sessioncookiesamesite = strict\n")],
        setting: same_site,
        beego_gives: "Lax",
        warnings: &["its default, 1 (no SameSite attribute); this library uses its own default, Lax", "write 3 for \"strict\""],
    },
    Rule {
        name: "same_site_number_3_is_strict",
        files: &[("app.conf", "sessioncookiesamesite = 3\n")],
        setting: same_site,
        beego_gives: "Strict",
        warnings: &[],
    },
    Rule {
        name: "same_site_number_1_sends_no_attribute",
        files: &[("app.conf", "sessioncookiesamesite = 1\n")],
        setting: same_site,
        beego_gives: "Unset",
        warnings: &[],
    },
    Rule {
        name: "same_site_unknown_number_sends_no_attribute",
        files: &[("app.conf", "sessioncookiesamesite = 7\n")],
        setting: same_site,
        beego_gives: "Unset",
        warnings: &["Go writes no SameSite attribute for it"],
    },
    // 5. Resolution: runmode default prod (config.go:526), read with `prod::runmode` first
    // (config.go:641, 778-783); `[default]` is the top level (ini.go:35, 86, 498).
    Rule {
        name: "runmode_absent_is_prod",
        files: &[("app.conf", "sessionname = top\n[dev]\nsessionname = d\n[prod]\nsessionname = p\n")],
        setting: name,
        beego_gives: "p",
        warnings: &[],
    },
    Rule {
        name: "runmode_dev_reads_dev",
        files: &[("app.conf", "RunMode = dev\nsessionname = top\n[dev]\nsessionname = d\n")],
        setting: name,
        beego_gives: "d",
        warnings: &[],
    },
    Rule {
        name: "runmode_in_prod_section_is_read_first",
        files: &[("app.conf", "sessionname = top\n[prod]\nrunmode = dev\n[dev]\nsessionname = d\n")],
        setting: name,
        beego_gives: "d",
        warnings: &[],
    },
    Rule {
        name: "default_section_is_the_top_level",
        files: &[("app.conf", "sessionon = true\n[default]\nsessionname = fromdefault\n")],
        setting: name,
        beego_gives: "fromdefault",
        warnings: &[],
    },
    Rule {
        // DefaultString: "" gives the default (config.go:820-825).
        name: "empty_value_is_beegos_default",
        files: &[("app.conf", "sessionname =\n")],
        setting: name,
        beego_gives: "beegosessionID",
        warnings: &["`sessionname` = \"\" is empty, so beego uses its default, \"beegosessionID\""],
    },
    Rule {
        // String: the run mode's value only when not empty (config.go:778-783).
        name: "empty_dev_override_falls_back_to_the_top_level",
        files: &[("app.conf", "runmode = dev\nsessionname = top\n[dev]\nsessionname =\n")],
        setting: name,
        beego_gives: "top",
        warnings: &["line 4: `sessionname` = \"\" is empty, so beego uses the top-level value (", "app.conf line 2)"],
    },
    Rule {
        // Bool: the run mode's value only when it parses (config.go:806-811).
        name: "unreadable_dev_override_falls_back_to_the_top_level",
        files: &[("app.conf", "runmode = dev\nsessionon = true\n[dev]\nsessionon = maybe\n")],
        setting: on,
        beego_gives: "true",
        warnings: &["line 4: `sessionon` = \"maybe\" is not one of the booleans", "the top-level value"],
    },
    Rule {
        // session.go:112: provides[name], exact; session-core ignores case.
        name: "provider_name_keeps_its_case",
        files: &[("app.conf", "sessionprovider = File\n")],
        setting: provider,
        beego_gives: "File",
        warnings: &["beego finds engines by their exact name", "uses `file`"],
    },
    Rule {
        // ini.go:156: the key is trimmed and lowercased, spaces inside kept.
        name: "key_with_spaces_is_its_own_key",
        files: &[("app.conf", "session name = spaced\n")],
        setting: name,
        beego_gives: "beegosessionID",
        warnings: &["`session name` is not a key beego reads", "did you mean `SessionName`?"],
    },
    Rule {
        // ini.go:139-140: `[]` names the section "", which no look-up reaches.
        name: "empty_section_header_hides_its_keys",
        files: &[("app.conf", "sessionname = top\n[]\nsessionname = hidden\n")],
        setting: name,
        beego_gives: "top",
        warnings: &["line 2: `[]` starts a section named \"\""],
    },
    Rule {
        name: "section_names_keep_their_spaces",
        files: &[("app.conf", "sessionname = top\n[ prod ]\nsessionname = hidden\n")],
        setting: name,
        beego_gives: "top",
        warnings: &["section [ prod ] keeps its spaces"],
    },
    Rule {
        name: "a_later_line_wins",
        files: &[("app.conf", "sessionname = first\nsessionname = second\n")],
        setting: name,
        beego_gives: "second",
        warnings: &["line 2: `sessionname` is set again"],
    },
    Rule {
        // config.go:620 mapstructure-decodes sections into BConfig in v2 only.
        name: "v2_config_section_is_flagged",
        files: &[("app.conf", "sessionon = true\n[log]\naccesslogs = true\n")],
        setting: on,
        beego_gives: "true",
        warnings: &["beego v2 decodes a section named [log] into its BConfig"],
    },
    // 6. Keys only beego ≤ 1.4.2 read.
    Rule {
        name: "session_hash_key_is_ours",
        files: &[("app.conf", "sessionhashkey = 0123456789abcdef0123456789abcdef\n")],
        setting: |c| c.hash_key.len().to_string(),
        beego_gives: "32",
        warnings: &["beego 1.4.3 and later ignore `sessionhashkey`"],
    },
    // sessionConfig is read only with sessions on (hooks.go:48-50).
    Rule {
        name: "bad_session_config_is_ignored_with_sessions_off",
        files: &[("app.conf", "sessionconfig = {\"gclifetime\": \"x\"}\n")],
        setting: |c| format!("{:?}", c.session_config),
        beego_gives: "None",
        warnings: &["beego reads it only when sessions are on, so it is ignored"],
    },
];

#[test]
fn every_rule_gives_beegos_setting_and_says_so() {
    let mut failures = Vec::new();
    for rule in RULES {
        let (loaded, log) = load(rule.files);
        let config = match loaded {
            Ok(config) => config,
            Err(e) => {
                failures.push(format!("{}: error {e}", rule.name));
                continue;
            }
        };
        let got = (rule.setting)(&config);
        if got != rule.beego_gives {
            failures.push(format!(
                "{}: got {got:?}, beego gives {:?}",
                rule.name, rule.beego_gives
            ));
        }
        if rule.warnings.is_empty() && !log.is_empty() {
            failures.push(format!(
                "{}: expected no warning, logged:\n{log}",
                rule.name
            ));
        }
        for warning in rule.warnings {
            if !log.contains(warning) {
                failures.push(format!(
                    "{}: no warning containing {warning:?} in:\n{log}",
                    rule.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn same_site_values_reach_the_manager() {
    let (c, _) = load(&[("app.conf", "sessioncookiesamesite = 4\n")]);
    assert_eq!(
        c.unwrap().manager_config().unwrap().cookie_same_site,
        SameSite::None
    );
}
