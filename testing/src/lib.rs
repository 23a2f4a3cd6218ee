//! # passerelle-testing
//!
//! Helpers shared by the test suites of the workspace, used only as a
//! dev-dependency. It depends on no Passerelle crate (tokio, anyhow,
//! base64, flate2, axum for `http`, rcgen for `slapd`, reqwest and
//! totp-rs for `edge_login`), so that any crate, core included, can use it in its tests without
//! a dependency cycle.
//!
//! - [`eventually`] / [`eventually_within`]: wait for a condition by
//!   polling it, never with a bare sleep (STYLE.md, Tests).
//! - [`parse_openmetrics`]: read a node's `/metrics` strictly.
//! - [`pes`]: Helios PES V2 files built from their published structure.
//! - [`actes`]: @CTES bundles and acknowledgements, and hostile bundles.
//! - [`http`]: a router called in-process from a chosen peer, with Basic
//!   credentials.
//! - [`slapd`]: a throwaway OpenLDAP server (Debian's `slapd`) with LDAPS.
//! - [`edge_login`]: a contractor's login on a real edge, enrolling a
//!   second factor or giving a code (`oathtool`).
//! - [`clamd`]: a throwaway ClamAV daemon with a private signature database.
//! - [`prose`]: French prose documents for indexing benches.
//! - [`drops`]: what a hot folder has filed, seen from outside.
//! - [`memory`]: a process's peak memory, sampled over a phase.

pub mod actes;
pub mod clamd;
pub mod drops;
pub mod edge_login;
pub mod http;
pub mod memory;
mod openmetrics;
pub mod pes;
pub mod prose;
pub mod slapd;
pub mod smtp;

pub use openmetrics::parse_openmetrics;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

/// How long [`eventually`] waits: generous, because a loaded CI machine
/// (two cores running several test binaries) is slow; a passing test
/// never waits that long.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(30);

/// How often [`eventually`] polls: short enough not to slow tests down,
/// long enough not to flood a node with requests.
pub const DEFAULT_EVERY: Duration = Duration::from_millis(50);

/// Polls `check` until it succeeds, for up to [`DEFAULT_WITHIN`] every
/// [`DEFAULT_EVERY`]; see [`eventually_within`].
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    eventually_within(what, DEFAULT_WITHIN, DEFAULT_EVERY, check).await
}

/// Polls `check` until it returns `Ok`, and returns that value.
///
/// - `what` describes the awaited condition ("the document on the edge");
///   it names the wait in the timeout error.
/// - `within` is the deadline, from the call. `check` is always called at
///   least once, and once more at or after the deadline when the previous
///   call failed before it, so a slow check still gets its last chance.
/// - `every` is the pause between two calls (after a failed call).
///
/// On timeout, returns the last error of `check` (why it was still not
/// true: make it say so, e.g. with `anyhow::ensure!`), with the context
/// "waited {within} for {what}".
///
/// The deadline is measured with tokio's clock, so a test with paused time
/// still ends.
pub async fn eventually_within<T, F, Fut>(
    what: &str,
    within: Duration,
    every: Duration,
    mut check: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let end = Instant::now() + within;
    loop {
        let failed = match check().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if Instant::now() >= end {
            return Err(failed).with_context(|| format!("waited {within:?} for {what}"));
        }
        // Never sleep past the deadline: the last call happens at it.
        tokio::time::sleep(every.min(end - Instant::now())).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_the_value_once_the_check_succeeds() -> anyhow::Result<()> {
        let calls = AtomicU32::new(0);
        let got = eventually_within(
            "the third call",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                anyhow::ensure!(n >= 3, "only {n} calls");
                Ok(n)
            },
        )
        .await?;
        assert_eq!(got, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3, "no call after success");
        Ok(())
    }

    #[tokio::test]
    async fn a_timeout_returns_the_last_error_and_names_the_wait() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let err = eventually_within::<(), _, _>(
            "the impossible",
            Duration::from_millis(100),
            Duration::from_millis(10),
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                anyhow::bail!("still false after {n} calls")
            },
        )
        .await
        .expect_err("never true");
        let n = calls.load(Ordering::SeqCst);
        assert!(started.elapsed() >= Duration::from_millis(100), "waited");
        assert!(n >= 2, "polled more than once: {n}");
        let text = format!("{err:#}");
        assert!(text.contains("waited 100ms for the impossible"), "{text}");
        assert!(
            text.contains(&format!("still false after {n} calls")),
            "the last error, not the first: {text}"
        );
    }

    #[tokio::test]
    async fn polls_at_the_given_interval() {
        let calls = AtomicU32::new(0);
        let _ = eventually_within::<(), _, _>(
            "counting",
            Duration::from_millis(200),
            Duration::from_millis(100),
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                anyhow::bail!("no")
            },
        )
        .await;
        // At 0, 100 and 200 ms; a few more on a slow machine at most, not
        // the hundreds a busy loop would make.
        let n = calls.load(Ordering::SeqCst);
        assert!((2..=4).contains(&n), "{n} calls");
    }

    #[tokio::test]
    async fn the_default_waits_succeed_at_once_when_already_true() -> anyhow::Result<()> {
        let started = Instant::now();
        eventually("true", || async { Ok(()) }).await?;
        assert!(started.elapsed() < DEFAULT_EVERY);
        Ok(())
    }
}
