//! The `LockMirror` part of the transaction: the edge's table
//! `lock_mirror`, replaced space by space with each snapshot of the
//! internal node's locks.

use passerelle_core::ids::SpaceId;
use passerelle_core::locks::{LockMirror, LockSummary};
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use super::{IN_CHUNK, SqlTx, all_into};
use crate::entity::{lock, lock_mirror};
use crate::error::db_error;

/// By `since`, then in the order the snapshot gave them: the port's order.
fn ordered(select: Select<lock_mirror::Entity>) -> Select<lock_mirror::Entity> {
    select
        .order_by_asc(lock_mirror::Column::CreatedAt)
        .order_by_asc(lock_mirror::Column::Seq)
}

/// Drops the space's mirror; how many rows went. Also what an un-share
/// purge does, before the space row (foreign key).
pub(in crate::tx) async fn purge_lock_mirror(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<u64, RepoError> {
    let r = lock_mirror::Entity::delete_many()
        .filter(lock_mirror::Column::SpaceId.eq(space.as_uuid()))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(r.rows_affected)
}

async fn replace_lock_mirror(
    c: &DatabaseTransaction,
    space: SpaceId,
    locks: &[LockSummary],
) -> Result<(), RepoError> {
    purge_lock_mirror(c, space).await?;
    for l in locks {
        lock_mirror::Entity::insert(lock_mirror::Model::new_row(space, l)?)
            .exec_without_returning(c)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// By resource id (indexed), then the kind checked here, as for `locks`.
async fn mirrored_locks_of(
    c: &DatabaseTransaction,
    resources: &[Resource],
) -> Result<Vec<LockSummary>, RepoError> {
    let mut out = Vec::new();
    for chunk in resources.chunks(IN_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|r| lock::kind(*r).1).collect();
        let rows =
            ordered(lock_mirror::Entity::find().filter(lock_mirror::Column::ResourceId.is_in(ids)))
                .all(c)
                .await
                .map_err(db_error)?;
        for row in rows {
            let seq = row.seq;
            let l = row.into_core()?;
            if chunk.contains(&l.resource) {
                out.push((seq, l));
            }
        }
    }
    // One order whatever the chunks.
    out.sort_by_key(|(seq, l)| (l.since, *seq));
    Ok(out.into_iter().map(|(_, l)| l).collect())
}

async fn space_lock_mirror(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<LockSummary>, RepoError> {
    let rows = ordered(
        lock_mirror::Entity::find().filter(lock_mirror::Column::SpaceId.eq(space.as_uuid())),
    )
    .all(c)
    .await
    .map_err(db_error)?;
    all_into(rows, lock_mirror::Model::into_core)
}

#[async_trait::async_trait]
impl LockMirror for SqlTx {
    async fn replace_lock_mirror(
        &mut self,
        space: SpaceId,
        locks: &[LockSummary],
    ) -> Result<(), RepoError> {
        replace_lock_mirror(self.writable()?, space, locks).await
    }
    async fn mirrored_locks_of(
        &mut self,
        resources: &[Resource],
    ) -> Result<Vec<LockSummary>, RepoError> {
        mirrored_locks_of(&self.txn, resources).await
    }
    async fn space_lock_mirror(&mut self, space: SpaceId) -> Result<Vec<LockSummary>, RepoError> {
        space_lock_mirror(&self.txn, space).await
    }
}
