//! The node's revision counter and the audit log.

use passerelle_core::ContentHash;
use passerelle_core::ids::Revision;
use passerelle_core::model::{AuditEntry, Page, Paged};
use passerelle_core::ports::{AuditFilter, RepoError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QueryTrait, Statement,
};

use super::{all_into, exec_guarded, paginate};
use crate::convert::{corrupt, hash};
use crate::entity::audit;
use crate::error::{db_error, write_error};

/// Increments the single `node_state` row. Write transactions hold the
/// writer lock, so no two of them interleave here: revisions are gapless
/// (a rolled-back increment is rolled back too).
pub(super) async fn next_revision(c: &DatabaseTransaction) -> Result<Revision, RepoError> {
    let statement = Statement::from_string(
        c.get_database_backend(),
        "UPDATE node_state SET revision = revision + 1 WHERE id = 1 RETURNING revision",
    );
    let row = c
        .query_one_raw(statement)
        .await
        .map_err(db_error)?
        .ok_or_else(|| corrupt("node_state", "the node state row is missing"))?;
    Ok(Revision(row.try_get_by_index::<i64>(0).map_err(db_error)?))
}

/// Reads the `node_state` row without locking it.
pub(super) async fn current_revision(c: &DatabaseTransaction) -> Result<Revision, RepoError> {
    let statement = Statement::from_string(
        c.get_database_backend(),
        "SELECT revision FROM node_state WHERE id = 1",
    );
    let row = c
        .query_one_raw(statement)
        .await
        .map_err(db_error)?
        .ok_or_else(|| corrupt("node_state", "the node state row is missing"))?;
    Ok(Revision(row.try_get_by_index::<i64>(0).map_err(db_error)?))
}

pub(super) async fn head(c: &DatabaseTransaction) -> Result<Option<(i64, ContentHash)>, RepoError> {
    let last = audit::Entity::find()
        .order_by_desc(audit::Column::Seq)
        .one(c)
        .await
        .map_err(db_error)?;
    last.map(|row| Ok((row.seq, hash("audit_log", &row.hash)?)))
        .transpose()
}

pub(super) async fn append(c: &DatabaseTransaction, entry: &AuditEntry) -> Result<(), RepoError> {
    let model = audit::Model::from_core(entry)?
        .into_active_model()
        .reset_all();
    exec_guarded(c, audit::Entity::insert(model))
        .await
        .map_err(|e| write_error(e, || format!("audit entry {} exists", entry.seq)))
}

/// In `seq` order.
pub(super) async fn list(
    c: &DatabaseTransaction,
    filter: AuditFilter,
    page: Page,
) -> Result<Paged<AuditEntry>, RepoError> {
    let query = audit::Entity::find()
        .filter(audit::Column::Seq.gt(filter.after_seq))
        .apply_if(filter.space, |q, s| {
            q.filter(audit::Column::SpaceId.eq(s.as_uuid()))
        });
    let total = query.clone().count(c).await.map_err(db_error)?;
    let rows = paginate(query.order_by_asc(audit::Column::Seq), page)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, audit::Model::into_core)?,
        total,
    })
}
