//! Core's `PropertyStore` port on [`SqlRepository`]: the table
//! `dead_properties`, on the repository's connection rather than in a
//! `Tx`, since these rows are local client state outside the revisioned
//! history (no revision, no audit entry, nothing for the change feed).

use async_trait::async_trait;
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use passerelle_core::properties::{DeadProperty, PropertyName, PropertyStore};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::entity::dead_property::{self, Column, Entity, key};
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
