use std::time::Duration;

use super::*;

fn parse(config: &str) -> CouchbaseConfig {
    CouchbaseConfig::parse(config).unwrap_or_else(|e| panic!("{config}: {e}"))
}

fn err(config: &str) -> String {
    let e = CouchbaseConfig::parse(config)
        .expect_err(config)
        .to_string();
    for secret in ["s3cret", "pa/ss", "hunter2"] {
        assert!(!e.contains(secret), "password in `{e}`");
    }
    e
}

#[test]
fn a_connection_string_with_explicit_kv_ports_is_taken_as_given() {
    let c = parse(
        "couchbase://127.0.0.1:41695,127.0.0.1:36139?username=app&password=s3cret&bucket=sessions",
    );
    assert!(!c.tls);
    assert_eq!(
        c.seed_addresses(),
        ["127.0.0.1:41695", "127.0.0.1:36139"],
        "the tests must not assume standard ports"
    );
    assert_eq!(
        c.connection_string(),
        "couchbase://127.0.0.1:41695,127.0.0.1:36139"
    );
    assert_eq!((c.username.as_str(), c.password()), ("app", "s3cret"));
    assert_eq!(c.keyspace(), "sessions._default._default");
    assert_eq!(c.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    assert_eq!(c.kv_timeout, DEFAULT_KV_TIMEOUT);
    assert_eq!(c.counting, Counting::Query);
}

#[test]
fn every_parameter_and_sdk_options_pass_through() {
    let c = parse(
        "couchbases://u%40corp:pa%2Fss@[::1]:11207;db2/sess?scope=web&collection=sessions\
         &prefix=s:&connect_timeout=3s&kv_timeout=500ms&query_timeout=20s&count=off\
         &ca_cert=/etc/cb/ca.pem&network=external&num_kv_connections=2",
    );
    assert!(c.tls);
    assert_eq!(c.username, "u@corp");
    assert_eq!(c.password(), "pa/ss");
    assert_eq!(c.keyspace(), "sess.web.sessions");
    assert_eq!(c.prefix, "s:");
    assert_eq!(c.connect_timeout, Duration::from_secs(3));
    assert_eq!(c.kv_timeout, Duration::from_millis(500));
    assert_eq!(c.query_timeout, Duration::from_secs(20));
    assert_eq!(c.counting, Counting::Off);
    assert_eq!(
        c.ca_cert.as_deref(),
        Some(std::path::Path::new("/etc/cb/ca.pem"))
    );
    assert_eq!(c.seed_addresses(), ["[::1]:11207", "db2:11207"]);
    assert_eq!(
        c.connection_string(),
        "couchbases://[::1]:11207,db2?network=external&num_kv_connections=2"
    );
}

#[test]
fn beego_comma_form() {
    let c = parse("http://sessions:s3cret@cb.local:8091,default,web");
    assert!(!c.tls);
    assert_eq!(c.connection_string(), "couchbase://cb.local");
    assert_eq!((c.username.as_str(), c.password()), ("sessions", "s3cret"));
    assert_eq!(c.bucket, "web");
    // beego's documented form: the bucket logs in as itself.
    let c = parse("http://bucketname:s3cret@myserver:8091");
    assert_eq!(c.bucket, "bucketname");
    let c = parse("https://u:s3cret@cb.local,,b");
    assert!(c.tls);
    assert_eq!(
        parse("http://u:s3cret@h:18091/pools,default,b").seed_addresses(),
        ["h:11207"]
    );
    // Found by fuzzing (fuzz/: config_couchbase): a `,` in the password split the URL and
    // the error quoted the half before it as a port. The parts start after the userinfo.
    let c = parse("http://u:s3,cr,et@cb.local:8091,default,web");
    assert_eq!((c.password(), c.bucket.as_str()), ("s3,cr,et", "web"));
    let e = err("http://u:9,hunter2@h:99999,default,b");
    assert!(!e.contains("hunter2") && e.contains("port"), "{e}");
}

#[test]
fn beego_json_form_with_engine_parameters() {
    let c = parse(
        r#"{"save_path":"http://u:s3cret@cb.local:8091","pool":"default","bucket":"b",
            "collection":"sessions","scope":"web","kv_timeout":2,"count":"off"}"#,
    );
    assert_eq!(c.keyspace(), "b.web.sessions");
    assert_eq!(c.kv_timeout, Duration::from_secs(2));
    assert_eq!(c.counting, Counting::Off);
    let c = parse(
        r#"{"save_path":"couchbase://127.0.0.1:41695","username":"u","password":"s3cret","bucket":"b"}"#,
    );
    assert_eq!(c.seed_addresses(), ["127.0.0.1:41695"]);
}

#[test]
fn malformed_strings_name_the_part_and_hide_the_password() {
    for (config, names) in [
        ("", "empty"),
        ("redis://h", "scheme `redis://`"),
        (
            "couchbase2://h?username=u&password=s3cret&bucket=b",
            "couchbase2",
        ),
        (
            "couchbase://?username=u&password=s3cret&bucket=b",
            "no host",
        ),
        (
            "couchbase://h:99999?username=u&password=s3cret&bucket=b",
            "port `99999`",
        ),
        (
            "couchbase://h:8091?username=u&password=s3cret&bucket=b",
            "management (HTTP) port",
        ),
        ("couchbase://h?password=s3cret&bucket=b", "no username"),
        ("couchbase://u@h?bucket=b", "no password"),
        ("couchbase://u:s3cret@h", "no bucket"),
        ("couchbase://u:s3cret@h/b`x", "bucket `b`x`"),
        ("couchbase://u:s3cret@h/b?collection=_x", "collection `_x`"),
        (
            "couchbase://u:s3cret@h/b?kv_timeout=soon",
            "parameter `kv_timeout`",
        ),
        ("couchbase://u:s3cret@h/b?count=maybe", "parameter `count`"),
        ("couchbase://u:s3cret@h/b?ca_cert=/ca.pem", "couchbases://"),
        (
            "couchbase://u:s3cret@h/b?password=hunter2",
            "`password` is given twice",
        ),
        (
            "couchbase://u:s3cret@h/b?prefix=a%20b",
            "parameter `prefix`",
        ),
        ("couchbase://u:pa?ss@h/b", "percent-encode"),
        ("couchbase://u:s3cret@h o/b", "host `h o`"),
        ("http://u:s3cret@h:9000,default,b", "port 9000"),
        ("http://u:s3cret@h:8091,mypool,b", "pool `mypool`"),
        ("http://u:s3cret@h:8091,default,b,extra", "too many"),
        (
            r#"{"save_path":"http://u:s3cret@h","colour":"red"}"#,
            "unknown key `colour`",
        ),
        (r#"{"pool":"default"}"#, "needs `save_path`"),
        (r#"{"save_path":"http://u:s3cret@h","#, "not valid JSON"),
    ] {
        let e = err(config);
        assert!(e.contains(names), "{config}: `{e}` should name {names}");
        assert!(e.contains("couchbase"), "{e} names the engine");
    }
}

#[test]
fn debug_hides_the_password() {
    let c = parse("couchbase://u:s3cret@h/b");
    let shown = format!("{c:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("couchbase://h"), "{shown}");
}
