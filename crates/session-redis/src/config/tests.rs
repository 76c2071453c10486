use std::time::Duration;

use super::*;

fn parse(topology: Topology, text: &str) -> RedisConfig {
    RedisConfig::parse(topology, text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(topology: Topology, text: &str) -> String {
    let err = RedisConfig::parse(topology, text)
        .expect_err(text)
        .to_string();
    assert!(!err.contains("secretpw"), "the password leaked: {err}");
    assert!(err.contains(topology.engine()), "{err}");
    err
}

fn tcp(host: &str, port: u16) -> Address {
    Address::Tcp {
        host: host.into(),
        port,
        tls: false,
    }
}

#[test]
fn beego_comma_form() {
    let seed = parse(Topology::Standalone, "127.0.0.1:6379,100,astaxie");
    assert_eq!(seed.addresses, [tcp("127.0.0.1", 6379)]);
    assert_eq!(
        (seed.pool_size, seed.password.as_deref(), seed.db),
        (100, Some("astaxie"), 0)
    );

    let full = parse(Topology::Standalone, " redis.local:6380,50,pw,2,30,60,5 ");
    assert_eq!(full.addresses, [tcp("redis.local", 6380)]);
    assert_eq!((full.pool_size, full.db, full.max_retries), (50, 2, 5));
    assert_eq!(full.idle_timeout, Some(Duration::from_secs(30)));
    assert_eq!(full.idle_check_frequency, Duration::from_secs(60));

    let defaults = parse(Topology::Standalone, "redis.local");
    assert_eq!(defaults.addresses, [tcp("redis.local", 6379)]);
    assert_eq!(
        defaults,
        RedisConfig {
            addresses: defaults.addresses.clone(),
            ..RedisConfig::new(Topology::Standalone)
        }
    );

    let named = parse(
        Topology::Standalone,
        "127.0.0.1:6379,10,,0,prefix=app:,connect_timeout=2s,response_timeout=500ms",
    );
    assert_eq!(
        (named.key_prefix.as_str(), named.password.as_deref()),
        ("app:", None)
    );
    assert_eq!(named.connect_timeout, Duration::from_secs(2));
    assert_eq!(named.response_timeout, Duration::from_millis(500));
    // Before the password's place, `=` belongs to the value.
    assert_eq!(
        parse(Topology::Standalone, "h,1,pa=ss").password.as_deref(),
        Some("pa=ss")
    );
}

#[test]
fn beego_cluster_and_sentinel_comma_forms() {
    let cluster = parse(
        Topology::Cluster,
        "127.0.0.1:7000;127.0.0.1:7001; 127.0.0.1:7002 ,20",
    );
    assert_eq!(cluster.addresses.len(), 3);
    assert_eq!(cluster.pool_size, 20);
    assert!(cluster.describe().starts_with("cluster 127.0.0.1:7000,"));

    let sentinel = parse(
        Topology::Sentinel,
        "10.0.0.1;10.0.0.2:26380,100,pw,1,other,30",
    );
    assert_eq!(
        sentinel.addresses,
        [tcp("10.0.0.1", 26379), tcp("10.0.0.2", 26380)]
    );
    assert_eq!((sentinel.master_name.as_str(), sentinel.db), ("other", 1));
    assert_eq!(sentinel.idle_timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        parse(Topology::Sentinel, "10.0.0.1").master_name,
        "mymaster"
    );
}

#[test]
fn beego_json_form() {
    let json = r#"{"save_path":"127.0.0.1:6379","poolsize":12,"password":"pw","db_num":3,
        "idle_timeout":"90s","idle_check_frequency":"1m","max_retries":2,"prefix":"shop:"}"#;
    let config = parse(Topology::Standalone, json);
    assert_eq!(
        (config.pool_size, config.db, config.max_retries),
        (12, 3, 2)
    );
    assert_eq!(config.idle_timeout, Some(Duration::from_secs(90)));
    assert_eq!(config.idle_check_frequency, Duration::from_secs(60));
    assert_eq!(config.key_prefix, "shop:");
    let sentinel = parse(
        Topology::Sentinel,
        r#"{"save_path":"s1:26379;s2:26379","master_name":"m"}"#,
    );
    assert_eq!(
        (sentinel.addresses.len(), sentinel.master_name.as_str()),
        (2, "m")
    );
}

#[test]
fn urls() {
    let url = parse(
        Topology::Standalone,
        "redis://app:p%40ss@cache:6380/3?prefix=x:&pool_size=5&timeout=2s",
    );
    assert_eq!(url.addresses, [tcp("cache", 6380)]);
    assert_eq!(
        (url.username.as_deref(), url.password.as_deref()),
        (Some("app"), Some("p@ss"))
    );
    assert_eq!(
        (url.db, url.pool_size, url.key_prefix.as_str()),
        (3, 5, "x:")
    );
    assert_eq!(url.response_timeout, Duration::from_secs(2));

    let unix = parse(
        Topology::Standalone,
        "redis+unix:///run/redis.sock?db=2&pass=pw",
    );
    assert_eq!(unix.addresses, [Address::Unix("/run/redis.sock".into())]);
    assert_eq!((unix.db, unix.password.as_deref()), (2, Some("pw")));
    assert_eq!(
        parse(Topology::Standalone, "unix:///tmp/r.sock").addresses[0].to_string(),
        "/tmp/r.sock"
    );

    let v6 = parse(Topology::Standalone, "redis://[::1]:6390/");
    assert_eq!(v6.addresses, [tcp("::1", 6390)]);
    assert_eq!(v6.describe(), "[::1]:6390");

    let cluster = parse(
        Topology::Cluster,
        "redis://127.0.0.1:7000/;redis://127.0.0.1:7001/?prefix=c:",
    );
    assert_eq!(
        (cluster.addresses.len(), cluster.key_prefix.as_str()),
        (2, "c:")
    );

    let sentinel = parse(
        Topology::Sentinel,
        "redis://:spw@127.0.0.1:26379/?master_name=m&password=mpw",
    );
    assert_eq!(sentinel.sentinel_password.as_deref(), Some("spw"));
    assert_eq!(sentinel.password.as_deref(), Some("mpw"));
    assert_eq!(
        sentinel.describe(),
        "master `m` via sentinels 127.0.0.1:26379"
    );
}

#[test]
fn rediss_needs_the_tls_feature() {
    let result = RedisConfig::parse(Topology::Standalone, "rediss://:secretpw@cache:6380/");
    if cfg!(feature = "tls") {
        assert!(result.unwrap().addresses[0].is_tls());
    } else {
        let err = result.unwrap_err().to_string();
        assert!(
            err.contains("feature `tls`") && !err.contains("secretpw"),
            "{err}"
        );
    }
}

#[test]
fn malformed_strings_name_the_bad_part() {
    use Topology::{Cluster, Sentinel, Standalone};
    for (topology, text, expected) in [
        (Standalone, "", "empty"),
        (
            Standalone,
            "127.0.0.1:6379,lots,secretpw",
            "part 2 (poolsize)",
        ),
        (Standalone, "127.0.0.1:6379,0,secretpw", "part 2 (poolsize)"),
        (Standalone, "127.0.0.1:99999,1,secretpw", "not a port"),
        (Standalone, "127.0.0.1:6379,1,secretpw,x", "part 4 (dbnum)"),
        (
            Standalone,
            "127.0.0.1:6379,1,secretpw,0,soon",
            "part 5 (idleTimeout)",
        ),
        (
            Standalone,
            "127.0.0.1:6379,1,secretpw,0,1,2,many",
            "part 7 (maxRetries)",
        ),
        (
            Standalone,
            "127.0.0.1:6379,1,secretpw,0,1,2,3,extra",
            "part 8",
        ),
        (
            Standalone,
            "127.0.0.1:6379,1,secretpw,0,connect_timeout=forever",
            "connect_timeout",
        ),
        (Standalone, "bad host:6379,1,secretpw", "not a host name"),
        (Standalone, "0.0.0.0:6379,1,secretpw", "wildcard"),
        (
            Standalone,
            "redis://u:secretpw@cache/abc",
            "database number",
        ),
        (
            Standalone,
            "redis://u:secretpw@cache/?bogus=1",
            "unknown parameter `bogus`",
        ),
        (
            Standalone,
            "redis://u:secretpw@cache/?password=secretpw&pool_size=x",
            "pool_size",
        ),
        (
            Standalone,
            "ftp://u:secretpw@cache/",
            "unknown scheme `ftp`",
        ),
        (
            Standalone,
            "redis+unix://relative?pass=secretpw",
            "absolute path",
        ),
        (
            Standalone,
            r#"{"save_path":"h","passwd":"secretpw"}"#,
            "unknown field `passwd`",
        ),
        (
            Standalone,
            r#"{"poolsize":1,"password":"secretpw"}"#,
            "save_path",
        ),
        (
            Standalone,
            r#"{"save_path":"h","password":"secretpw""#,
            "not a JSON object",
        ),
        (
            Standalone,
            r#"{"save_path":"h","db_num":[1],"password":"secretpw"}"#,
            "field `db_num`",
        ),
        (Standalone, "a:6379;b:6379,1,secretpw", "redis_cluster"),
        (Cluster, "a:7000;b:7000,1,secretpw,1", "only database 0"),
        (Sentinel, "a:26379,1,secretpw,0,master_name=", "master_name"),
        (Standalone, "redis://:secretpw@h/?prefix=app{1}", "brace"),
    ] {
        let err = error(topology, text);
        assert!(
            err.contains(expected),
            "{text}: `{err}` does not mention `{expected}`"
        );
    }
}

#[test]
fn debug_shows_no_password() {
    let config = parse(
        Topology::Sentinel,
        "redis://:secretpw@s:26379/?password=secretpw",
    );
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("secretpw") && shown.contains("***"),
        "{shown}"
    );
}

#[test]
fn every_known_name_is_a_setting() {
    for name in params::NAMES {
        let taken = params::take(&mut RedisConfig::new(Topology::Standalone), name, "1");
        assert_ne!(taken, Ok(false), "{name} is listed but not taken");
        assert!(
            params::is_known(&name.to_uppercase().replace('_', "-")),
            "{name}"
        );
    }
    assert!(!params::is_known("bogus"));
}

#[test]
fn engine_names() {
    for topology in [Topology::Standalone, Topology::Cluster, Topology::Sentinel] {
        assert_eq!(Topology::from_engine(topology.engine()), Some(topology));
    }
    assert_eq!(
        Topology::from_engine("REDIS_Cluster"),
        Some(Topology::Cluster)
    );
    assert_eq!(Topology::from_engine("memcache"), None);
}

#[test]
fn client_cache_settings() {
    let off = parse(Topology::Standalone, "redis://h/");
    assert_eq!(off.client_cache, ClientCacheConfig::default());
    assert!(!off.client_cache.enabled);

    let url = parse(
        Topology::Standalone,
        "redis://h/?client_cache=on&client_cache_entries=5000&client_cache_bytes=64MiB",
    );
    assert_eq!(
        url.client_cache,
        ClientCacheConfig {
            enabled: true,
            max_entries: 5000,
            max_bytes: 64 << 20
        }
    );
    let comma = parse(
        Topology::Cluster,
        "h:7000;h:7001,10,,0,client_cache=yes,client_cache_bytes=512k",
    );
    assert!(comma.client_cache.enabled);
    assert_eq!(comma.client_cache.max_bytes, 512 << 10);
    let json = parse(
        Topology::Standalone,
        r#"{"save_path":"h","client_cache":true,"client_cache_bytes":"1g","client_cache_entries":7}"#,
    );
    assert_eq!(
        (
            json.client_cache.enabled,
            json.client_cache.max_bytes,
            json.client_cache.max_entries
        ),
        (true, 1 << 30, 7)
    );
    assert_eq!(
        parse(
            Topology::Standalone,
            "redis://h/?client_cache=on&client_cache_bytes=2048"
        )
        .client_cache
        .max_bytes,
        2048
    );

    for (text, says) in [
        ("redis://h/?client_cache=maybe", "neither on nor off"),
        ("redis://h/?client_cache=on&client_cache_bytes=12q", "12q"),
        (
            "redis://h/?client_cache=on&client_cache_bytes=100",
            "from 1k",
        ),
        (
            "redis://h/?client_cache=on&client_cache_entries=0",
            "client_cache_entries",
        ),
        ("redis://h/?client_cache_entries=5", "add client_cache=on"),
    ] {
        let err = error(Topology::Standalone, text);
        assert!(err.contains(says), "{text}: {err}");
    }
    let err = error(Topology::Sentinel, "redis://s:26379/?client_cache=on");
    assert!(err.contains("redis_cluster"), "{err}");
}

#[test]
fn a_semicolon_in_a_url_password_does_not_split_the_list() {
    // Found by fuzzing (fuzz/: config_redis): `redis://u:a;secretpw@h` was split at the `;`,
    // and the error quoted `redis://u:a` and then `secretpw@h` as addresses.
    let config = parse(Topology::Standalone, "redis://u:a;b@h:6379/0");
    assert_eq!(config.password.as_deref(), Some("a;b"));
    assert_eq!(config.addresses, [tcp("h", 6379)]);
    let err = error(
        Topology::Standalone,
        r#"{"save_path":"http://u:x;secretpw;y@127.0.0.1:8091"}"#,
    );
    assert!(err.contains("save_path"), "{err}");
    // Lists of URLs, and of plain addresses, still split at every item.
    let cluster = parse(
        Topology::Cluster,
        "redis://127.0.0.1:7000; redis://:p;w@127.0.0.1:7001;redis://h:7002",
    );
    assert_eq!(cluster.addresses.len(), 3);
    assert_eq!(parse(Topology::Cluster, "h1;h2;h3").addresses.len(), 3);
}

#[test]
fn a_comma_in_a_url_password_is_not_quoted() {
    // Found by fuzzing (fuzz/: config_redis): beego's comma form split
    // `redis+unix://:secretpw,@` at the `,`, and the error quoted `redis+unix://:secretpw`.
    for text in ["redis+unix://:[[secretpw,@", "redis://:a,secretpw@h:6379"] {
        error(Topology::Standalone, text);
    }
}

#[test]
fn a_json_escaped_password_is_masked_as_decoded() {
    // Found by fuzzing (fuzz/: config_redis): `"save_path":"http://u:\tsecretpw@h"` quoted
    // the decoded URL, which the JSON text's escapes hid from the masking.
    error(
        Topology::Standalone,
        r#"{"save_path":"http://u:\t\u0041secretpw]x@127.0.0.1:8091"}"#,
    );
}

#[test]
fn an_unencoded_slash_in_a_url_password_is_refused() {
    // Found by fuzzing (fuzz/: config_redis): `redis+unix://u:@x/secretpw@/sock` parsed, the
    // password's tail becoming the socket path (shown by Debug and in errors).
    for text in [
        "redis+unix://d:@x/secretpw@/run/r.sock",
        "redis://:a/secretpw@h:6379",
    ] {
        let err = error(Topology::Standalone, text);
        assert!(err.contains("percent-encode"), "{err}");
    }
}
