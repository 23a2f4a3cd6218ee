//! Core's `PropertyStore` port on [`SqlRepository`]: the table
//! `dead_properties`, on the repository's connection rather than in a
//! `Tx`, since these rows are local client state outside the revisioned
//! history (no revision, no audit entry, nothing for the change feed).

use async_trait::async_trait;
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use passerelle_core::properties::{DeadProperty, PropertyName, PropertyStore};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, TransactionTrait,
};

use crate::entity::dead_property::{self, Column, DOCUMENT, Entity, FOLDER, key};
use crate::entity::{document, folder};
use crate::error::db_error;
use crate::repository::SqlRepository;
use crate::tx::{all_into, upsert};

#[async_trait]
impl PropertyStore for SqlRepository {
    async fn properties(&self, resource: Resource) -> Result<Vec<DeadProperty>, RepoError> {
        let (kind, id) = key(resource);
        let rows = Entity::find()
            .filter(Column::ResourceKind.eq(kind))
            .filter(Column::ResourceId.eq(id))
            .order_by_asc(Column::Namespace)
            .order_by_asc(Column::Name)
            .all(self.connection())
            .await
            .map_err(db_error)?;
        all_into(rows, dead_property::Model::into_core)
    }

    /// One query: the rows whose resource is among the live children,
    /// found by a subquery on `documents` and one on `folders`.
    async fn children_properties(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<(Resource, DeadProperty)>, RepoError> {
        let of = |kind: &str, ids: SelectStatement| {
            Condition::all()
                .add(Column::ResourceKind.eq(kind))
                .add(Column::ResourceId.in_subquery(ids))
        };
        let rows = Entity::find()
            .filter(
                Condition::any()
                    .add(of(DOCUMENT, live_documents(space, folder)))
                    .add(of(FOLDER, live_folders(space, folder))),
            )
            .order_by_asc(Column::ResourceKind)
            .order_by_asc(Column::ResourceId)
            .order_by_asc(Column::Namespace)
            .order_by_asc(Column::Name)
            .all(self.connection())
            .await
            .map_err(db_error)?;
        rows.into_iter()
            .map(|row| Ok((row.resource()?, row.into_core()?)))
            .collect()
    }

    /// One transaction; on SQLite it waits for the writer lock like a
    /// write transaction, so a task must not call it while holding one.
    async fn patch(
        &self,
        resource: Resource,
        set: &[DeadProperty],
        remove: &[PropertyName],
    ) -> Result<(), RepoError> {
        let (kind, id) = key(resource);
        let _writer = self.sqlite_writer().await;
        let txn = self.connection().begin().await.map_err(db_error)?;
        for name in remove {
            Entity::delete_many()
                .filter(Column::ResourceKind.eq(kind))
                .filter(Column::ResourceId.eq(id))
                .filter(Column::Namespace.eq(name.namespace()))
                .filter(Column::Name.eq(name.name()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        }
        for p in set {
            let model = dead_property::Model::from_core(resource, p)
                .into_active_model()
                .reset_all();
            upsert(model)
                .exec_without_returning(&txn)
                .await
                .map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)?;
        Ok(())
    }
}

/// The ids of the live documents directly in `folder` (the root: `None`).
fn live_documents(space: SpaceId, folder: Option<FolderId>) -> SelectStatement {
    use document::Column as D;
    let in_folder = match folder {
        Some(f) => D::FolderId.eq(f.as_uuid()),
        None => D::FolderId.is_null(),
    };
    Query::select()
        .column(D::Id)
        .from(document::Entity)
        .and_where(D::SpaceId.eq(space.as_uuid()))
        .and_where(in_folder)
        .and_where(D::TrashedAt.is_null())
        .and_where(D::Purged.eq(false))
        .to_owned()
}

/// The ids of the live folders directly in `parent` (the root: `None`).
fn live_folders(space: SpaceId, parent: Option<FolderId>) -> SelectStatement {
    use folder::Column as F;
    let in_parent = match parent {
        Some(p) => F::ParentId.eq(p.as_uuid()),
        None => F::ParentId.is_null(),
    };
    Query::select()
        .column(F::Id)
        .from(folder::Entity)
        .and_where(F::SpaceId.eq(space.as_uuid()))
        .and_where(in_parent)
        .and_where(F::TrashedAt.is_null())
        .and_where(F::Purged.eq(false))
        .to_owned()
}
