//! Core's `ExtractionLog` port on [`SqlRepository`]: the table `extractions`,
//! read and written on the repository's connection rather than in a `Tx`,
//! since these rows are derived data outside the revisioned history (no
//! revision taken, no audit entry, nothing for the change feed).

use async_trait::async_trait;
use passerelle_core::ContentHash;
use passerelle_core::ids::DocumentId;
use passerelle_core::model::{Page, Paged};
use passerelle_core::ports::RepoError;
use passerelle_core::search::{ExtractionLog, ExtractionRecord, ExtractionStatus};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationDef, TransactionTrait,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::convert::nanos;
use crate::entity::{document, extraction, version};
use crate::error::db_error;
use crate::repository::SqlRepository;
use crate::tx::{all_into, paginate, upsert};

/// The statuses `problems` leaves out: nothing for an administrator to do.
const FINE: [ExtractionStatus; 2] = [ExtractionStatus::Ok, ExtractionStatus::Empty];

/// `versions` → `documents` on (document, current version number): the
/// version that is its document's current one. No foreign key declares it
/// (a document's `current_version` is a number, not a reference), so the
/// entities carry no relation; it is built here for `holders` alone.
fn current_version_of_document() -> RelationDef {
    version::Entity::belongs_to(document::Entity)
        .from((version::Column::DocumentId, version::Column::Number))
        .to((document::Column::Id, document::Column::CurrentVersion))
        .into()
}

#[async_trait]
impl ExtractionLog for SqlRepository {
    /// One upsert on the primary key (`ON CONFLICT (hash) DO UPDATE`), on
    /// both engines. On SQLite it waits for the writer lock like a write
    /// transaction, so a task must not call it while holding one.
    async fn record(&self, record: &ExtractionRecord) -> Result<(), RepoError> {
        let model = extraction::Model::from_core(record)?
            .into_active_model()
            .reset_all();
        let _writer = self.sqlite_writer().await;
        upsert(model)
            .exec_without_returning(self.connection())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// One transaction of upserts, one per record, in order (a multi-row
    /// `ON CONFLICT` would refuse a hash given twice on PostgreSQL). On
    /// SQLite it takes the writer lock once for the whole batch.
    async fn record_all(&self, records: &[ExtractionRecord]) -> Result<(), RepoError> {
        if records.is_empty() {
            return Ok(());
        }
        let models = records
            .iter()
            .map(|r| {
                Ok(extraction::Model::from_core(r)?
                    .into_active_model()
                    .reset_all())
            })
            .collect::<Result<Vec<_>, RepoError>>()?;
        let _writer = self.sqlite_writer().await;
        let txn = self.connection().begin().await.map_err(db_error)?;
        for model in models {
            upsert(model)
                .exec_without_returning(&txn)
                .await
                .map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn extraction(&self, hash: &ContentHash) -> Result<Option<ExtractionRecord>, RepoError> {
        let row = extraction::Entity::find_by_id(hash.to_hex())
            .one(self.connection())
            .await
            .map_err(db_error)?;
        row.map(extraction::Model::into_core).transpose()
    }

    /// Ties by hash, so that the batches are the same on every engine.
    async fn due(
        &self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ExtractionRecord>, RepoError> {
        let rows = extraction::Entity::find()
            .filter(extraction::Column::NextTry.lte(nanos(now)?))
            .order_by_asc(extraction::Column::NextTry)
            .order_by_asc(extraction::Column::Hash)
            .limit(limit.min(i64::MAX as u64))
            .all(self.connection())
            .await
            .map_err(db_error)?;
        all_into(rows, extraction::Model::into_core)
    }

    /// The total and the page are read in one read-only snapshot, so that
    /// they agree while the extractor keeps recording.
    async fn problems(&self, page: Page) -> Result<Paged<ExtractionRecord>, RepoError> {
        let query = extraction::Entity::find()
            .filter(extraction::Column::Status.is_not_in(FINE.map(ExtractionStatus::as_str)));
        let txn = self.begin_read().await?;
        let total = query.clone().count(&txn).await.map_err(db_error)?;
        let rows = paginate(
            query
                .order_by_desc(extraction::Column::TriedAt)
                .order_by_asc(extraction::Column::Hash),
            page,
        )
        .all(&txn)
        .await
        .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        Ok(Paged {
            items: all_into(rows, extraction::Model::into_core)?,
            total,
        })
    }

    /// Counted by the database (`GROUP BY status`), never loading rows;
    /// sorted here in the order of `ExtractionStatus`, as the fake gives.
    async fn count_by_status(&self) -> Result<Vec<(ExtractionStatus, u64)>, RepoError> {
        let rows: Vec<(String, i64)> = extraction::Entity::find()
            .select_only()
            .column(extraction::Column::Status)
            .column_as(
                Expr::from(Func::count(Expr::col(extraction::Column::Hash))),
                "records",
            )
            .group_by(extraction::Column::Status)
            .into_tuple()
            .all(self.connection())
            .await
            .map_err(db_error)?;
        let mut counts = rows
            .into_iter()
            // A count is never negative.
            .map(|(raw, n)| Ok((extraction::status(&raw)?, u64::try_from(n).unwrap_or(0))))
            .collect::<Result<Vec<_>, RepoError>>()?;
        counts.sort();
        Ok(counts)
    }

    /// One query: the versions with this hash (index `versions_hash`) that
    /// are their document's current one, of documents not purged.
    async fn holders(&self, hash: &ContentHash) -> Result<Vec<DocumentId>, RepoError> {
        let ids: Vec<Uuid> = version::Entity::find()
            .select_only()
            .column(document::Column::Id)
            .join(JoinType::InnerJoin, current_version_of_document())
            .filter(version::Column::Hash.eq(hash.to_hex()))
            .filter(document::Column::Purged.eq(false))
            .order_by_asc(document::Column::Id)
            .into_tuple()
            .all(self.connection())
            .await
            .map_err(db_error)?;
        Ok(ids.into_iter().map(DocumentId::from_uuid).collect())
    }
}
