//! Session lifetimes: the manager's rules ([`Lifetimes`]), a session's own choice
//! ([`Expiry`], stored with it) and what an engine stores for one record ([`Lifetime`]).
//!
//! Every session ends at the earliest of
//! - its inactivity limit: `maxLifetime` after its last use, or the duration of its own
//!   [`Expiry::OnInactivity`];
//! - its fixed instant, when it has one ([`Expiry::AtDateTime`]);
//! - its creation plus the manager's absolute lifetime (`absoluteLifetime`), when set.
//!
//! Engines never combine these themselves: they are handed a [`Lifetime`] (the inactivity
//! part and the hard end) with every write and store the end it gives natively (an SQL
//! expiry column, a Redis `PX`, a memcached exptime, a file's modification time).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When one session ends, chosen for that session from a handler
/// ([`Session::set_expiry`](crate::Session::set_expiry)) and stored with it, so it holds on
/// the next request, on every app instance and across
/// [`regenerate`](crate::Session::regenerate).
///
/// A session without one follows the manager: it ends `maxLifetime` after its last use, and
/// its cookie has beego's `cookieLifeTime` as `Max-Age` (none when 0).
///
/// ```
/// use std::time::Duration;
/// use session_core::Expiry;
///
/// let remember_me = Expiry::OnInactivity(Duration::from_secs(30 * 24 * 3600));
/// assert_ne!(remember_me, Expiry::OnSessionEnd);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Ends after this long without a request (sliding), instead of `maxLifetime`; the
    /// cookie's `Max-Age` follows it.
    OnInactivity(Duration),
    /// Ends at this instant, however active it is; the cookie expires then too.
    AtDateTime(SystemTime),
    /// A browser-session cookie (no `Max-Age`, gone when the browser closes); the stored data
    /// still ends `maxLifetime` after its last use.
    OnSessionEnd,
}

/// The manager's lifetime rules, as every engine receives them
/// ([`ProviderInit::lifetimes`](crate::ProviderInit::lifetimes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// `maxLifetime` (after beego's "0 means `gclifetime`"): how long a session without its
    /// own expiry lives after its last use.
    pub max_lifetime: Duration,
    /// `absoluteLifetime`: how long any session lives after its creation, however active;
    /// `None` (the default) for no such limit.
    pub absolute: Option<Duration>,
    /// `cookieLifeTime`: the `Max-Age` of the cookie of a session without its own expiry;
    /// `None` (beego's 0) for a browser-session cookie.
    pub cookie_life_time: Option<Duration>,
}

impl Lifetimes {
    /// Sessions living `max_lifetime` after their last use, nothing else.
    pub fn sliding(max_lifetime: Duration) -> Self {
        Lifetimes {
            max_lifetime,
            absolute: None,
            cookie_life_time: None,
        }
    }

    /// The lifetime of a session created at `created` (`None`: now) with its own `expiry`.
    pub fn of(&self, created: Option<SystemTime>, expiry: Option<Expiry>) -> Lifetime {
        let (idle, fixed) = match expiry {
            None | Some(Expiry::OnSessionEnd) => (Some(self.max_lifetime), None),
            Some(Expiry::OnInactivity(idle)) => (Some(idle), None),
            Some(Expiry::AtDateTime(at)) => (None, Some(at)),
        };
        let cap = self
            .absolute
            .map(|absolute| created.unwrap_or_else(SystemTime::now) + absolute);
        let until = match (fixed, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Lifetime { idle, until }
    }

    /// True when a session created at `created` with `expiry` has passed its hard end (its
    /// fixed instant or the absolute lifetime), whatever its activity.
    pub fn is_over(&self, created: Option<SystemTime>, expiry: Option<Expiry>) -> bool {
        self.of(created, expiry).ttl().is_zero()
    }

    /// The cookie `Max-Age` for a session with `expiry` whose stored record ends in
    /// `remaining`: never more than the stored session gives. `None`: a browser-session
    /// cookie (no `Max-Age`).
    pub fn cookie_max_age(&self, expiry: Option<Expiry>, remaining: Duration) -> Option<Duration> {
        let wanted = match expiry {
            None => self.cookie_life_time?,
            Some(Expiry::OnSessionEnd) => return None,
            Some(Expiry::OnInactivity(_) | Expiry::AtDateTime(_)) => remaining,
        };
        // Cookies count in whole seconds: round to the nearest (the record was written a
        // moment ago, so "2.9999 s left" is the 3 s it was given), and never 0, which would
        // delete the cookie at once.
        let millis = wanted.min(remaining).as_millis();
        let secs = u64::try_from((millis + 500) / 1000).unwrap_or(u64::MAX);
        Some(Duration::from_secs(secs.max(1)))
    }
}

/// One session's lifetime, resolved from the manager's rules and the session's own
/// [`Expiry`]: what an engine stores with the record.
///
/// The record ends [`ttl`](Self::ttl) from now; a use refreshes that while `idle` is set,
/// but never past `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Sliding part: each use pushes the end this far ahead. `None` for a fixed end.
    pub idle: Option<Duration>,
    /// Hard end, whatever the activity (a fixed instant or the absolute lifetime).
    pub until: Option<SystemTime>,
}

impl Lifetime {
    /// A sliding lifetime of `idle` with no hard end.
    pub fn sliding(idle: Duration) -> Self {
        Lifetime {
            idle: Some(idle),
            until: None,
        }
    }

    /// How long a record written now lives: the sliding part, cut at the hard end; zero
    /// when the hard end has passed.
    pub fn ttl(&self) -> Duration {
        self.ttl_at(SystemTime::now())
    }

    /// [`ttl`](Self::ttl) as of `now`.
    pub fn ttl_at(&self, now: SystemTime) -> Duration {
        let cap = self
            .until
            .map(|until| until.duration_since(now).unwrap_or(Duration::ZERO));
        match (self.idle, cap) {
            (Some(idle), Some(cap)) => idle.min(cap),
            (Some(idle), None) => idle,
            (None, Some(cap)) => cap,
            (None, None) => Duration::ZERO,
        }
    }

    /// When a record written now ends.
    pub fn expires_at(&self) -> SystemTime {
        let now = SystemTime::now();
        now + self.ttl_at(now)
    }

    /// How much of its lifetime an unchanged record may lose before a read refreshes it:
    /// 1 % of the sliding part, so most read-only requests write nothing and a session
    /// still lives at least 99 % of its inactivity limit after its last use. A fixed end
    /// never needs refreshing.
    pub fn refresh_slack(&self) -> Duration {
        self.idle.map_or(Duration::MAX, |idle| idle / 100)
    }

    /// True when a record that has `remaining` left should be refreshed: a write now would
    /// extend it by more than [`refresh_slack`](Self::refresh_slack).
    pub fn refresh_due(&self, remaining: Duration) -> bool {
        self.idle.is_some() && self.ttl().saturating_sub(remaining) > self.refresh_slack()
    }
}

/// `time` as whole milliseconds since the Unix epoch (0 before it).
pub(crate) fn to_unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The instant `millis` milliseconds after the Unix epoch.
pub(crate) fn from_unix_millis(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis)
}

/// Now, to the millisecond (the precision sessions are stored with).
pub(crate) fn now_millis() -> SystemTime {
    from_unix_millis(to_unix_millis(SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn default_sessions_slide_by_max_lifetime() {
        let rules = Lifetimes::sliding(HOUR);
        let life = rules.of(None, None);
        assert_eq!(life, Lifetime::sliding(HOUR));
        assert_eq!(life.ttl(), HOUR);
        assert_eq!(rules.of(None, Some(Expiry::OnSessionEnd)), life);
    }

    #[test]
    fn own_expiry_replaces_the_inactivity_limit() {
        let rules = Lifetimes::sliding(HOUR);
        let month = Duration::from_secs(30 * 24 * 3600);
        assert_eq!(
            rules.of(None, Some(Expiry::OnInactivity(month))).ttl(),
            month
        );
        let at = SystemTime::now() + Duration::from_secs(90);
        let fixed = rules.of(None, Some(Expiry::AtDateTime(at)));
        assert_eq!(fixed.idle, None);
        assert!(fixed.ttl() <= Duration::from_secs(90) && fixed.ttl() > Duration::from_secs(88));
        assert!(
            !fixed.refresh_due(Duration::from_secs(1)),
            "a fixed end never slides"
        );
    }

    #[test]
    fn the_absolute_lifetime_caps_everything() {
        let rules = Lifetimes {
            absolute: Some(Duration::from_secs(60)),
            ..Lifetimes::sliding(HOUR)
        };
        let created = SystemTime::now() - Duration::from_secs(30);
        let life = rules.of(Some(created), Some(Expiry::OnInactivity(HOUR * 24)));
        assert!(life.ttl() <= Duration::from_secs(30));
        let old = SystemTime::now() - Duration::from_secs(61);
        assert!(rules.is_over(Some(old), None));
        assert!(!rules.is_over(Some(created), None));
        assert!(
            !rules.is_over(None, None),
            "a session being created now is not over"
        );
    }

    #[test]
    fn refresh_is_due_past_one_percent() {
        let life = Lifetime::sliding(Duration::from_secs(100));
        assert!(!life.refresh_due(Duration::from_millis(99_500)));
        assert!(life.refresh_due(Duration::from_millis(98_000)));
    }

    #[test]
    fn cookie_max_age_never_outlives_the_record() {
        let rules = Lifetimes {
            cookie_life_time: Some(HOUR * 24),
            ..Lifetimes::sliding(HOUR)
        };
        assert_eq!(rules.cookie_max_age(None, HOUR), Some(HOUR));
        let browser = Lifetimes::sliding(HOUR);
        assert_eq!(browser.cookie_max_age(None, HOUR), None);
        assert_eq!(
            browser.cookie_max_age(Some(Expiry::OnInactivity(HOUR * 2)), HOUR * 2),
            Some(HOUR * 2)
        );
        assert_eq!(rules.cookie_max_age(Some(Expiry::OnSessionEnd), HOUR), None);
    }

    #[test]
    fn unix_millis_round_trip() {
        let now = now_millis();
        assert_eq!(from_unix_millis(to_unix_millis(now)), now);
        assert_eq!(to_unix_millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
