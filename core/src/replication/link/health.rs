//! What a link knows of its own failures, kept across sessions: each failing
//! space with why and when to try it again (2 s doubling up to a minute),
//! and why the link was last down. Logs say each change once, not every
//! retry.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::LinkError;
use crate::ids::SpaceId;
use crate::replication::NodeId;

/// First wait before a failing space is tried again; it doubles with each
/// failure in a row, up to [`SPACE_MAX_RETRY`].
const SPACE_FIRST_RETRY: Duration = Duration::from_secs(2);
/// Longest wait before a failing space is tried again. A full disk freed by
/// ops is noticed within this time (at once when a purge frees it).
const SPACE_MAX_RETRY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(super) struct Health {
    pub(super) failing: HashMap<SpaceId, Failing>,
    /// Why the last session ended (`None` once a session is up again).
    pub(super) down: Option<String>,
}

/// A space whose last send or purge failed.
#[derive(Debug)]
pub(super) struct Failing {
    error: String,
    /// [`LinkError::kind`]: a failure of another kind is logged again.
    kind: String,
    /// Failures in a row: the wait doubles with each.
    failures: u32,
    retry_at: OffsetDateTime,
}

impl Health {
    /// Whether `space` may be sent or purged at `now`.
    pub(super) fn due(&self, space: SpaceId, now: OffsetDateTime) -> bool {
        self.failing.get(&space).is_none_or(|f| f.retry_at <= now)
    }

    /// Records a failure of `space` and when to try it again; logs it when
    /// it is news (the space was fine, or fails for another kind of reason).
    pub(super) fn failed(
        &mut self,
        edge: &NodeId,
        space: SpaceId,
        e: &LinkError,
        now: OffsetDateTime,
    ) {
        let (error, kind) = (e.about_space(edge), e.kind().to_owned());
        let (failures, news) = match self.failing.get(&space) {
            Some(f) => (f.failures.saturating_add(1), f.kind != kind),
            None => (1, true),
        };
        let wait = SPACE_FIRST_RETRY
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(SPACE_MAX_RETRY);
        if news {
            tracing::warn!(%edge, %space, %error, retry_in = ?wait, "replication of a space fails; the other spaces go on");
        } else {
            tracing::debug!(%edge, %space, %error, retry_in = ?wait, "replication of a space still fails");
        }
        self.failing.insert(
            space,
            Failing {
                error,
                kind,
                failures,
                retry_at: now + wait,
            },
        );
    }

    /// Records that `space` went through; logs it when it was failing.
    pub(super) fn succeeded(&mut self, edge: &NodeId, space: SpaceId) {
        if let Some(f) = self.failing.remove(&space) {
            tracing::info!(%edge, %space, after = f.failures, "replication of a space works again");
        }
    }

    /// Lets every failing space try again now: a purge freed room on the
    /// edge, which may be what they lacked.
    pub(super) fn retry_all_now(&mut self, now: OffsetDateTime) {
        for f in self.failing.values_mut() {
            f.retry_at = now;
        }
    }

    /// Whether `space` failed last time (digests skip it).
    pub(super) fn is_failing(&self, space: SpaceId) -> bool {
        self.failing.contains_key(&space)
    }

    /// The failing spaces and why, by space id (as recorded).
    pub(super) fn errors(&self) -> Vec<(SpaceId, String)> {
        let mut out: Vec<_> = self
            .failing
            .iter()
            .map(|(s, f)| (*s, f.error.clone()))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::peer::PeerError;

    #[test]
    fn a_failing_space_backs_off_doubling_up_to_a_minute_and_a_purge_lets_it_retry() {
        let (space, other) = (SpaceId::new(), SpaceId::new());
        let edge = NodeId::parse("edge-1").expect("id");
        let full = LinkError::Peer(PeerError::Refused {
            kind: "ResourceExhausted".into(),
            message: "disk full".into(),
        });
        let mut health = Health::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut waits = Vec::new();
        for _ in 0..8 {
            health.failed(&edge, space, &full, t0);
            waits.push(health.failing[&space].retry_at - t0);
        }
        let secs: Vec<i64> = waits.iter().map(|w| w.whole_seconds()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(!health.due(space, t0 + time::Duration::seconds(59)));
        assert!(health.due(other, t0), "the other spaces go on");
        health.retry_all_now(t0);
        assert!(health.due(space, t0));
        assert_eq!(
            health.errors(),
            vec![(space, "edge-1: disk full".to_owned())]
        );
        health.succeeded(&edge, space);
        assert!(health.errors().is_empty());
        assert!(health.due(space, t0));
    }
}
