//! A timer for tests: a wait moves a [`FakeClock`] by its length and
//! completes at the next poll, so a loop that backs off for minutes runs in
//! microseconds and sees the time it would have seen.

use std::sync::Arc;
use std::task::Poll;

use futures::future::BoxFuture;

use super::FakeClock;
use crate::ports::Timer;

/// A [`Timer`] over a [`FakeClock`].
#[derive(Debug, Clone)]
pub struct FakeTimer {
    clock: Arc<FakeClock>,
}

impl FakeTimer {
    pub fn new(clock: Arc<FakeClock>) -> Self {
        Self { clock }
    }
}

impl Timer for FakeTimer {
    fn sleep(&self, d: std::time::Duration) -> BoxFuture<'static, ()> {
        let clock = self.clock.clone();
        let mut waited = false;
        // Pending once (waking itself): other futures of the same task get
        // their turn, as they would while a real timer runs.
        Box::pin(futures::future::poll_fn(move |cx| {
            if waited {
                return Poll::Ready(());
            }
            waited = true;
            clock.advance(time::Duration::try_from(d).unwrap_or(time::Duration::MAX));
            cx.waker().wake_by_ref();
            Poll::Pending
        }))
    }
}
