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
    /// Set when the group's tests run without the server they need (those that need it
    /// skip themselves): reported as skipped with this reason unless something failed.
    pub without_server: Option<String>,
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
            without_server: None,
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
            without_server: None,
            failures: Vec::new(),
        }
    }

    /// True when the group's tests are to run: not skipped and nothing failed before running.
    pub fn runnable(&self) -> bool {
        self.skipped.is_none() && self.failures.is_empty()
    }

    /// The group's final state.
    pub fn outcome(&self) -> Outcome {
        let skipped = self.skipped.is_some() || self.without_server.is_some();
        match (skipped, self.failures.is_empty()) {
            (_, false) => Outcome::Failed,
            (true, true) => Outcome::Skipped,
            (false, true) => Outcome::Passed,
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
    /// `engine couchbase: skipped (COUCHBASE_CONNSTR not set)`. Only the first line of each
    /// failure is shown; the full messages were printed when they happened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome() {
            Outcome::Passed => write!(f, "{}: passed", self.label),
            Outcome::Skipped => write!(
                f,
                "{}: skipped ({})",
                self.label,
                self.skipped
                    .as_deref()
                    .or(self.without_server.as_deref())
                    .unwrap_or_default()
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
        skipped.without_server = Some("COUCHBASE_CONNSTR not set".into());
        assert!(skipped.runnable(), "its unit tests still run");
        let mut listed = Group::engine("redis", "session-redis");
        listed.skipped = Some("listed in SESSION_SKIP".into());
        assert!(!listed.runnable());
        let rest = Group::rest(vec!["session-core".into(), "session-web".into()]);
        let groups = [passed, failed, skipped, listed, rest];
        assert_eq!(
            summary(&groups),
            "engine memory: passed\n\
             engine mysql: FAILED (server failed to start: mariadbd not found)\n\
             engine couchbase: skipped (COUCHBASE_CONNSTR not set)\n\
             engine redis: skipped (listed in SESSION_SKIP)\n\
             rest (session-core, session-web): passed\n\
             xtask: 2 passed, 1 failed, 2 skipped"
        );
        assert!(any_failed(&groups));
        let mut broken = Group::engine("couchbase", "session-couchbase");
        broken.without_server = Some("COUCHBASE_CONNSTR not set".into());
        broken.failures.push("unit tests failed".into());
        assert_eq!(
            broken.outcome(),
            Outcome::Failed,
            "a failing unit test is not a skip"
        );
    }
}
