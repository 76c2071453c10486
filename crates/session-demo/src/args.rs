//! Command-line options, parsed by hand: there are only four.

use std::path::PathBuf;

use crate::DemoError;

/// What the command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--port N`: the port on 127.0.0.1 (default 8080; 0 picks a free one).
    pub port: u16,
    /// `--provider NAME`: the engine, over app.conf's `sessionprovider`.
    pub provider: Option<String>,
    /// `--provider-config STR`: the engine's configuration string.
    pub provider_config: Option<String>,
    /// `--config PATH`: the app.conf to read (default `conf/app.conf` if it exists).
    pub config: Option<PathBuf>,
    /// `--help`.
    pub help: bool,
}

/// The usage text.
pub const USAGE: &str = "\
session-demo: beego's session example on axum

usage: session-demo [--port N] [--provider NAME] [--provider-config STR] [--config PATH]

  --port N               listen on 127.0.0.1:N (default 8080; 0 picks a free port)
  --provider NAME        session engine: memory (default), file, cookie, mysql, postgres,
                         couchbase, memcache, redis, redis_cluster, redis_sentinel
  --provider-config STR  the engine's configuration (a directory, a key, a database URL,
                         memcached servers host:port;host2:port, a Redis address such as
                         127.0.0.1:6379)
  --config PATH          beego-style app.conf to read (default: conf/app.conf if present)
  --help                 show this text

Environment variables BEEGO_SESSIONON, BEEGO_SESSIONPROVIDER, ... override app.conf;
RUST_LOG sets the log level (default info).";

impl Options {
    /// Parses the arguments after the program name; `--key value` and `--key=value` both work.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Self, DemoError> {
        let mut options = Options {
            port: 8080,
            ..Options::default()
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            if flag == "--help" || flag == "-h" {
                options.help = true;
                continue;
            }
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| DemoError::Args(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--port" => {
                    let text = value()?;
                    options.port = text.parse().map_err(|_| {
                        DemoError::Args(format!("--port needs a port number 0-65535, not {text:?}"))
                    })?;
                }
                "--provider" => options.provider = Some(value()?),
                "--provider-config" => options.provider_config = Some(value()?),
                "--config" => options.config = Some(PathBuf::from(value()?)),
                other => {
                    return Err(DemoError::Args(format!(
                        "unknown argument {other:?}; run with --help for the options"
                    )))
                }
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, DemoError> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_every_flag() {
        assert_eq!(parse(&[]).unwrap().port, 8080);
        let o = parse(&[
            "--port",
            "0",
            "--provider=file",
            "--provider-config",
            "/tmp/s",
            "--config",
            "x.conf",
        ])
        .unwrap();
        assert_eq!(o.port, 0);
        assert_eq!(o.provider.as_deref(), Some("file"));
        assert_eq!(o.provider_config.as_deref(), Some("/tmp/s"));
        assert_eq!(o.config, Some(PathBuf::from("x.conf")));
        assert!(parse(&["--help"]).unwrap().help);
    }

    #[test]
    fn bad_arguments_are_clear() {
        assert!(parse(&["--port", "http"])
            .unwrap_err()
            .to_string()
            .contains("--port"));
        assert!(parse(&["--port"])
            .unwrap_err()
            .to_string()
            .contains("needs a value"));
        assert!(parse(&["--colour"])
            .unwrap_err()
            .to_string()
            .contains("--colour"));
    }
}
