//! Locks seen on an edge (ADR 0007, "Locks seen on the edge"): the
//! internal node sends each shared space's live locks as [`LockSummary`]s,
//! and the edge keeps them through [`LockMirror`], so a contractor's write
//! on a locked document is refused there at once instead of becoming a
//! conflict copy later.
//!
//! A supertrait of [`crate::ports::Tx`], as [`super::LockStore`] is: the
//! edge's write use cases read the mirror in the transaction they check
//! rights in, and an un-share purge drops it with the space's rows.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ids::{PrincipalId, SpaceId};
use crate::model::Resource;
use crate::ports::RepoError;

use super::{LockDepth, LockScope};

/// A lock as both nodes may show it: on what, held by whom, until when.
/// Never its token (only its holder uses it, on the internal node) nor its
/// note (free text the holder's client wrote, possibly internal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockSummary {
    pub resource: Resource,
    /// The resource's space: a mirror is replaced space by space.
    pub space: SpaceId,
    /// The holder: an agent the edge may not know (not a member of any
    /// shared space), hence the name beside it.
    pub holder: PrincipalId,
    /// The holder's display name on the internal node ("Paul Martin").
    pub holder_name: String,
    pub scope: LockScope,
    pub depth: LockDepth,
    /// When the lock was taken.
    pub since: OffsetDateTime,
    /// When it ends by itself unless refreshed.
    pub until: OffsetDateTime,
}

impl LockSummary {
    /// Whether the lock still holds at `now`: a mirrored lock that expired
    /// excludes nothing, even before the next snapshot drops it.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.until
    }
}

/// The table `lock_mirror` of an edge. Every method runs in the
/// transaction it is called on; writes in a read transaction fail with
/// `Storage`. Lists are ordered by `since`, then in the order the
/// snapshot gave them, on every engine; expired rows are returned like
/// live ones (the caller compares `until` with its clock).
#[async_trait]
pub trait LockMirror: Send {
    /// Replaces every mirrored lock of `space` with `locks` (an empty
    /// slice clears it). Idempotent: the same snapshot twice leaves the
    /// same mirror. `space` must exist (foreign key: `Storage`
    /// otherwise), and every lock must be of `space` (the use case checks
    /// it; the adapter stores each under `space`).
    async fn replace_lock_mirror(
        &mut self,
        space: SpaceId,
        locks: &[LockSummary],
    ) -> Result<(), RepoError>;

    /// The mirrored locks on any of `resources` (on them exactly, whatever
    /// their depth): a resource and its ancestors are one lookup. An empty
    /// slice gives nothing.
    async fn mirrored_locks_of(
        &mut self,
        resources: &[Resource],
    ) -> Result<Vec<LockSummary>, RepoError>;

    /// Every mirrored lock of `space`.
    async fn space_lock_mirror(&mut self, space: SpaceId) -> Result<Vec<LockSummary>, RepoError>;
}
