//! The `LinkStore` part of the transaction: the table `document_links`.

use async_trait::async_trait;
use passerelle_core::ids::{DocumentId, LinkId};
use passerelle_core::links::{DocumentLink, LinkKind, LinkStore};
use passerelle_core::ports::RepoError;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use super::{SqlTx, all_into, exec_guarded, upsert};
use crate::entity::document_link;
use crate::error::{db_error, write_error};

#[async_trait]
impl LinkStore for SqlTx {
    async fn save_link(&mut self, l: &DocumentLink) -> Result<(), RepoError> {
        let c = self.writable()?;
        let model = document_link::Model::from_core(l)?
            .into_active_model()
            .reset_all();
        exec_guarded(c, upsert(model)).await.map_err(|e| {
            write_error(e, || {
                format!("a {} link from {} to {} exists", l.kind, l.from, l.to)
            })
        })
    }

    async fn link(&mut self, id: LinkId) -> Result<Option<DocumentLink>, RepoError> {
        let row = document_link::Entity::find_by_id(id.as_uuid())
            .one(&self.txn)
            .await
            .map_err(db_error)?;
        row.map(document_link::Model::into_core).transpose()
    }

    async fn link_between(
        &mut self,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Result<Option<DocumentLink>, RepoError> {
        let row = document_link::Entity::find()
            .filter(document_link::Column::FromId.eq(from.as_uuid()))
            .filter(document_link::Column::ToId.eq(to.as_uuid()))
            .filter(document_link::Column::Kind.eq(kind.as_str()))
            .one(&self.txn)
            .await
            .map_err(db_error)?;
        row.map(document_link::Model::into_core).transpose()
    }

    async fn links_of(&mut self, document: DocumentId) -> Result<Vec<DocumentLink>, RepoError> {
        links_of(&self.txn, document).await
    }
}

/// Oldest first, ties by id (UUID byte order on both engines).
async fn links_of(
    c: &DatabaseTransaction,
    document: DocumentId,
) -> Result<Vec<DocumentLink>, RepoError> {
    let id = document.as_uuid();
    let rows = document_link::Entity::find()
        .filter(document_link::Column::Removed.eq(false))
        .filter(
            Condition::any()
                .add(document_link::Column::FromId.eq(id))
                .add(document_link::Column::ToId.eq(id)),
        )
        .order_by_asc(document_link::Column::CreatedAt)
        .order_by_asc(document_link::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, document_link::Model::into_core)
}
