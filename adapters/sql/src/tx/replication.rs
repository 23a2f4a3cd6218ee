//! Replication storage: invitations, the exactly-once ledger and edge states
//! (internal node), cursors and the outbox (edge). The change feed is in
//! `feed` (its backlog counted in `backlog`), the un-share purge in
//! `purge`, blob claims in `claims`.

mod backlog;
mod claims;
mod feed;
mod purge;

pub(super) use backlog::feed_backlog;
pub(super) use claims::{blob_claimed, blob_claims, claim_blobs, release_blob_claims};
pub(super) use feed::changes;
pub(super) use purge::purge_space;

use std::collections::HashSet;

use passerelle_core::ContentHash;
use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::{Page, Paged, Space};
use passerelle_core::ports::{QuarantineCount, RepoError};
use passerelle_core::replication::{
    AppliedOp, EdgeStatus, Invitation, NodeId, OpOutcome, OutboxItem, OutboxOp,
};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{all_into, exec_guarded, guarded, paginate, upsert};
use crate::convert::{from_json, nanos, node_id};
use crate::entity::{applied_op, cursor, edge_status, invitation, outbox, space};
use crate::error::{db_error, write_error};

pub(super) async fn save_invitation(
    c: &DatabaseTransaction,
    i: &Invitation,
) -> Result<(), RepoError> {
    let model = invitation::Model::from_core(i)?
        .into_active_model()
        .reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || "invitation secret hash is taken".to_owned()))
}

pub(super) async fn invitation(
    c: &DatabaseTransaction,
    id: Uuid,
) -> Result<Option<Invitation>, RepoError> {
    let row = invitation::Entity::find_by_id(id)
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(invitation::Model::into_core).transpose()
}

pub(super) async fn invitation_by_hash(
    c: &DatabaseTransaction,
    secret_hash: &ContentHash,
) -> Result<Option<Invitation>, RepoError> {
    let row = invitation::Entity::find()
        .filter(invitation::Column::SecretHash.eq(secret_hash.to_hex()))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(invitation::Model::into_core).transpose()
}

/// Newest first: by creation time, then id, descending.
pub(super) async fn list_invitations(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<Invitation>, RepoError> {
    let rows = invitation::Entity::find()
        .filter(invitation::Column::SpaceId.eq(space.as_uuid()))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, invitation::Model::into_core)
}

/// By id.
pub(super) async fn spaces_shared_with(
    c: &DatabaseTransaction,
    edge: &NodeId,
) -> Result<Vec<Space>, RepoError> {
    let rows = space::Entity::find()
        .filter(space::Column::Edge.eq(edge.as_str()))
        .order_by_asc(space::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, space::Model::into_core)
}

pub(super) async fn applied_op(
    c: &DatabaseTransaction,
    op_id: Uuid,
) -> Result<Option<AppliedOp>, RepoError> {
    let row = applied_op::Entity::find_by_id(op_id)
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(applied_op::Model::into_core).transpose()
}

pub(super) async fn save_applied_op(
    c: &DatabaseTransaction,
    op: &AppliedOp,
) -> Result<(), RepoError> {
    let model = applied_op::Model::from_core(op)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Rejected operations, newest first: by time, then op id, descending.
pub(super) async fn list_quarantine(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<AppliedOp>, RepoError> {
    let rows = applied_op::Entity::find()
        .filter(applied_op::Column::SpaceId.eq(space.as_uuid()))
        .filter(applied_op::Column::Outcome.eq(OpOutcome::Rejected.as_str()))
        .order_by_desc(applied_op::Column::At)
        .order_by_desc(applied_op::Column::OpId)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, applied_op::Model::into_core)
}

/// By edge, then space id.
pub(super) async fn count_quarantine(
    c: &DatabaseTransaction,
) -> Result<Vec<QuarantineCount>, RepoError> {
    let rows: Vec<(String, Uuid, i64)> = applied_op::Entity::find()
        .select_only()
        .column(applied_op::Column::Edge)
        .column(applied_op::Column::SpaceId)
        .column_as(
            Expr::from(Func::count(Expr::col(applied_op::Column::OpId))),
            "operations",
        )
        .filter(applied_op::Column::Outcome.eq(OpOutcome::Rejected.as_str()))
        .group_by(applied_op::Column::Edge)
        .group_by(applied_op::Column::SpaceId)
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?;
    let mut counts = rows
        .into_iter()
        .map(|(edge, space, n): (String, _, i64)| {
            Ok(QuarantineCount {
                edge: node_id(applied_op::TABLE, &edge)?,
                space: SpaceId::from_uuid(space),
                // A count is never negative.
                operations: u64::try_from(n).unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    // Sorted here, not by the engines: PostgreSQL would order the edges by
    // its collation, SQLite and the fake by code point.
    counts.sort_by(|a, b| (&a.edge, a.space).cmp(&(&b.edge, b.space)));
    Ok(counts)
}

pub(super) async fn save_edge_status(
    c: &DatabaseTransaction,
    s: &EdgeStatus,
) -> Result<(), RepoError> {
    let model = edge_status::Model::from_core(s)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn edge_status(
    c: &DatabaseTransaction,
    edge: &NodeId,
) -> Result<Option<EdgeStatus>, RepoError> {
    let row = edge_status::Entity::find_by_id(edge.to_string())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(edge_status::Model::into_core).transpose()
}

/// By edge id.
pub(super) async fn list_edge_status(
    c: &DatabaseTransaction,
) -> Result<Vec<EdgeStatus>, RepoError> {
    let rows = edge_status::Entity::find()
        .order_by_asc(edge_status::Column::Edge)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, edge_status::Model::into_core)
}

/// By space id.
pub(super) async fn cursors(
    c: &DatabaseTransaction,
) -> Result<Vec<(SpaceId, Revision)>, RepoError> {
    let rows = cursor::Entity::find()
        .order_by_asc(cursor::Column::SpaceId)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(cursor::Model::into_core).collect())
}

pub(super) async fn set_cursor(
    c: &DatabaseTransaction,
    space: SpaceId,
    revision: Revision,
) -> Result<(), RepoError> {
    let model = cursor::Model::from_core(space, revision)
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The database assigns `seq`; a duplicate `op_id` is refused by its
/// unique index (in a savepoint, so the transaction stays usable).
pub(super) async fn append_outbox(
    c: &DatabaseTransaction,
    item: &OutboxItem,
) -> Result<i64, RepoError> {
    let row = outbox::Model::new_row(item)?;
    let inserted = guarded(c, move |t| {
        Box::pin(async move { outbox::Entity::insert(row).exec(t).await })
    })
    .await
    .map_err(|e| {
        write_error(e, || {
            format!("operation {} is already in the outbox", item.op_id)
        })
    })?;
    Ok(inserted.last_insert_id)
}

pub(super) async fn pending_outbox(
    c: &DatabaseTransaction,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<OutboxItem>, RepoError> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::Outcome.is_null())
        .filter(outbox::Column::Seq.gt(after_seq))
        .order_by_asc(outbox::Column::Seq)
        .limit(limit.min(i64::MAX as u64))
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, outbox::Model::into_core)
}

pub(super) async fn outbox_item(
    c: &DatabaseTransaction,
    op_id: Uuid,
) -> Result<Option<OutboxItem>, RepoError> {
    let row = outbox::Entity::find()
        .filter(outbox::Column::OpId.eq(op_id))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(outbox::Model::into_core).transpose()
}

/// Overwrites the verdict (a repeated acknowledgement writes the same one)
/// but keeps the time of the first; an unknown `op_id` (purged meanwhile)
/// changes nothing.
pub(super) async fn set_outbox_outcome(
    c: &DatabaseTransaction,
    op_id: Uuid,
    outcome: OpOutcome,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), RepoError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Outcome, Expr::value(outcome.as_str()))
        .col_expr(outbox::Column::Detail, Expr::value(detail))
        .filter(outbox::Column::OpId.eq(op_id))
        .exec(c)
        .await
        .map_err(db_error)?;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DecidedAt, Expr::value(nanos(at)?))
        .filter(outbox::Column::OpId.eq(op_id))
        .filter(outbox::Column::DecidedAt.is_null())
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Newest first.
pub(super) async fn list_outbox(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<OutboxItem>, RepoError> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::SpaceId.eq(space.as_uuid()))
        .order_by_desc(outbox::Column::Seq)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, outbox::Model::into_core)
}

/// Newest first, acceptances of invitations left out (by the `kind`
/// column, indexed with space and contractor).
pub(super) async fn list_outbox_of(
    c: &DatabaseTransaction,
    space: SpaceId,
    contractor: PrincipalId,
    page: Page,
) -> Result<Paged<OutboxItem>, RepoError> {
    let query = outbox::Entity::find()
        .filter(outbox::Column::SpaceId.eq(space.as_uuid()))
        .filter(outbox::Column::ContractorId.eq(contractor.as_uuid()))
        .filter(outbox::Column::Kind.ne(outbox::ACCEPTANCE));
    let total = query.clone().count(c).await.map_err(db_error)?;
    let rows = paginate(query.order_by_desc(outbox::Column::Seq), page)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, outbox::Model::into_core)?,
        total,
    })
}

pub(super) async fn count_pending_outbox(c: &DatabaseTransaction) -> Result<u64, RepoError> {
    outbox::Entity::find()
        .filter(outbox::Column::Outcome.is_null())
        .count(c)
        .await
        .map_err(db_error)
}

/// Decided items whose first verdict came back before `decided_before`.
pub(super) async fn prune_outbox(
    c: &DatabaseTransaction,
    decided_before: OffsetDateTime,
) -> Result<u64, RepoError> {
    let deleted = outbox::Entity::delete_many()
        .filter(outbox::Column::Outcome.is_not_null())
        .filter(outbox::Column::DecidedAt.lt(nanos(decided_before)?))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(deleted.rows_affected)
}

/// Hashes of the content that pending outbox operations bring: their blobs
/// must outlive a GC until the internal node has fetched them.
pub(super) async fn pending_hashes(
    c: &DatabaseTransaction,
) -> Result<HashSet<ContentHash>, RepoError> {
    let ops: Vec<String> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Op)
        .filter(outbox::Column::Outcome.is_null())
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?;
    let mut hashes = HashSet::new();
    for op in ops {
        match from_json::<OutboxOp>("outbox", "op", &op)? {
            OutboxOp::NewDocument { hash, .. } | OutboxOp::NewVersion { hash, .. } => {
                hashes.insert(hash);
            }
            OutboxOp::Rename { .. }
            | OutboxOp::Move { .. }
            | OutboxOp::Delete { .. }
            | OutboxOp::SetMetadata { .. }
            | OutboxOp::NewFolder { .. }
            | OutboxOp::AcceptInvitation { .. } => {}
        }
    }
    Ok(hashes)
}
