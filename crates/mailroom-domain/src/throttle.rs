//! Login throttling: how failed attempts turn into lockouts. Pure; the counters themselves live
//! in the database, so that every server node sees the same ones.
//!
//! A key (an account or a source address) collects failures. Failures that follow each other
//! within [`ThrottleRule::window_secs`] count together; once [`ThrottleRule::max_failures`] is
//! reached the key is locked, and each further failure after a lock doubles the lockout up to
//! [`ThrottleRule::max_lockout_secs`].

use chrono::{DateTime, Duration, Utc};

/// When failures lead to a lockout, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Failures allowed before the first lockout; 0 turns the rule off.
    pub max_failures: u32,
    /// A failure more than this many seconds after the previous one (or after the end of the
    /// last lockout) starts the count afresh.
    pub window_secs: i64,
    /// Length of the first lockout, in seconds.
    pub lockout_secs: i64,
    /// Longest lockout, in seconds. Equal to `lockout_secs` for a fixed lockout.
    pub max_lockout_secs: i64,
}

/// The failures recorded for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottleRule {
    /// The state after one more failure at `now`.
    pub fn after_failure(&self, prev: Option<&ThrottleState>, now: DateTime<Utc>) -> ThrottleState {
        let window = Duration::seconds(self.window_secs.max(0));
        let failures = match prev {
            Some(p) => {
                let quiet_since = p.locked_until.map_or(p.last_failure_at, |l| l.max(p.last_failure_at));
                if now - quiet_since <= window { p.failures.saturating_add(1) } else { 1 }
            }
            None => 1,
        };
        let limit = i64::from(self.max_failures);
        let locked_until = (self.max_failures > 0 && failures >= limit).then(|| now + self.lockout_for(failures));
        ThrottleState { failures, last_failure_at: now, locked_until }
    }

    /// How long the lockout lasts after `failures` failures (at least the limit).
    pub fn lockout_for(&self, failures: i64) -> Duration {
        let extra = failures.saturating_sub(i64::from(self.max_failures)).clamp(0, 40);
        let base = self.lockout_secs.max(0);
        let cap = self.max_lockout_secs.max(base);
        let secs = base.checked_mul(1i64 << extra).map_or(cap, |s| s.min(cap));
        Duration::seconds(secs)
    }
}

/// Seconds until the key may try again (rounded up, at least 1), or `None` when it is not locked.
pub fn retry_after(state: &ThrottleState, now: DateTime<Utc>) -> Option<i64> {
    let until = state.locked_until?;
    if until <= now {
        return None;
    }
    let ms = (until - now).num_milliseconds();
    Some(((ms + 999) / 1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ACCOUNT: ThrottleRule =
        ThrottleRule { max_failures: 5, window_secs: 900, lockout_secs: 60, max_lockout_secs: 3600 };

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn locks_after_the_limit_and_doubles() {
        let mut s: Option<ThrottleState> = None;
        let mut now = t0();
        for i in 1..=4 {
            let next = ACCOUNT.after_failure(s.as_ref(), now);
            assert_eq!(next.failures, i);
            assert_eq!(next.locked_until, None);
            s = Some(next);
            now += Duration::seconds(1);
        }
        let locked = ACCOUNT.after_failure(s.as_ref(), now);
        assert_eq!(locked.locked_until, Some(now + Duration::seconds(60)));
        assert_eq!(retry_after(&locked, now), Some(60));
        assert_eq!(retry_after(&locked, now + Duration::milliseconds(59_500)), Some(1));
        assert_eq!(retry_after(&locked, now + Duration::seconds(60)), None);
        // A failure after the lock expired, within the window: twice as long.
        let later = now + Duration::seconds(61);
        let again = ACCOUNT.after_failure(Some(&locked), later);
        assert_eq!(again.failures, 6);
        assert_eq!(again.locked_until, Some(later + Duration::seconds(120)));
    }

    #[test]
    fn quiet_time_resets_the_count() {
        let s = ThrottleState { failures: 4, last_failure_at: t0(), locked_until: None };
        let next = ACCOUNT.after_failure(Some(&s), t0() + Duration::seconds(901));
        assert_eq!(next.failures, 1);
        // The window starts when a lockout ends, not at the last failure.
        let s =
            ThrottleState { failures: 9, last_failure_at: t0(), locked_until: Some(t0() + Duration::seconds(3600)) };
        let next = ACCOUNT.after_failure(Some(&s), t0() + Duration::seconds(3600 + 600));
        assert_eq!(next.failures, 10);
    }

    #[test]
    fn zero_turns_the_rule_off() {
        let off = ThrottleRule { max_failures: 0, ..ACCOUNT };
        let mut s = None;
        for _ in 0..100 {
            s = Some(off.after_failure(s.as_ref(), t0()));
        }
        assert_eq!(s.and_then(|s| s.locked_until), None);
    }

    proptest! {
        #[test]
        fn lockouts_grow_and_stay_capped(n in 0i64..10_000, base in 0i64..100_000, cap in 0i64..1_000_000) {
            let rule = ThrottleRule { max_failures: 3, window_secs: 60, lockout_secs: base, max_lockout_secs: cap };
            let d = rule.lockout_for(n);
            prop_assert!(d >= Duration::zero());
            prop_assert!(d <= Duration::seconds(cap.max(base)));
            prop_assert!(rule.lockout_for(n + 1) >= d);
        }

        #[test]
        fn never_locked_below_the_limit(gaps in proptest::collection::vec(0i64..2_000, 1..30)) {
            let mut s: Option<ThrottleState> = None;
            let mut now = t0();
            for g in gaps {
                now += Duration::seconds(g);
                let next = ACCOUNT.after_failure(s.as_ref(), now);
                prop_assert_eq!(next.locked_until.is_some(), next.failures >= 5);
                prop_assert!(next.failures >= 1);
                s = Some(next);
            }
        }
    }
}
