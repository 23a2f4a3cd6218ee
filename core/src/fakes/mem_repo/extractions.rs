//! `ExtractionLog` on [`MemRepository`]: the extraction statuses kept in the
//! same [`State`] as the tables they join (`holders` reads documents and
//! versions), with the orders and filters of the SQL adapter.
//!
//! These rows are not revisioned and are written outside transactions, yet
//! a write transaction commits by replacing the whole state with its
//! private copy: a record slipped in meanwhile would be lost. So `record`
//! waits for the writer lock, as a write transaction does (the SQL adapter
//! on SQLite queues on its writer lock alike). Like any writer, it must not
//! be called by a task that holds a write transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemRepository, State, lock, paged};
use crate::hash::ContentHash;
use crate::ids::DocumentId;
use crate::model::{Page, Paged};
use crate::ports::RepoError;
use crate::search::{ExtractionLog, ExtractionRecord, ExtractionStatus};

impl State {
    fn due_extractions(&self, now: OffsetDateTime, limit: u64) -> Vec<ExtractionRecord> {
        let mut due: Vec<&ExtractionRecord> = self
            .extractions
            .values()
            .filter(|r| r.next_try.is_some_and(|t| t <= now))
            .collect();
        // Ties by hash, as the SQL adapter orders them: the same batches on
        // every engine.
        due.sort_by_key(|r| (r.next_try, r.hash));
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        due.into_iter().take(take).cloned().collect()
    }

    fn extraction_problems(&self, page: Page) -> Paged<ExtractionRecord> {
        let mut problems: Vec<ExtractionRecord> = self
            .extractions
            .values()
            .filter(|r| !matches!(r.status, ExtractionStatus::Ok | ExtractionStatus::Empty))
            .cloned()
            .collect();
        // Last tried first; the map iterates by hash and the sort is stable,
        // so ties stay in hash order.
        problems.sort_by_key(|r| std::cmp::Reverse(r.tried_at));
        paged(problems, page)
    }

    fn count_extractions(&self) -> Vec<(ExtractionStatus, u64)> {
        let mut counts = BTreeMap::new();
        for r in self.extractions.values() {
            *counts.entry(r.status).or_insert(0_u64) += 1;
        }
        counts.into_iter().collect()
    }

    fn holders(&self, hash: &ContentHash) -> Vec<DocumentId> {
        let mut ids: Vec<DocumentId> = self
            .documents
            .values()
            .filter(|d| !d.purged)
            .filter(|d| {
                self.versions
                    .get(&(d.id, d.current_version))
                    .is_some_and(|v| v.hash == *hash)
            })
            .map(|d| d.id)
            .collect();
        ids.sort();
        ids
    }
}

#[async_trait]
impl ExtractionLog for MemRepository {
    async fn record(&self, record: &ExtractionRecord) -> Result<(), RepoError> {
        let _writer = self.writer.lock().await;
        let mut committed = lock(&self.committed);
        // Copies the state only when a reader still holds this snapshot.
        Arc::make_mut(&mut committed)
            .extractions
            .insert(record.hash, record.clone());
        Ok(())
    }

    async fn record_all(&self, records: &[ExtractionRecord]) -> Result<(), RepoError> {
        let _writer = self.writer.lock().await;
        let mut committed = lock(&self.committed);
        let extractions = &mut Arc::make_mut(&mut committed).extractions;
        for record in records {
            extractions.insert(record.hash, record.clone());
        }
        Ok(())
    }

    async fn extraction(&self, hash: &ContentHash) -> Result<Option<ExtractionRecord>, RepoError> {
        Ok(self.snapshot().extractions.get(hash).cloned())
    }

    async fn due(
        &self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ExtractionRecord>, RepoError> {
        Ok(self.snapshot().due_extractions(now, limit))
    }

    async fn problems(&self, page: Page) -> Result<Paged<ExtractionRecord>, RepoError> {
        Ok(self.snapshot().extraction_problems(page))
    }

    async fn count_by_status(&self) -> Result<Vec<(ExtractionStatus, u64)>, RepoError> {
        Ok(self.snapshot().count_extractions())
    }

    async fn holders(&self, hash: &ContentHash) -> Result<Vec<DocumentId>, RepoError> {
        Ok(self.snapshot().holders(hash))
    }
}
