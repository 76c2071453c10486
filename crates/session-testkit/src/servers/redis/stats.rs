//! What a Redis server counts per command (`INFO commandstats`), for tests that assert how many
//! commands a request costs, and `CONFIG RESETSTAT` to start counting from zero.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use super::resp::{self, Connection, RespError};

/// Commands [`command_stats`] and [`reset_stats`] send themselves, left out of the counts.
const OWN_COMMANDS: [&str; 2] = ["info", "config|resetstat"];

/// The counters of one command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    /// Times the command ran.
    pub calls: u64,
    /// Times it was refused before running (a `MOVED` or `ASK` redirection, a wrong arity…).
    pub rejected_calls: u64,
    /// Times it ran and failed.
    pub failed_calls: u64,
}

impl AddAssign for CommandStat {
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.rejected_calls += other.rejected_calls;
        self.failed_calls += other.failed_calls;
    }
}

/// Counters per command, keyed by Redis's lower-case names: `get`, `evalsha`, and for
/// subcommands `container|sub`, e.g. `client|setname`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandStats {
    by_command: BTreeMap<String, CommandStat>,
}

impl CommandStats {
    /// Parses the text of `INFO commandstats` (lines like
    /// `cmdstat_get:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0`).
    /// Lines that are not command statistics are ignored.
    pub fn parse(info: &str) -> Self {
        let by_command = resp::info_fields(info)
            .filter_map(|(name, values)| {
                let command = name.strip_prefix("cmdstat_")?;
                let mut stat = CommandStat::default();
                for (key, value) in values.split(',').filter_map(|kv| kv.split_once('=')) {
                    let slot = match key {
                        "calls" => &mut stat.calls,
                        "rejected_calls" => &mut stat.rejected_calls,
                        "failed_calls" => &mut stat.failed_calls,
                        _ => continue,
                    };
                    *slot = value.parse().unwrap_or_default();
                }
                Some((command.to_owned(), stat))
            })
            .collect();
        CommandStats { by_command }
    }

    /// How many times `command` ran (`0` when it never did); `command` as Redis names it,
    /// case-insensitively.
    pub fn calls(&self, command: &str) -> u64 {
        self.get(command).map_or(0, |stat| stat.calls)
    }

    /// The counters of `command`, if it was sent at all.
    pub fn get(&self, command: &str) -> Option<&CommandStat> {
        self.by_command.get(&command.to_ascii_lowercase())
    }

    /// Calls of all commands together (rejected calls not included).
    pub fn total_calls(&self) -> u64 {
        self.by_command.values().map(|stat| stat.calls).sum()
    }

    /// Every command that was sent, with its counters, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &CommandStat)> {
        self.by_command
            .iter()
            .map(|(name, stat)| (name.as_str(), stat))
    }
}

impl AddAssign<&CommandStats> for CommandStats {
    /// Adds another server's counters (to total a cluster).
    fn add_assign(&mut self, other: &CommandStats) {
        for (name, stat) in &other.by_command {
            *self.by_command.entry(name.clone()).or_default() += *stat;
        }
    }
}

/// Reads `INFO commandstats` from the server at `addr` (`host:port` or a `redis://` URL).
/// The `INFO` and `CONFIG RESETSTAT` commands this module sends are left out.
pub fn command_stats(addr: &str) -> Result<CommandStats, RespError> {
    let info = Connection::open(addr)?.call_text(&["INFO", "commandstats"])?;
    let mut stats = CommandStats::parse(&info);
    for own in OWN_COMMANDS {
        stats.by_command.remove(own);
    }
    Ok(stats)
}

/// Sets the server's counters back to zero (`CONFIG RESETSTAT`).
pub fn reset_stats(addr: &str) -> Result<(), RespError> {
    resp::call(addr, &["CONFIG", "RESETSTAT"]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# Commandstats\r\n\
        cmdstat_get:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n\
        cmdstat_client|setname:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n";

    #[test]
    fn parses_commandstats() {
        let stats = CommandStats::parse(INFO);
        assert_eq!(stats.calls("GET"), 2);
        assert_eq!(stats.calls("client|setname"), 1);
        assert_eq!(stats.calls("del"), 0);
        assert_eq!(
            stats.get("set"),
            Some(&CommandStat {
                calls: 0,
                rejected_calls: 1,
                failed_calls: 0
            })
        );
        assert_eq!(stats.total_calls(), 3);
        assert_eq!(stats.iter().count(), 3);
    }

    #[test]
    fn adds_up_servers() {
        let mut total = CommandStats::parse(INFO);
        total += &CommandStats::parse(INFO);
        assert_eq!(total.calls("get"), 4);
        assert_eq!(total.get("set").map(|s| s.rejected_calls), Some(2));
    }
}
