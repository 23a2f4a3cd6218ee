//! The indexer's writes to the extraction log: one write per batch, not one
//! per content (issue 14: on SQLite each write is a commit behind the
//! writer lock, and the node indexes thousands of small texts).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::executor::block_on;
use time::OffsetDateTime;
use time::macros::datetime;

use super::{agent, content, space};
use crate::fakes::PlainTextExtractor;
use crate::fakes::{FakeClock, FastPasswords, MemBlobStore, MemIndex, MemRepository};
use crate::hash::ContentHash;
use crate::ids::DocumentId;
use crate::model::{Page, Paged};
use crate::ports::RepoError;
use crate::search::{ExtractionLog, ExtractionRecord, ExtractionStatus};
use crate::service::{CoreSettings, Indexer, InternalApp, NewDocument};

/// The fake's log, with the writes it received: how many single records,
/// and the size of each batch.
#[derive(Debug)]
struct Counted {
    inner: Arc<MemRepository>,
    singles: AtomicUsize,
    batches: Mutex<Vec<usize>>,
}

#[async_trait]
impl ExtractionLog for Counted {
    async fn record(&self, record: &ExtractionRecord) -> Result<(), RepoError> {
        self.singles.fetch_add(1, Ordering::SeqCst);
        self.inner.record(record).await
    }

    async fn record_all(&self, records: &[ExtractionRecord]) -> Result<(), RepoError> {
        if let Ok(mut batches) = self.batches.lock() {
            batches.push(records.len());
        }
        self.inner.record_all(records).await
    }

    async fn extraction(&self, hash: &ContentHash) -> Result<Option<ExtractionRecord>, RepoError> {
        self.inner.extraction(hash).await
    }

    async fn due(
        &self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ExtractionRecord>, RepoError> {
        self.inner.due(now, limit).await
    }

    async fn problems(&self, page: Page) -> Result<Paged<ExtractionRecord>, RepoError> {
        self.inner.problems(page).await
    }

    async fn count_by_status(&self) -> Result<Vec<(ExtractionStatus, u64)>, RepoError> {
        self.inner.count_by_status().await
    }

    async fn holders(&self, hash: &ContentHash) -> Result<Vec<DocumentId>, RepoError> {
        self.inner.holders(hash).await
    }
}

#[test]
fn a_batch_records_its_extractions_in_one_write() {
    block_on(async {
        let repo = Arc::new(MemRepository::new());
        let app = InternalApp::new(
            repo.clone(),
            Arc::new(MemBlobStore::new()),
            Arc::new(FakeClock::new(datetime!(2026-12-01 09:00 UTC))),
            Arc::new(FastPasswords),
            CoreSettings::default(),
        );
        let log = Arc::new(Counted {
            inner: repo.clone(),
            singles: AtomicUsize::new(0),
            batches: Mutex::new(Vec::new()),
        });
        let indexer = Indexer::new(
            &app,
            Arc::new(MemIndex::new()),
            Arc::new(PlainTextExtractor::new()),
            log.clone(),
        );
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "piscine").await;
        let mut hashes = Vec::new();
        // Three contents, one of them twice: three extractions.
        for (name, text) in [
            ("a.txt", "bassin"),
            ("b.txt", "vestiaires"),
            ("c.txt", "plongeoir"),
            ("d.txt", "bassin"),
        ] {
            let stored = app
                .upload(
                    &marie,
                    NewDocument {
                        space: s,
                        name: name.into(),
                        ..NewDocument::default()
                    },
                    content(text),
                )
                .await
                .expect("upload");
            hashes.push(stored.version.hash);
        }
        let run = indexer.run().await.expect("run");
        assert!(run.caught_up);
        assert_eq!(run.extracted, 3);
        assert_eq!(
            log.singles.load(Ordering::SeqCst),
            0,
            "no write per content"
        );
        assert_eq!(*log.batches.lock().expect("batches"), [3]);
        for hash in hashes {
            let record = repo.extraction(&hash).await.expect("log").expect("record");
            assert_eq!(record.status, ExtractionStatus::Ok);
        }
    });
}
