//! `LockStore`: the lock rows, as part of the repository's transaction.
//!
//! A supertrait of [`crate::ports::Tx`] rather than a port beside the
//! repository (as `ExtractionLog` is): a write use case must read the
//! locks that cover what it writes and write in the same transaction, or a
//! lock taken between the check and the write would be ignored. Kept in
//! its own trait so the lock queries stay grouped by concern, apart from
//! the revisioned tables: lock rows take no revision, no audit entry of
//! their own here, and never enter the change feed.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ids::SpaceId;
use crate::model::Resource;
use crate::ports::RepoError;

use super::{Lock, LockToken};

/// The `locks` table. Every method runs in the transaction it is called
/// on; writes in a read transaction fail with `Storage`, as for every
/// other table. Expired rows are returned like live ones (the caller
/// compares `expires_at` with its clock): only
/// [`LockStore::delete_expired_locks`] removes them. Lists are ordered by
/// `created_at`, then token (UUID byte order), on every engine.
#[async_trait]
pub trait LockStore: Send {
    /// Inserts or replaces the lock with this token (a refresh saves the
    /// same token with new times). `owner` and `space` must exist
    /// (foreign keys: `Storage` otherwise); the resource is not checked,
    /// the use case has resolved it.
    async fn save_lock(&mut self, lock: &Lock) -> Result<(), RepoError>;

    /// The lock with this token, expired or not; `None` when absent.
    async fn lock_by_token(&mut self, token: LockToken) -> Result<Option<Lock>, RepoError>;

    /// The locks on any of `resources` (on them exactly, whatever their
    /// depth): a resource and its ancestors are one lookup when checking
    /// what covers it. An empty slice gives nothing.
    async fn locks_of(&mut self, resources: &[Resource]) -> Result<Vec<Lock>, RepoError>;

    /// Every lock of a space, on the space itself, its folders and its
    /// documents (what lies below a folder is computed from the tree).
    async fn space_locks(&mut self, space: SpaceId) -> Result<Vec<Lock>, RepoError>;

    /// Deletes the lock with this token; whether there was one.
    /// Idempotent.
    async fn delete_lock(&mut self, token: LockToken) -> Result<bool, RepoError>;

    /// Deletes the locks on any of `resources` (a purge), returning how
    /// many went. Idempotent.
    async fn delete_locks_of(&mut self, resources: &[Resource]) -> Result<u64, RepoError>;

    /// Deletes the locks whose `expires_at` is at or before `now`,
    /// returning how many went. Idempotent.
    async fn delete_expired_locks(&mut self, now: OffsetDateTime) -> Result<u64, RepoError>;
}
