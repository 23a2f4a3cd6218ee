//! `LockStore` on the in-memory transaction: the `locks` table kept in the
//! same [`State`] as the rest, so a lock written by a use case commits or
//! rolls back with its other writes, as in the SQL adapter.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemTx, State, missing};
use crate::ids::SpaceId;
use crate::locks::{Lock, LockStore, LockToken};
use crate::model::Resource;
use crate::ports::RepoError;

impl State {
    /// Locks that `keep` selects, in the SQL adapter's order.
    fn locks_where(&self, keep: impl Fn(&Lock) -> bool) -> Vec<Lock> {
        let mut out: Vec<Lock> = self.locks.values().filter(|l| keep(l)).cloned().collect();
        out.sort_by_key(|l| (l.created_at, l.token));
        out
    }

    /// Removes the locks `gone` selects; how many went.
    fn remove_locks(&mut self, gone: impl Fn(&Lock) -> bool) -> u64 {
        let before = self.locks.len();
        self.locks.retain(|_, l| !gone(l));
        (before - self.locks.len()) as u64
    }

    /// An un-share purge takes the space's locks with it.
    pub(super) fn purge_space_locks(&mut self, space: SpaceId) -> u64 {
        self.remove_locks(|l| l.space == space)
    }
}

#[async_trait]
impl LockStore for MemTx {
    async fn save_lock(&mut self, lock: &Lock) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&lock.owner) {
            return Err(missing("principal", lock.owner));
        }
        if !s.spaces.contains_key(&lock.space) {
            return Err(missing("space", lock.space));
        }
        s.locks.insert(lock.token, lock.clone());
        Ok(())
    }

    async fn lock_by_token(&mut self, token: LockToken) -> Result<Option<Lock>, RepoError> {
        Ok(self.state().locks.get(&token).cloned())
    }

    async fn locks_of(&mut self, resources: &[Resource]) -> Result<Vec<Lock>, RepoError> {
        Ok(self
            .state()
            .locks_where(|l| resources.contains(&l.resource)))
    }

    async fn space_locks(&mut self, space: SpaceId) -> Result<Vec<Lock>, RepoError> {
        Ok(self.state().locks_where(|l| l.space == space))
    }

    async fn delete_lock(&mut self, token: LockToken) -> Result<bool, RepoError> {
        Ok(self.state_mut()?.locks.remove(&token).is_some())
    }

    async fn delete_locks_of(&mut self, resources: &[Resource]) -> Result<u64, RepoError> {
        Ok(self
            .state_mut()?
            .remove_locks(|l| resources.contains(&l.resource)))
    }

    async fn delete_expired_locks(&mut self, now: OffsetDateTime) -> Result<u64, RepoError> {
        Ok(self.state_mut()?.remove_locks(|l| l.expires_at <= now))
    }
}
