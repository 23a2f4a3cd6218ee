//! The `LockStore` part of the transaction: the table `locks`.

use passerelle_core::ids::SpaceId;
use passerelle_core::locks::{Lock, LockStore, LockToken};
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Select,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{IN_CHUNK, SqlTx, all_into, exec_guarded, upsert};
use crate::convert::nanos;
use crate::entity::lock;
use crate::error::{db_error, write_error};

/// Oldest first, ties by token: the order of every list of the port.
fn ordered(select: Select<lock::Entity>) -> Select<lock::Entity> {
    select
        .order_by_asc(lock::Column::CreatedAt)
        .order_by_asc(lock::Column::Token)
}

pub(super) async fn save_lock(c: &DatabaseTransaction, l: &Lock) -> Result<(), RepoError> {
    let model = lock::Model::from_core(l)?.into_active_model().reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || format!("lock {} conflicts", l.token)))
}

pub(super) async fn lock_by_token(
    c: &DatabaseTransaction,
    token: LockToken,
) -> Result<Option<Lock>, RepoError> {
    let row = lock::Entity::find_by_id(token.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(lock::Model::into_core).transpose()
}

/// By resource id (indexed), then the kind checked here: ids of different
/// kinds never collide in practice, but a lock must match both.
pub(super) async fn locks_of(
    c: &DatabaseTransaction,
    resources: &[Resource],
) -> Result<Vec<Lock>, RepoError> {
    let mut out = Vec::new();
    for chunk in resources.chunks(IN_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|r| lock::kind(*r).1).collect();
        let rows = lock::Entity::find()
            .filter(lock::Column::ResourceId.is_in(ids))
            .all(c)
            .await
            .map_err(db_error)?;
        for l in all_into(rows, lock::Model::into_core)? {
            if chunk.contains(&l.resource) {
                out.push(l);
            }
        }
    }
    // One order whatever the chunks.
    out.sort_by_key(|l| (l.created_at, l.token));
    Ok(out)
}

pub(super) async fn space_locks(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<Lock>, RepoError> {
    let rows = ordered(lock::Entity::find().filter(lock::Column::SpaceId.eq(space.as_uuid())))
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, lock::Model::into_core)
}

pub(super) async fn delete_lock(
    c: &DatabaseTransaction,
    token: LockToken,
) -> Result<bool, RepoError> {
    let r = lock::Entity::delete_by_id(token.as_uuid())
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(r.rows_affected > 0)
}

pub(super) async fn delete_locks_of(
    c: &DatabaseTransaction,
    resources: &[Resource],
) -> Result<u64, RepoError> {
    let mut n = 0;
    for l in locks_of(c, resources).await? {
        n += u64::from(delete_lock(c, l.token).await?);
    }
    Ok(n)
}

pub(super) async fn delete_expired_locks(
    c: &DatabaseTransaction,
    now: OffsetDateTime,
) -> Result<u64, RepoError> {
    let r = lock::Entity::delete_many()
        .filter(lock::Column::ExpiresAt.lte(nanos(now)?))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(r.rows_affected)
}

/// An un-share purge takes the space's locks along (before the space row:
/// foreign key).
pub(in crate::tx) async fn purge_space_locks(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<u64, RepoError> {
    let r = lock::Entity::delete_many()
        .filter(lock::Column::SpaceId.eq(space.as_uuid()))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(r.rows_affected)
}

#[async_trait::async_trait]
impl LockStore for SqlTx {
    async fn save_lock(&mut self, lock: &Lock) -> Result<(), RepoError> {
        save_lock(self.writable()?, lock).await
    }
    async fn lock_by_token(&mut self, token: LockToken) -> Result<Option<Lock>, RepoError> {
        lock_by_token(&self.txn, token).await
    }
    async fn locks_of(&mut self, resources: &[Resource]) -> Result<Vec<Lock>, RepoError> {
        locks_of(&self.txn, resources).await
    }
    async fn space_locks(&mut self, space: SpaceId) -> Result<Vec<Lock>, RepoError> {
        space_locks(&self.txn, space).await
    }
    async fn delete_lock(&mut self, token: LockToken) -> Result<bool, RepoError> {
        delete_lock(self.writable()?, token).await
    }
    async fn delete_locks_of(&mut self, resources: &[Resource]) -> Result<u64, RepoError> {
        delete_locks_of(self.writable()?, resources).await
    }
    async fn delete_expired_locks(&mut self, now: OffsetDateTime) -> Result<u64, RepoError> {
        delete_expired_locks(self.writable()?, now).await
    }
}
