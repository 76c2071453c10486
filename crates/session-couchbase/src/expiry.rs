//! Document expiries: what the engine hands the SDK for a record that should live `ttl`, and
//! how long a read document has left.
//!
//! The server counts expiries in whole seconds, in one `u32` field read two ways: up to 30
//! days it is a duration, above that an absolute Unix time. The SDK (1.1,
//! `CouchbaseCoreKvClient::expiry_to_seconds`) takes a `Duration` and does that conversion
//! itself: under one second becomes 1 s, under 30 days the whole seconds (truncated), 30
//! days and more `now + seconds` by the client's clock, and an absolute time past
//! `u32::MAX` (the year 2106) is an `InvalidArgument` error. So long lifetimes need nothing
//! special here, but two things do:
//! - the SDK truncates, so `1.9 s` would live 1 s: the engine rounds up instead, so a
//!   session lives at least its lifetime (and less than a second more);
//! - a lifetime reaching past 2106 is cut to end there rather than fail the write.
//!
//! A session's `expiry` of 0 would mean "never" to the server; neither the SDK (minimum 1 s)
//! nor this module ever sends it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The latest end the server can store: `u32::MAX` seconds after the epoch.
const LATEST_END: u64 = u32::MAX as u64;

/// The expiry to give the SDK for a document that should live `ttl` from `now`: whole
/// seconds rounded up, at least one, and ending no later than the server can store.
pub(crate) fn document_expiry(ttl: Duration, now: SystemTime) -> Duration {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    let now = unix_secs(now);
    // Leave a second for the clock to move between now and the SDK's own `now`.
    let room = LATEST_END.saturating_sub(now).saturating_sub(1);
    Duration::from_secs(secs.clamp(1, room.max(1)))
}

/// How long a document whose expiry is `exptime` (absolute Unix seconds, as the server
/// reports it) has left at `now`; `None` for a document without an expiry (0).
pub(crate) fn remaining(exptime: i64, now: SystemTime) -> Option<Duration> {
    if exptime <= 0 {
        return None;
    }
    let end = UNIX_EPOCH + Duration::from_secs(exptime.unsigned_abs());
    Some(end.duration_since(now).unwrap_or(Duration::ZERO))
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600;

    /// What the SDK 1.1 puts in the request's expiry field for `expiry` (its rule, restated
    /// from its source), so the tests can check what the server gets.
    fn sent_by_sdk(expiry: Duration, now: SystemTime) -> Result<u32, String> {
        if expiry.as_millis() < 1000 {
            return Ok(1);
        }
        let secs = expiry.as_secs();
        if secs < 30 * DAY {
            return u32::try_from(secs).map_err(|e| e.to_string());
        }
        u32::try_from(unix_secs(now).saturating_add(secs)).map_err(|e| e.to_string())
    }

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn short_lifetimes_round_up_to_whole_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            document_expiry(Duration::from_millis(1500), now).as_secs(),
            2
        );
        assert_eq!(document_expiry(Duration::from_millis(1), now).as_secs(), 1);
        assert_eq!(
            document_expiry(Duration::ZERO, now).as_secs(),
            1,
            "never 0 (= forever)"
        );
        assert_eq!(
            document_expiry(Duration::from_secs(3600), now).as_secs(),
            3600
        );
        let sent = sent_by_sdk(document_expiry(Duration::from_millis(1900), now), now);
        assert_eq!(sent, Ok(2), "the SDK would truncate 1.9 s to 1 s");
    }

    #[test]
    fn lifetimes_over_30_days_reach_the_server_as_absolute_times() {
        let now = at(1_800_000_000);
        for days in [29, 30, 31, 90, 365 * 10] {
            let ttl = Duration::from_secs(days * DAY);
            let sent = u64::from(sent_by_sdk(document_expiry(ttl, now), now).unwrap());
            // The server reads values up to 30 days as durations, larger ones as Unix
            // times: either way the document must end `days` from now.
            let ends = if sent <= 30 * DAY {
                1_800_000_000 + sent
            } else {
                sent
            };
            assert_eq!(ends, 1_800_000_000 + days * DAY, "{days} days");
        }
    }

    #[test]
    fn lifetimes_past_2106_end_in_2106_instead_of_failing() {
        let now = at(1_800_000_000);
        let ttl = Duration::from_secs(200 * 365 * DAY);
        let expiry = document_expiry(ttl, now);
        let sent = sent_by_sdk(expiry, now).expect("the SDK accepts it");
        assert!(u64::from(sent) >= LATEST_END - 2, "{sent}");
        assert!(
            sent_by_sdk(ttl, now).is_err(),
            "uncut, the SDK refuses the write"
        );
        // A clock already past 2106 still never yields 0.
        assert_eq!(document_expiry(ttl, at(LATEST_END + 5)).as_secs(), 1);
    }

    #[test]
    fn remaining_time_from_the_servers_expiry() {
        let now = at(1_000);
        assert_eq!(remaining(1_090, now), Some(Duration::from_secs(90)));
        assert_eq!(remaining(900, now), Some(Duration::ZERO), "already over");
        assert_eq!(remaining(0, now), None, "no expiry");
    }
}
