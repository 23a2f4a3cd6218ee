//! The `IngestionLedger` part of the transaction: the table `ingestions`.

use async_trait::async_trait;
use passerelle_core::ContentHash;
use passerelle_core::flows::{DropName, Ingestion, IngestionLedger};
use passerelle_core::ports::RepoError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use super::{SqlTx, all_into, exec_guarded};
use crate::entity::ingestion;
use crate::error::{db_error, write_error};

#[async_trait]
impl IngestionLedger for SqlTx {
    async fn ingestion(
        &mut self,
        source: &DropName,
        hash: &ContentHash,
    ) -> Result<Option<Ingestion>, RepoError> {
        let row = ingestion::Entity::find_by_id((source.as_str().to_owned(), hash.to_hex()))
            .one(&self.txn)
            .await
            .map_err(db_error)?;
        row.map(ingestion::Model::into_core).transpose()
    }

    async fn save_ingestion(&mut self, i: &Ingestion) -> Result<(), RepoError> {
        let c = self.writable()?;
        let model = ingestion::Model::from_core(i)?
            .into_active_model()
            .reset_all();
        exec_guarded(c, ingestion::Entity::insert(model))
            .await
            .map_err(|e| {
                write_error(e, || {
                    format!("{} from {} is already in the ledger", i.hash, i.source)
                })
            })
    }

    async fn ingestions_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Vec<Ingestion>, RepoError> {
        let rows = ingestion::Entity::find()
            .filter(ingestion::Column::Reference.eq(reference))
            .order_by_asc(ingestion::Column::FiledAt)
            .order_by_asc(ingestion::Column::Source)
            .order_by_asc(ingestion::Column::Hash)
            .all(&self.txn)
            .await
            .map_err(db_error)?;
        all_into(rows, ingestion::Model::into_core)
    }

    async fn count_ingestions(&mut self, source: &DropName) -> Result<u64, RepoError> {
        ingestion::Entity::find()
            .filter(ingestion::Column::Source.eq(source.as_str()))
            .count(&self.txn)
            .await
            .map_err(db_error)
    }
}
