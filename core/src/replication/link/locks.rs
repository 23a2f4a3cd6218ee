//! Mirroring this node's locks on the edge (ADR 0007, "Locks seen on the
//! edge"): each space the edge holds gets a snapshot of its live locks at
//! the session's start, then again whenever it differs from the last one
//! the edge acknowledged. Snapshots are read only when the lock signal
//! moved (a lock taken, refreshed or released in this process) or a
//! minute went by (locks taken by another process): a quiet link reads
//! no locks, and lock changes wake no feed work.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::LinkError;
use super::down::Down;
use crate::ids::{Revision, SpaceId};
use crate::locks::LockSummary;
use crate::model::Space;

/// How often the spaces' locks are read again without a lock signal:
/// locks taken through another process of this node (several API
/// processes behind a load balancer) wake no signal here.
const RECHECK: Duration = Duration::from_secs(60);
/// How long the link waits before sending snapshots again after the edge
/// refused one (an edge older than the RPC answers `Unimplemented` to
/// every call: once a minute is enough to notice its upgrade).
const RETRY_AFTER_REFUSAL: Duration = Duration::from_secs(60);

/// What the link knows of the edge's mirror, for one session.
#[derive(Debug, Default)]
pub(crate) struct LockMirroring {
    /// The last snapshot of each space the edge acknowledged this session.
    acknowledged: HashMap<SpaceId, Vec<LockSummary>>,
    /// The lock signal's count when every space was last checked.
    seen: Option<u64>,
    /// When every space was last checked.
    checked_at: Option<OffsetDateTime>,
    /// No snapshot is sent before this time (the edge refused one).
    retry_at: Option<OffsetDateTime>,
}

impl Down<'_> {
    /// Sends the edge the snapshot of each space it holds whose locks
    /// differ from what it acknowledged. A refusal is logged and tried
    /// again after [`RETRY_AFTER_REFUSAL`]: locks never hold back the
    /// feed, and the internal node's own checks stay the backstop.
    pub(super) async fn mirror_locks_if_due(&mut self, shared: &[Space]) -> Result<(), LinkError> {
        let now = self.app.now();
        if self.mirror.retry_at.is_some_and(|t| now < t) {
            return Ok(());
        }
        let signal = self.app.lock_changes().current();
        let stale = self.mirror.seen != Some(signal)
            || self.mirror.checked_at.is_none_or(|t| now - t >= RECHECK);
        let mut refused = false;
        for space in shared.iter().map(|s| s.id) {
            // A space the edge does not hold yet has nothing to attach a
            // mirror to: its first batch comes first.
            let held = self
                .cursors
                .get(&space)
                .is_some_and(|r| *r > Revision::ZERO);
            if !held || (!stale && self.mirror.acknowledged.contains_key(&space)) {
                continue;
            }
            let snapshot = self.app.lock_snapshot(space).await?;
            if self.mirror.acknowledged.get(&space) == Some(&snapshot) {
                continue;
            }
            match self.peer.mirror_locks(space, &snapshot).await {
                Ok(()) => {
                    tracing::debug!(edge = %self.edge, %space, locks = snapshot.len(), "locks mirrored on the edge");
                    self.mirror.acknowledged.insert(space, snapshot);
                }
                Err(e) => {
                    let e = LinkError::from(e);
                    if e.is_link_down() {
                        return Err(e);
                    }
                    tracing::warn!(edge = %self.edge, %space, error = %e, retry_in = ?RETRY_AFTER_REFUSAL, "the edge refused the space's locks; its writes are still judged here");
                    refused = true;
                    break;
                }
            }
        }
        if refused {
            self.mirror.retry_at = Some(now + RETRY_AFTER_REFUSAL);
        } else {
            self.mirror.retry_at = None;
            self.mirror.seen = Some(signal);
            self.mirror.checked_at = Some(now);
        }
        // An un-shared space's mirror went with its purge.
        self.mirror
            .acknowledged
            .retain(|id, _| shared.iter().any(|s| s.id == *id));
        Ok(())
    }
}
