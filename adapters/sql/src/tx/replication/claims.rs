//! Blob claims (edge): which space each blob was sent for until a batch of
//! the space names it. See `Tx::claim_blobs`.

use passerelle_core::ContentHash;
use passerelle_core::ids::SpaceId;
use passerelle_core::ports::RepoError;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::super::{IN_CHUNK, all_into};
use crate::entity::blob_claim;
use crate::error::db_error;

/// `INSERT … ON CONFLICT DO NOTHING`, in chunks (two binds a row).
pub(in crate::tx) async fn claim_blobs(
    c: &DatabaseTransaction,
    space: SpaceId,
    hashes: &[ContentHash],
) -> Result<(), RepoError> {
    for chunk in hashes.chunks(IN_CHUNK) {
        let rows = chunk
            .iter()
            .map(|h| blob_claim::Model::from_core(space, h).into_active_model());
        blob_claim::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_without_returning(c)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

pub(in crate::tx) async fn release_blob_claims(
    c: &DatabaseTransaction,
    space: SpaceId,
    hashes: &[ContentHash],
) -> Result<(), RepoError> {
    for chunk in hashes.chunks(IN_CHUNK) {
        blob_claim::Entity::delete_many()
            .filter(blob_claim::Column::SpaceId.eq(space.as_uuid()))
            .filter(blob_claim::Column::Hash.is_in(chunk.iter().map(ContentHash::to_hex)))
            .exec(c)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// By space id, then hash.
pub(in crate::tx) async fn blob_claims(
    c: &DatabaseTransaction,
) -> Result<Vec<(SpaceId, ContentHash)>, RepoError> {
    let rows = blob_claim::Entity::find()
        .order_by_asc(blob_claim::Column::SpaceId)
        .order_by_asc(blob_claim::Column::Hash)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, blob_claim::Model::into_core)
}

pub(in crate::tx) async fn blob_claimed(
    c: &DatabaseTransaction,
    space: SpaceId,
    hash: &ContentHash,
) -> Result<bool, RepoError> {
    let row = blob_claim::Entity::find_by_id((space.as_uuid(), hash.to_hex()))
        .one(c)
        .await
        .map_err(db_error)?;
    Ok(row.is_some())
}
