//! What the figures were measured on.

use std::fs;
use std::process::Command;

/// The machine and the moment of a run.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Cores available to the process.
    pub cores: usize,
    /// `model name` of the first CPU in `/proc/cpuinfo`.
    pub cpu: String,
    /// The kernel release.
    pub kernel: String,
    /// `/proc/loadavg` at the start of the run (other work on the machine).
    pub load: String,
    /// `rustc -V`.
    pub rustc: String,
    /// UTC date and time of the run.
    pub date: String,
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_owned()
}

impl Machine {
    /// Reads it from `/proc` and the tools.
    pub fn now() -> Machine {
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let run = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .ok()
                .map(|out| first_line(&String::from_utf8_lossy(&out.stdout)))
                .unwrap_or_else(|| "unknown".into())
        };
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            kernel: first_line(
                &fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default(),
            ),
            load: first_line(&fs::read_to_string("/proc/loadavg").unwrap_or_default()),
            rustc: run("rustc", &["-V"]),
            date: run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }

    /// One Markdown line.
    pub fn line(&self) -> String {
        format!(
            "{} cores ({}), Linux {}, {}; load average at the start: {}; {}",
            self.cores, self.cpu, self.kernel, self.rustc, self.load, self.date
        )
    }
}

/// The command that produced a section: `PEERS_BENCH_COMMAND` (set by
/// `cargo xtask bench --peers`), else this process's own command line.
pub fn command() -> String {
    std::env::var("PEERS_BENCH_COMMAND").unwrap_or_else(|_| {
        let args: Vec<String> = std::env::args().collect();
        args.join(" ")
    })
}
