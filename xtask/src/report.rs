//! The outcome of a test run, one group per engine plus one for the rest of the workspace, and
//! the final summary.

use std::fmt;

/// A unit of the summary: an engine, or the rest of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The summary label, e.g. `engine mysql` or `rest (session-core)`.
    pub label: String,
    /// The engine the group tests; `None` for the rest of the workspace.
    pub engine: Option<String>,
    /// The packages whose tests belong to the group.
    pub packages: Vec<String>,
    /// Set when the group's tests do not run, with the reason.
    pub skipped: Option<String>,
    /// What failed; empty when everything passed.
    pub failures: Vec<String>,
}

impl Group {
    /// A group for the engine `name` implemented by `package`.
    pub fn engine(name: &str, package: &str) -> Self {
        Group {
            label: format!("engine {name}"),
            engine: Some(name.to_owned()),
            packages: vec![package.to_owned()],
            skipped: None,
            failures: Vec::new(),
        }
    }

    /// The group of the non-engine `packages`.
    pub fn rest(packages: Vec<String>) -> Self {
        Group {
            label: format!("rest ({})", packages.join(", ")),
            engine: None,
            packages,
            skipped: None,
            failures: Vec::new(),
        }
    }

    /// True when the group's tests are to run: not skipped and nothing failed before running.
    pub fn runnable(&self) -> bool {
        self.skipped.is_none() && self.failures.is_empty()
    }

    /// The group's final state.
    pub fn outcome(&self) -> Outcome {
        match (&self.skipped, self.failures.is_empty()) {
            (_, false) => Outcome::Failed,
            (Some(_), true) => Outcome::Skipped,
            (None, true) => Outcome::Passed,
        }
    }
}

/// Final state of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything ran and passed.
    Passed,
    /// Something failed.
    Failed,
    /// Did not run.
    Skipped,
}

impl fmt::Display for Group {
    /// One summary line: `engine memory: passed`, `engine mysql: FAILED (…)`,
    /// `engine couchbase: skipped (COUCHBASE_URL not set)`. Only the first line of each
    /// failure is shown; the full messages were printed when they happened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome() {
            Outcome::Passed => write!(f, "{}: passed", self.label),
            Outcome::Skipped => write!(
                f,
                "{}: skipped ({})",
                self.label,
                self.skipped.as_deref().unwrap_or_default()
            ),
            Outcome::Failed => {
                let reasons: Vec<&str> = self
                    .failures
                    .iter()
                    .map(|failure| failure.lines().next().unwrap_or_default())
                    .collect();
                write!(f, "{}: FAILED ({})", self.label, reasons.join("; "))
            }
        }
    }
}

/// The summary of all groups: one line each, then `xtask: N passed, M failed, K skipped`.
pub fn summary(groups: &[Group]) -> String {
    let count = |outcome| groups.iter().filter(|g| g.outcome() == outcome).count();
    let mut text: String = groups.iter().map(|group| format!("{group}\n")).collect();
    text.push_str(&format!(
        "xtask: {} passed, {} failed, {} skipped",
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Skipped)
    ));
    text
}

/// True when any group failed.
pub fn any_failed(groups: &[Group]) -> bool {
    groups
        .iter()
        .any(|group| group.outcome() == Outcome::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_summary() {
        let passed = Group::engine("memory", "session-memory");
        let mut failed = Group::engine("mysql", "session-mysql");
        failed
            .failures
            .push("server failed to start: mariadbd not found\nmore".into());
        let mut skipped = Group::engine("couchbase", "session-couchbase");
        skipped.skipped = Some("COUCHBASE_URL not set".into());
        let rest = Group::rest(vec!["session-core".into(), "session-web".into()]);
        let groups = [passed, failed, skipped, rest];
        assert_eq!(
            summary(&groups),
            "engine memory: passed\n\
             engine mysql: FAILED (server failed to start: mariadbd not found)\n\
             engine couchbase: skipped (COUCHBASE_URL not set)\n\
             rest (session-core, session-web): passed\n\
             xtask: 2 passed, 1 failed, 1 skipped"
        );
        assert!(any_failed(&groups));
    }
}
