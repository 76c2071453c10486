//! What a libFuzzer run reports: executions, coverage, corpus size, read from its output,
//! and the summary table `cargo xtask fuzz` prints.

/// The figures of one run of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Inputs executed (`stat::number_of_executed_units`, else the last `#N` line).
    pub executions: u64,
    /// Coverage: `cov:` (edges) and `ft:` (features) of the last status line.
    pub cov: u64,
    /// `ft:` of the last status line.
    pub ft: u64,
    /// Corpus entries and bytes (`corp: N/SIZE`).
    pub corpus: u64,
    /// The corpus's size as libFuzzer prints it (`12Kb`).
    pub corpus_size: String,
}

impl RunStats {
    /// Reads libFuzzer's stderr: the last `#N … cov: … ft: … corp: …` line and the final
    /// `stat::` lines of `-print_final_stats=1`.
    pub fn parse(output: &str) -> Self {
        let mut stats = RunStats::default();
        for line in output.lines() {
            let line = line.trim();
            if let Some(executed) = line.strip_prefix("stat::number_of_executed_units:") {
                if let Ok(n) = executed.trim().parse() {
                    stats.executions = n;
                }
                continue;
            }
            let Some(status) = line.strip_prefix('#') else {
                continue;
            };
            let mut words = status.split_whitespace();
            let Some(Ok(count)) = words.next().map(str::parse::<u64>) else {
                continue;
            };
            let mut saw_cov = false;
            while let Some(word) = words.next() {
                let value = || words.clone().next().unwrap_or_default();
                match word {
                    "cov:" => {
                        stats.cov = value().parse().unwrap_or(stats.cov);
                        saw_cov = true;
                    }
                    "ft:" => stats.ft = value().parse().unwrap_or(stats.ft),
                    "corp:" => {
                        if let Some((n, size)) = value().split_once('/') {
                            stats.corpus = n.parse().unwrap_or(stats.corpus);
                            stats.corpus_size = size.to_owned();
                        }
                    }
                    _ => {}
                }
            }
            if saw_cov {
                stats.executions = stats.executions.max(count);
            }
        }
        stats
    }
}

/// How a target's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ran for its time without a finding.
    Clean,
    /// libFuzzer stopped on a crash, a timeout or a leak; the input is at this path.
    Found(String),
    /// The run failed otherwise (exit status and what it said).
    Failed(String),
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// The target.
    pub target: String,
    /// How long it ran, in seconds (less than asked when it stopped on a finding).
    pub seconds: u64,
    /// Its figures.
    pub stats: RunStats,
    /// How it ended.
    pub outcome: Outcome,
}

/// The summary table, in the form fuzz/README.md records long runs.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| target | seconds | executions | cov | ft | corpus | result |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let result = match &row.outcome {
            Outcome::Clean => "no crash".to_owned(),
            Outcome::Found(path) => format!("CRASH: {path}"),
            Outcome::Failed(why) => format!("FAILED: {why}"),
        };
        let s = &row.stats;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} ({}) | {} |\n",
            row.target, row.seconds, s.executions, s.cov, s.ft, s.corpus, s.corpus_size, result
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_status_line_and_the_final_stats() {
        let output = "\
INFO: Seed: 1
#20\tINITED cov: 832 ft: 1077 corp: 19/279b exec/s: 0 rss: 63Mb
#21\tNEW    cov: 836 ft: 1081 corp: 20/311b lim: 40 exec/s: 0 rss: 63Mb L: 32/40 MS: 1 CrossOver-
#65536\tpulse  cov: 901 ft: 1500 corp: 88/2Kb lim: 4096 exec/s: 3276 rss: 70Mb
Done 103554 runs in 16 second(s)
stat::number_of_executed_units: 103554
stat::average_exec_per_sec:     6472
";
        let stats = RunStats::parse(output);
        assert_eq!(
            stats,
            RunStats {
                executions: 103_554,
                cov: 901,
                ft: 1500,
                corpus: 88,
                corpus_size: "2Kb".into(),
            }
        );
        let rows = [Row {
            target: "stored_session".into(),
            seconds: 16,
            stats,
            outcome: Outcome::Clean,
        }];
        assert!(table(&rows)
            .contains("| stored_session | 16 | 103554 | 901 | 1500 | 88 (2Kb) | no crash |"));
    }

    #[test]
    fn without_final_stats_the_last_count_is_the_executions() {
        let stats = RunStats::parse("#4096\tpulse  cov: 10 ft: 12 corp: 3/9b exec/s: 1\n");
        assert_eq!((stats.executions, stats.cov, stats.corpus), (4096, 10, 3));
        assert_eq!(RunStats::parse("no libFuzzer output"), RunStats::default());
    }
}
