//! Throttling of failed logins, per account and per client address.
//!
//! In memory, per process: enough against online guessing on one node (a
//! restart forgets, which only helps the legitimate user). Several API
//! processes behind a balancer each throttle on their own; the argon2id cost
//! still bounds the guessing rate.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Failures allowed per account before it is slowed down.
const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures allowed per client address (it may be a NAT for many agents).
const ADDRESS_FREE_FAILURES: u32 = 20;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::minutes(15);
/// Longest lock-out.
const MAX_LOCK: Duration = Duration::minutes(15);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: OffsetDateTime,
}

/// Counts failed logins and says when to refuse attempts.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_key: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    fn lock_for(count: u32, free: u32) -> Option<Duration> {
        if count < free {
            return None;
        }
        // 30 s, 60 s, 120 s… up to MAX_LOCK.
        let exp = (count - free).min(8);
        Some((Duration::seconds(30) * 2_i32.pow(exp)).min(MAX_LOCK))
    }

    fn retry_after(&self, key: &str, free: u32, now: OffsetDateTime) -> Option<u64> {
        let map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        let f = map.get(key)?;
        if now - f.last > WINDOW {
            return None;
        }
        let lock = Self::lock_for(f.count, free)?;
        let until = f.last + lock;
        (until > now).then(|| (until - now).whole_seconds().max(1) as u64)
    }

    /// Seconds to wait before another attempt for this login or address.
    pub fn check(&self, login: &str, address: Option<&str>, now: OffsetDateTime) -> Option<u64> {
        let a = self.retry_after(&format!("login:{login}"), ACCOUNT_FREE_FAILURES, now);
        let b = address
            .and_then(|ip| self.retry_after(&format!("ip:{ip}"), ADDRESS_FREE_FAILURES, now));
        a.max(b)
    }

    pub fn record_failure(&self, login: &str, address: Option<&str>, now: OffsetDateTime) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory against a flood of distinct logins.
        if map.len() > 100_000 {
            map.retain(|_, f| now - f.last <= WINDOW);
        }
        let mut bump = |key: String| {
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now - f.last > WINDOW {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
        };
        bump(format!("login:{login}"));
        if let Some(ip) = address {
            bump(format!("ip:{ip}"));
        }
    }

    pub fn record_success(&self, login: &str) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("login:{login}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_an_account_after_five_failures_and_forgets_after_the_window() {
        let t = LoginThrottle::default();
        let now = OffsetDateTime::now_utc();
        for _ in 0..4 {
            t.record_failure("alice", None, now);
        }
        assert_eq!(t.check("alice", None, now), None);
        t.record_failure("alice", None, now);
        assert_eq!(t.check("alice", None, now), Some(30));
        assert_eq!(t.check("bob", None, now), None);
        assert_eq!(t.check("alice", None, now + Duration::minutes(16)), None);
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let t = LoginThrottle::default();
        let now = OffsetDateTime::now_utc();
        for i in 0..20 {
            t.record_failure(&format!("user{i}"), Some("10.0.0.1"), now);
        }
        t.record_success("user0");
        assert!(t.check("someone-else", Some("10.0.0.1"), now).is_some());
        assert_eq!(t.check("someone-else", Some("10.0.0.2"), now), None);
    }
}
