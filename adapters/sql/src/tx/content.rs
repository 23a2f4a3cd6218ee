//! Folders, documents, versions and the hashes they reference.
//!
//! "Live" means neither trashed nor purged. Listings are by `name_key` (the
//! case-insensitive name), then id.

use std::collections::HashSet;

use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::{Document, Folder, Page, Paged, Version};
use passerelle_core::ports::{DocumentQuery, DocumentSort, RepoError};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use super::{IN_CHUNK, all_into, exec_guarded, paginate, upsert};
use crate::convert::hash;
use crate::entity::{document, folder, version};
use crate::error::{db_error, write_error};

fn live<C: ColumnTrait>(trashed_at: C, purged: C) -> Condition {
    Condition::all()
        .add(trashed_at.is_null())
        .add(purged.eq(false))
}

/// `parent = ?`, or `parent IS NULL` for the space's root.
fn under<C: ColumnTrait>(column: C, parent: Option<FolderId>) -> SimpleExpr {
    match parent {
        Some(p) => column.eq(p.as_uuid()),
        None => column.is_null(),
    }
}

pub(super) async fn folder(
    c: &DatabaseTransaction,
    id: FolderId,
) -> Result<Option<Folder>, RepoError> {
    let row = folder::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(folder::Model::into_core).transpose()
}

pub(super) async fn save_folder(c: &DatabaseTransaction, f: &Folder) -> Result<(), RepoError> {
    let model = folder::Model::from_core(f)?.into_active_model().reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || format!("name {} is taken in this folder", f.name)))
}

pub(super) async fn list_folders(
    c: &DatabaseTransaction,
    space: SpaceId,
    parent: Option<FolderId>,
) -> Result<Vec<Folder>, RepoError> {
    let rows = folder::Entity::find()
        .filter(folder::Column::SpaceId.eq(space.as_uuid()))
        .filter(under(folder::Column::ParentId, parent))
        .filter(live(folder::Column::TrashedAt, folder::Column::Purged))
        .order_by_asc(folder::Column::NameKey)
        .order_by_asc(folder::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, folder::Model::into_core)
}

pub(super) async fn all_folders(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<Folder>, RepoError> {
    let rows = folder::Entity::find()
        .filter(folder::Column::SpaceId.eq(space.as_uuid()))
        .filter(folder::Column::Purged.eq(false))
        .order_by_asc(folder::Column::NameKey)
        .order_by_asc(folder::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, folder::Model::into_core)
}

pub(super) async fn document(
    c: &DatabaseTransaction,
    id: DocumentId,
) -> Result<Option<Document>, RepoError> {
    let row = document::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(document::Model::into_core).transpose()
}

pub(super) async fn save_document(c: &DatabaseTransaction, d: &Document) -> Result<(), RepoError> {
    let model = document::Model::from_core(d)?
        .into_active_model()
        .reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || format!("name {} is taken in this folder", d.name)))
}

pub(super) async fn list_documents(
    c: &DatabaseTransaction,
    space: SpaceId,
    folder: Option<FolderId>,
    page: Page,
) -> Result<Paged<Document>, RepoError> {
    let query = document::Entity::find()
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .filter(under(document::Column::FolderId, folder))
        .filter(live(document::Column::TrashedAt, document::Column::Purged));
    let total = query.clone().count(c).await.map_err(db_error)?;
    let ordered = query
        .order_by_asc(document::Column::NameKey)
        .order_by_asc(document::Column::Id);
    let rows = paginate(ordered, page).all(c).await.map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, document::Model::into_core)?,
        total,
    })
}

/// `%` and `_` of a user's text taken literally in a `LIKE` pattern.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The sort key of a listing as SQL. Text keys compare by code point on
/// both engines (`COLLATE "C"` on PostgreSQL, SQLite's `BINARY`), NULLs as
/// the empty string (engines disagree on where NULLs go), as the fake does.
fn sort_expr(sort: DocumentSort, backend: DbBackend) -> SimpleExpr {
    let collate = if backend == DbBackend::Postgres {
        r#" COLLATE "C""#
    } else {
        ""
    };
    match sort {
        DocumentSort::Name => Expr::col(document::Column::NameKey),
        DocumentSort::Date => Expr::col(document::Column::UpdatedAt),
        DocumentSort::Version => Expr::col(document::Column::CurrentVersion),
        DocumentSort::Type => Expr::cust(format!("COALESCE(documents.doc_type, ''){collate}")),
        DocumentSort::Author => Expr::cust(format!(
            "COALESCE((SELECT p.display_name FROM principals p \
             WHERE p.id = documents.created_by), ''){collate}"
        )),
    }
}

pub(super) async fn query_documents(
    c: &DatabaseTransaction,
    space: SpaceId,
    folder: Option<FolderId>,
    query: &DocumentQuery,
    page: Page,
) -> Result<Paged<Document>, RepoError> {
    let needle = query.name_key_contains();
    let filtered = document::Entity::find()
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .filter(under(document::Column::FolderId, folder))
        .filter(live(document::Column::TrashedAt, document::Column::Purged))
        .apply_if((!needle.is_empty()).then_some(needle), |q, n| {
            let pattern = format!("%{}%", like_literal(n));
            q.filter(Expr::col(document::Column::NameKey).like(LikeExpr::new(pattern).escape('\\')))
        })
        .apply_if(query.doc_type.clone(), |q, t| {
            q.filter(document::Column::DocType.eq(t))
        });
    let total = filtered.clone().count(c).await.map_err(db_error)?;
    let direction = if query.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let ordered = filtered
        .order_by(sort_expr(query.sort, c.get_database_backend()), direction)
        .order_by_asc(document::Column::NameKey)
        .order_by_asc(document::Column::Id);
    let rows = paginate(ordered, page).all(c).await.map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, document::Model::into_core)?,
        total,
    })
}

pub(super) async fn latest_document(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Option<Document>, RepoError> {
    let row = document::Entity::find()
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .filter(live(document::Column::TrashedAt, document::Column::Purged))
        .order_by_desc(document::Column::UpdatedAt)
        .order_by_asc(document::Column::Id)
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(document::Model::into_core).transpose()
}

/// Live or trashed, not purged. Queried in chunks, merged and re-sorted.
pub(super) async fn documents_in_folders(
    c: &DatabaseTransaction,
    space: SpaceId,
    folders: &[FolderId],
) -> Result<Vec<Document>, RepoError> {
    let mut rows = Vec::new();
    for chunk in folders.chunks(IN_CHUNK) {
        let ids = chunk.iter().map(|f| f.as_uuid());
        rows.extend(
            document::Entity::find()
                .filter(document::Column::SpaceId.eq(space.as_uuid()))
                .filter(document::Column::FolderId.is_in(ids))
                .filter(document::Column::Purged.eq(false))
                .all(c)
                .await
                .map_err(db_error)?,
        );
    }
    rows.sort_by(|a, b| (&a.name_key, a.id).cmp(&(&b.name_key, b.id)));
    all_into(rows, document::Model::into_core)
}

pub(super) async fn name_taken(
    c: &DatabaseTransaction,
    space: SpaceId,
    parent: Option<FolderId>,
    unique_key: &str,
    except: Option<uuid::Uuid>,
) -> Result<bool, RepoError> {
    let folders = folder::Entity::find()
        .filter(folder::Column::SpaceId.eq(space.as_uuid()))
        .filter(under(folder::Column::ParentId, parent))
        .filter(folder::Column::NameKey.eq(unique_key))
        .filter(live(folder::Column::TrashedAt, folder::Column::Purged))
        .apply_if(except, |q, id| q.filter(folder::Column::Id.ne(id)))
        .count(c)
        .await
        .map_err(db_error)?;
    if folders > 0 {
        return Ok(true);
    }
    let documents = document::Entity::find()
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .filter(under(document::Column::FolderId, parent))
        .filter(document::Column::NameKey.eq(unique_key))
        .filter(live(document::Column::TrashedAt, document::Column::Purged))
        .apply_if(except, |q, id| q.filter(document::Column::Id.ne(id)))
        .count(c)
        .await
        .map_err(db_error)?;
    Ok(documents > 0)
}

pub(super) async fn list_trash(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<(Vec<Folder>, Vec<Document>), RepoError> {
    let folders = folder::Entity::find()
        .filter(folder::Column::SpaceId.eq(space.as_uuid()))
        .filter(folder::Column::TrashedAt.is_not_null())
        .filter(folder::Column::Purged.eq(false))
        .order_by_asc(folder::Column::NameKey)
        .order_by_asc(folder::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    let documents = document::Entity::find()
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .filter(document::Column::TrashedAt.is_not_null())
        .filter(document::Column::Purged.eq(false))
        .order_by_asc(document::Column::NameKey)
        .order_by_asc(document::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok((
        all_into(folders, folder::Model::into_core)?,
        all_into(documents, document::Model::into_core)?,
    ))
}

pub(super) async fn save_version(c: &DatabaseTransaction, v: &Version) -> Result<(), RepoError> {
    let model = version::Model::from_core(v)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// By number.
pub(super) async fn list_versions(
    c: &DatabaseTransaction,
    document: DocumentId,
) -> Result<Vec<Version>, RepoError> {
    let rows = version::Entity::find()
        .filter(version::Column::DocumentId.eq(document.as_uuid()))
        .order_by_asc(version::Column::Number)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, version::Model::into_core)
}

/// One query: the versions whose document is a live one of the folder
/// and whose number is that document's current one (a join written as a
/// subquery and a correlated one: the entities declare no relations).
pub(super) async fn current_versions(
    c: &DatabaseTransaction,
    space: SpaceId,
    folder: Option<FolderId>,
) -> Result<Vec<Version>, RepoError> {
    let docs = Query::select()
        .column(document::Column::Id)
        .from(document::Entity)
        .and_where(document::Column::SpaceId.eq(space.as_uuid()))
        .and_where(under(document::Column::FolderId, folder))
        .cond_where(live(document::Column::TrashedAt, document::Column::Purged))
        .to_owned();
    let rows = version::Entity::find()
        .filter(version::Column::DocumentId.in_subquery(docs))
        .filter(Expr::cust(
            "versions.number = (SELECT d.current_version FROM documents d \
             WHERE d.id = versions.document_id)",
        ))
        .order_by_asc(version::Column::DocumentId)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, version::Model::into_core)
}

pub(super) async fn delete_versions(
    c: &DatabaseTransaction,
    document: DocumentId,
) -> Result<(), RepoError> {
    version::Entity::delete_many()
        .filter(version::Column::DocumentId.eq(document.as_uuid()))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn space_hashes(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<HashSet<ContentHash>, RepoError> {
    let documents = document::Entity::find()
        .select_only()
        .column(document::Column::Id)
        .filter(document::Column::SpaceId.eq(space.as_uuid()))
        .into_query();
    let hexes: Vec<String> = version::Entity::find()
        .select_only()
        .column(version::Column::Hash)
        .filter(version::Column::DocumentId.in_subquery(documents))
        .distinct()
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?;
    hexes.iter().map(|h| hash("versions", h)).collect()
}

pub(super) async fn referenced_hashes(
    c: &DatabaseTransaction,
) -> Result<HashSet<ContentHash>, RepoError> {
    let hexes: Vec<String> = version::Entity::find()
        .select_only()
        .column(version::Column::Hash)
        .distinct()
        .into_tuple()
        .all(c)
        .await
        .map_err(db_error)?;
    hexes.iter().map(|h| hash("versions", h)).collect()
}
