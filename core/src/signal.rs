//! `ChangeSignal`: wakes whoever waits for this node's next committed write.
//!
//! Replication reacts to writes instead of polling for them: the internal
//! node's link sends a space as soon as it changes, and the edge's outbox
//! stream hands a contractor's operation over as soon as it is queued. The
//! signal is a counter of commits plus an [`event_listener::Event`] (no
//! runtime dependency, so core stays pure). It only sees commits made
//! through this process's `Passerelle`: a CLI command run beside a serving
//! node writes through its own process, so waiters keep a slow fallback
//! poll for those.

use std::sync::atomic::{AtomicU64, Ordering};

use event_listener::Event;

/// A counter of committed writes that can be waited on.
#[derive(Debug, Default)]
pub struct ChangeSignal {
    commits: AtomicU64,
    event: Event,
}

impl ChangeSignal {
    /// The number of writes committed so far. Read it *before* looking at
    /// the state, then wait with [`ChangeSignal::changed_since`]: a write
    /// committed in between is never missed.
    pub fn current(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Records a committed write and wakes every waiter.
    pub fn notify(&self) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.event.notify(usize::MAX);
    }

    /// Completes once a write has been committed after `seen` was read.
    pub async fn changed_since(&self, seen: u64) {
        loop {
            if self.current() != seen {
                return;
            }
            // Listen first, then check again: a notification between the
            // check above and `listen` would otherwise be lost.
            let listener = self.event.listen();
            if self.current() != seen {
                return;
            }
            listener.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn a_wait_completes_only_after_a_later_commit() {
        let signal = ChangeSignal::default();
        let seen = signal.current();
        let mut wait = Box::pin(signal.changed_since(seen));
        assert!(
            (&mut wait).now_or_never().is_none(),
            "nothing committed yet"
        );
        signal.notify();
        assert!(wait.now_or_never().is_some(), "woken by the commit");
    }

    #[test]
    fn a_commit_between_reading_and_waiting_is_not_missed() {
        let signal = ChangeSignal::default();
        let seen = signal.current();
        signal.notify();
        assert!(signal.changed_since(seen).now_or_never().is_some());
        assert_eq!(signal.current(), seen + 1);
    }

    #[test]
    fn every_waiter_is_woken() {
        let signal = ChangeSignal::default();
        let seen = signal.current();
        let mut a = Box::pin(signal.changed_since(seen));
        let mut b = Box::pin(signal.changed_since(seen));
        assert!((&mut a).now_or_never().is_none());
        assert!((&mut b).now_or_never().is_none());
        signal.notify();
        assert!(a.now_or_never().is_some());
        assert!(b.now_or_never().is_some());
    }
}
