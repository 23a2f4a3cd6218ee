//! `LockMirror` on the in-memory transaction: the edge's `lock_mirror`
//! table kept in the same [`State`] as the rest, so a snapshot commits or
//! rolls back as a whole, and an un-share purge takes it along.

use async_trait::async_trait;

use super::{MemTx, State, missing};
use crate::ids::SpaceId;
use crate::locks::{LockMirror, LockSummary};
use crate::model::Resource;
use crate::ports::RepoError;

impl State {
    /// Mirrored locks `keep` selects, in the SQL adapter's order: by
    /// `since`, then as the snapshot gave them (a stable sort).
    fn mirrored_where(&self, keep: impl Fn(&LockSummary) -> bool) -> Vec<LockSummary> {
        let mut out: Vec<LockSummary> = self
            .lock_mirror
            .values()
            .flatten()
            .filter(|l| keep(l))
            .cloned()
            .collect();
        out.sort_by_key(|l| l.since);
        out
    }

    /// An un-share purge drops the space's mirror; how many rows went.
    pub(super) fn purge_lock_mirror(&mut self, space: SpaceId) -> u64 {
        self.lock_mirror
            .remove(&space)
            .map_or(0, |v| v.len() as u64)
    }
}

#[async_trait]
impl LockMirror for MemTx {
    async fn replace_lock_mirror(
        &mut self,
        space: SpaceId,
        locks: &[LockSummary],
    ) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&space) {
            return Err(missing("space", space));
        }
        let rows: Vec<LockSummary> = locks
            .iter()
            .map(|l| LockSummary { space, ..l.clone() })
            .collect();
        if rows.is_empty() {
            s.lock_mirror.remove(&space);
        } else {
            s.lock_mirror.insert(space, rows);
        }
        Ok(())
    }

    async fn mirrored_locks_of(
        &mut self,
        resources: &[Resource],
    ) -> Result<Vec<LockSummary>, RepoError> {
        Ok(self
            .state()
            .mirrored_where(|l| resources.contains(&l.resource)))
    }

    async fn space_lock_mirror(&mut self, space: SpaceId) -> Result<Vec<LockSummary>, RepoError> {
        Ok(self.state().mirrored_where(|l| l.space == space))
    }
}
