//! A clock for tests that stands still until told to move, so that
//! expiries and retention periods are checked at exact instants.

use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::ports::Clock;

/// A settable [`Clock`]: `now` returns the last time set, whatever the
/// wall clock says.
#[derive(Debug)]
pub struct FakeClock {
    /// The time `now` returns; a std mutex, held only to copy or replace it.
    now: Mutex<OffsetDateTime>,
}

impl FakeClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Shows `at` from now on (it may go back).
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the time by `by` (negative: back).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_time_it_was_set_to_until_moved() {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let clock = FakeClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(31));
        assert_eq!(clock.now(), start + Duration::days(31));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
