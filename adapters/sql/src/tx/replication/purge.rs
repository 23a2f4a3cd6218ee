//! `purge_space`: an edge forgets a space that is no longer shared with it.

use std::collections::HashSet;

use passerelle_core::ids::SpaceId;
use passerelle_core::ports::RepoError;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, DeleteResult, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

use super::super::IN_CHUNK;
use crate::entity::{
    activity, api_token, blob_claim, cursor, document, document_link, folder, invitation,
    membership, outbox, principal, second_factor, session, space, version,
};
use crate::error::db_error;

/// Children before parents (foreign keys), then the principals that held a
/// membership in the space and hold none anywhere now, with their sessions,
/// tokens, second factors and activity. Principals that never were members of the space are kept
/// (an edge's own accounts, say). Returns every row deleted.
pub(in crate::tx) async fn purge_space(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<u64, RepoError> {
    let id = space.as_uuid();
    let members: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::PrincipalId)
        .filter(membership::Column::SpaceId.eq(id))
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?;
    let documents = document::Entity::find()
        .select_only()
        .column(document::Column::Id)
        .filter(document::Column::SpaceId.eq(id))
        .into_query();

    let mut total = super::super::locks::purge_space_locks(c, space).await?;
    total += super::super::lock_mirror::purge_lock_mirror(c, space).await?;
    // Links from or to the space's documents, whichever space holds them.
    total += rows(
        document_link::Entity::delete_many()
            .filter(
                sea_orm::sea_query::Condition::any()
                    .add(document_link::Column::SpaceId.eq(id))
                    .add(document_link::Column::FromId.in_subquery(documents.clone()))
                    .add(document_link::Column::ToId.in_subquery(documents.clone())),
            )
            .exec(c)
            .await,
    )?;
    total += rows(
        version::Entity::delete_many()
            .filter(version::Column::DocumentId.in_subquery(documents))
            .exec(c)
            .await,
    )?;
    total += rows(
        document::Entity::delete_many()
            .filter(document::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(
        folder::Entity::delete_many()
            .filter(folder::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(
        invitation::Entity::delete_many()
            .filter(invitation::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(
        membership::Entity::delete_many()
            .filter(membership::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(
        outbox::Entity::delete_many()
            .filter(outbox::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(
        blob_claim::Entity::delete_many()
            .filter(blob_claim::Column::SpaceId.eq(id))
            .exec(c)
            .await,
    )?;
    total += rows(cursor::Entity::delete_by_id(id).exec(c).await)?;
    total += rows(space::Entity::delete_by_id(id).exec(c).await)?;
    for chunk in members.chunks(IN_CHUNK) {
        total += delete_orphans(c, chunk).await?;
    }
    Ok(total)
}

/// Deletes those of `candidates` that hold no membership left.
async fn delete_orphans(c: &DatabaseTransaction, candidates: &[Uuid]) -> Result<u64, RepoError> {
    let still_members: HashSet<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::PrincipalId)
        .filter(membership::Column::PrincipalId.is_in(candidates.iter().copied()))
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?
        .into_iter()
        .collect();
    let orphans: Vec<Uuid> = candidates
        .iter()
        .copied()
        .filter(|p| !still_members.contains(p))
        .collect();
    if orphans.is_empty() {
        return Ok(0);
    }
    let mut total = 0;
    total += rows(
        session::Entity::delete_many()
            .filter(session::Column::PrincipalId.is_in(orphans.iter().copied()))
            .exec(c)
            .await,
    )?;
    total += rows(
        api_token::Entity::delete_many()
            .filter(api_token::Column::PrincipalId.is_in(orphans.iter().copied()))
            .exec(c)
            .await,
    )?;
    total += rows(
        second_factor::Entity::delete_many()
            .filter(second_factor::Column::PrincipalId.is_in(orphans.iter().copied()))
            .exec(c)
            .await,
    )?;
    total += rows(
        activity::Entity::delete_many()
            .filter(activity::Column::PrincipalId.is_in(orphans.iter().copied()))
            .exec(c)
            .await,
    )?;
    total += rows(
        principal::Entity::delete_many()
            .filter(principal::Column::Id.is_in(orphans.iter().copied()))
            .exec(c)
            .await,
    )?;
    Ok(total)
}

fn rows(deleted: Result<DeleteResult, DbErr>) -> Result<u64, RepoError> {
    Ok(deleted.map_err(db_error)?.rows_affected)
}
