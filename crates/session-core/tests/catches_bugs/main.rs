//! The conformance suite must be able to fail: a small engine (`engine.rs`) is run through
//! it once correct and once with each planted bug, and each bug must fail exactly the
//! checks that guard against it while every other check passes.

mod engine;

use std::collections::BTreeSet;
use std::sync::Arc;

use engine::{Backend, Bug, Engine, Handle};
use session_core::conformance::{Corruption, Report, Suite};
use session_core::{Provider, ProviderFuture, ProviderInit};

async fn run(bug: Option<Bug>) -> Report {
    // One backend per suite run, shared by all its providers (like a database).
    let backend = Arc::new(Backend::default());
    let (for_count, for_held, for_corrupt) = (backend.clone(), backend.clone(), backend.clone());
    Suite::new("buggy")
        .factory(move |init: ProviderInit| -> ProviderFuture {
            let engine = Engine {
                bug,
                lifetimes: init.lifetimes,
                backend: Arc::clone(&backend),
            };
            Box::pin(async move { Ok(Arc::new(Handle(Arc::new(engine))) as Arc<dyn Provider>) })
        })
        .count_backend_calls_with(move || {
            let ops = for_count.ops();
            Box::pin(async move { ops })
        })
        .held_with(move |sid| {
            let held = for_held.holds(&sid);
            Box::pin(async move { held })
        })
        .corrupt_with(move |c: Corruption| {
            for_corrupt.corrupt(&c.sid);
            Box::pin(async move { c })
        })
        .run_report()
        .await
}

/// The checks no targeted engine bug fails: they guard what session-core itself does (id
/// validation and transport, change tracking within a request, cookies of a new session),
/// and are tested by session-core's own unit tests as well. (An engine that stores nothing
/// fails some of them, since they need a stored session.)
const CORE_ONLY: &[&str] = &[
    "set_get_delete_flush_in_one_request",
    "first_visit_gets_a_cookie",
    "sid_in_url_query_and_header",
    "invalid_ids_never_reach_storage",
    "forged_hmac_ids_are_rejected",
    "release_if_present_never_creates",
];

/// Each bug, and exactly the checks it fails.
fn cases() -> Vec<(Bug, &'static [&'static str])> {
    use Bug::*;
    // Checks that run into an expired, destroyed or moved session, whose end must be kept
    // by the engine itself.
    const LIFETIME_CHECKS: [&str; 5] = [
        "own_inactivity_limit_replaces_the_default",
        "fixed_instant_ends_the_session",
        "absolute_lifetime_ends_an_active_session",
        "own_expiry_survives_regenerate",
        "cookie_max_age_agrees_with_the_stored_expiry",
    ];
    let with = |extra: &[&'static str], lifetime: &[&'static str]| -> &'static [&'static str] {
        let mut all: Vec<&'static str> = extra.to_vec();
        all.extend_from_slice(lifetime);
        Box::leak(all.into_boxed_slice())
    };
    vec![
        (Overwrite, &["concurrent_changes_to_different_keys_merge"]),
        (
            DropsDeletes,
            &[
                "changes_persist_across_requests",
                "concurrent_changes_to_different_keys_merge",
            ],
        ),
        (
            Immortal,
            with(
                &[
                    "expired_sessions_are_never_returned",
                    "gc_removes_expired_and_keeps_live",
                    "session_all_counts_live_sessions",
                ],
                &LIFETIME_CHECKS,
            ),
        ),
        (
            ExistIgnoresExpiry,
            with(&["expired_sessions_are_never_returned"], &LIFETIME_CHECKS),
        ),
        (NoSlide, &["unchanged_sessions_slide"]),
        (IgnoresOwnExpiry, &LIFETIME_CHECKS),
        (
            IgnoresAbsolute,
            &["absolute_lifetime_ends_an_active_session"],
        ),
        (
            ShortStore,
            &[
                "unchanged_sessions_slide",
                "gc_removes_expired_and_keeps_live",
                "own_inactivity_limit_replaces_the_default",
                "fixed_instant_ends_the_session",
                "cookie_max_age_agrees_with_the_stored_expiry",
            ],
        ),
        (
            Undying,
            &[
                "destroy_removes_data_and_cookie",
                "destroy_is_not_undone_by_a_concurrent_request",
                "unchanged_release_does_not_undo_a_logout",
                "session_all_counts_live_sessions",
            ],
        ),
        (
            ResurrectOnChange,
            &["destroy_is_not_undone_by_a_concurrent_request"],
        ),
        (
            ResurrectOnTouch,
            &["unchanged_release_does_not_undo_a_logout"],
        ),
        (LookupOnCreate, &["new_visitor_costs_nothing"]),
        (
            AdoptsUnknown,
            &[
                "unknown_id_is_not_adopted",
                "regenerate_keeps_data_and_cookie_attributes",
                "destroy_removes_data_and_cookie",
                "destroy_is_not_undone_by_a_concurrent_request",
                "expired_sessions_are_never_returned",
                "gc_removes_expired_and_keeps_live",
                "own_inactivity_limit_replaces_the_default",
                "fixed_instant_ends_the_session",
                "absolute_lifetime_ends_an_active_session",
            ],
        ),
        (
            MoveKeepsOld,
            &[
                "regenerate_keeps_data_and_cookie_attributes",
                "manager_regenerate_id",
                "regenerate_moves_only_at_release",
            ],
        ),
        (MoveDropsExpiry, &["own_expiry_survives_regenerate"]),
        // Nothing is ever stored: every check that needs a stored session fails.
        (
            ForgetsNewSessions,
            with(
                &[
                    "round_trip_by_cookie",
                    "changes_persist_across_requests",
                    "sid_in_url_query_and_header",
                    "forged_hmac_ids_are_rejected",
                    "regenerate_keeps_data_and_cookie_attributes",
                    "manager_regenerate_id",
                    "regenerate_moves_only_at_release",
                    "provider_methods_called_directly",
                    "typed_values_round_trip",
                    "wrong_type_is_an_error_and_harmless",
                    "concurrent_changes_to_different_keys_merge",
                    "corrupt_data_reads_as_empty",
                    "unchanged_sessions_slide",
                    "gc_removes_expired_and_keeps_live",
                    "session_all_counts_live_sessions",
                ],
                &LIFETIME_CHECKS,
            ),
        ),
        (ReadWrites, &["provider_methods_called_directly"]),
        (CountsExpired, &["session_all_counts_live_sessions"]),
        (LazyGc, &["gc_removes_expired_and_keeps_live"]),
        (CorruptIsError, &["corrupt_data_reads_as_empty"]),
        (
            TruncatesValues,
            &[
                "typed_values_round_trip",
                "wrong_type_is_an_error_and_harmless",
            ],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bug_fails_exactly_its_checks() {
    let cases = cases();
    // The runs are independent (each has its own backend): run them at once.
    let correct = tokio::spawn(run(None));
    let runs: Vec<_> = cases
        .iter()
        .map(|(bug, _)| tokio::spawn(run(Some(*bug))))
        .collect();
    let report = correct.await.expect("the correct engine's run panicked");
    assert!(report.passed(), "the correct engine must pass:\n{report}");
    assert_eq!(report.skipped().count(), 0, "nothing is skipped:\n{report}");
    let mut wrong = Vec::new();
    let mut guarded = BTreeSet::new();
    for ((bug, expected), handle) in cases.into_iter().zip(runs) {
        let report = handle.await.expect("a suite run panicked");
        let failed: BTreeSet<&str> = report.failures().map(|(name, _)| name).collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        if failed != expected {
            wrong.push(format!(
                "{bug:?}: failed {failed:?}, expected {expected:?}\n{report}"
            ));
        }
        guarded.extend(failed);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every check is guarded by a planted bug, or guards only session-core's own promises.
    let unguarded: Vec<&str> = Suite::check_names()
        .into_iter()
        .filter(|name| !guarded.contains(name) && !CORE_ONLY.contains(name))
        .collect();
    assert!(unguarded.is_empty(), "no planted bug fails {unguarded:?}");
}
