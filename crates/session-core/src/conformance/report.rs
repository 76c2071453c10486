//! The suite's outcome, one line per check.

use std::fmt;

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The engine met this part of the contract.
    Passed,
    /// Not applicable to this engine; the reason says why (e.g. a capability it does not
    /// claim).
    Skipped(String),
    /// The engine broke the contract; the message says how.
    Failed(String),
}

/// The outcome of every check of one suite run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The engine under test.
    pub engine: String,
    /// Check name and outcome, in the suite's order.
    pub outcomes: Vec<(&'static str, Outcome)>,
}

impl Report {
    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed checks and why.
    pub fn failures(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.outcomes
            .iter()
            .filter_map(|(name, outcome)| match outcome {
                Outcome::Failed(why) => Some((*name, why.as_str())),
                _ => None,
            })
    }

    /// The skipped checks and why.
    pub fn skipped(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.outcomes
            .iter()
            .filter_map(|(name, outcome)| match outcome {
                Outcome::Skipped(why) => Some((*name, why.as_str())),
                _ => None,
            })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut passed, mut skipped, mut failed) = (0, 0, 0);
        for (name, outcome) in &self.outcomes {
            match outcome {
                Outcome::Passed => {
                    passed += 1;
                    writeln!(f, "conformance[{}] ok      {name}", self.engine)?;
                }
                Outcome::Skipped(why) => {
                    skipped += 1;
                    writeln!(f, "conformance[{}] skipped {name}: {why}", self.engine)?;
                }
                Outcome::Failed(why) => {
                    failed += 1;
                    writeln!(f, "conformance[{}] FAILED  {name}: {why}", self.engine)?;
                }
            }
        }
        write!(
            f,
            "conformance[{}]: {passed} passed, {failed} failed, {skipped} skipped",
            self.engine
        )
    }
}
