//! The edge's outbox as the internal node sees it (edge): the pending
//! operations, streamed as they are queued, their contents to fetch, and
//! the verdicts that come back.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt};

use crate::blob::ByteStream;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ports::Timer;
use crate::replication::{OpOutcome, OutboxItem};

use super::super::EdgeApp;

/// How often the outbox watch looks when no commit of this process woke
/// it: an operation queued by another process (a CLI beside the server).
const OUTBOX_POLL: Duration = Duration::from_secs(1);
/// Items read at once by the watch.
const WATCH_BATCH: u64 = 100;

impl EdgeApp {
    /// Pending outbox items after `after_seq` (the replication streams them).
    pub async fn pending_operations(
        &self,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<OutboxItem>, CoreError> {
        Ok(self.read().await?.pending_outbox(after_seq, limit).await?)
    }

    /// Records the internal node's verdicts on outbox items (edge).
    pub async fn acknowledge_operations(
        &self,
        results: &[(uuid::Uuid, OpOutcome, String)],
    ) -> Result<u32, CoreError> {
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let mut n = 0;
        for (op, outcome, detail) in results {
            if let Some(item) = tx.outbox_item(*op).await? {
                tx.set_outbox_outcome(*op, *outcome, detail, now).await?;
                n += 1;
                // A first refusal is news for the contractor and the
                // space's managers (ADR 0013): in the edge's feed.
                if *outcome == OpOutcome::Rejected && item.outcome.is_none() {
                    self.audit_by(
                        &mut tx,
                        Some(item.contractor),
                        "replication.rejected",
                        Some(item.space),
                        Some(op.to_string()),
                        serde_json::json!({
                            "contractor": item.contractor.to_string(),
                            "detail": detail,
                            "replicated": true,
                        }),
                    )
                    .await?;
                }
            }
        }
        self.commit(tx).await?;
        Ok(n)
    }

    /// Content of a pending upload, for the internal node to fetch.
    pub async fn open_blob(
        &self,
        hash: &ContentHash,
        offset: u64,
    ) -> Result<(u64, ByteStream), CoreError> {
        let size = self
            .blobs
            .size(hash)
            .await?
            .ok_or(CoreError::NotFound("blob"))?;
        if offset > size {
            return Err(CoreError::BadRange { size });
        }
        Ok((size, self.blobs.get(hash, Some(offset..size)).await?))
    }

    /// The pending operations after `after_seq`, oldest first, then each
    /// new one as it is queued, for as long as the stream is read. Reads
    /// only: an item leaves the outbox when its verdict is acknowledged, so
    /// a watch cut and opened again sends the undecided ones again.
    pub fn watch_operations(
        &self,
        after_seq: i64,
        timer: Arc<dyn Timer>,
    ) -> impl Stream<Item = Result<OutboxItem, CoreError>> + Send + 'static {
        let app = self.clone();
        futures::stream::unfold(Some(after_seq), move |after| {
            let (app, timer) = (app.clone(), timer.clone());
            async move {
                let after = after?;
                match app.next_pending(after, timer.as_ref()).await {
                    Ok(items) => {
                        let last = items.last().map_or(after, |i| i.seq);
                        Some((items.into_iter().map(Ok).collect::<Vec<_>>(), Some(last)))
                    }
                    // The error, then the end: the peer opens a new watch.
                    Err(e) => Some((vec![Err(e)], None)),
                }
            }
        })
        .flat_map(futures::stream::iter)
    }

    /// The next pending items after `after`, waiting for a commit (or
    /// [`OUTBOX_POLL`]) while there are none.
    async fn next_pending(
        &self,
        after: i64,
        timer: &dyn Timer,
    ) -> Result<Vec<OutboxItem>, CoreError> {
        loop {
            // Read before looking: an operation queued meanwhile wakes the wait.
            let seen = self.changes().current();
            let items = self.pending_operations(after, WATCH_BATCH).await?;
            if !items.is_empty() {
                return Ok(items);
            }
            futures::select_biased! {
                () = self.changes().changed_since(seen).fuse() => {},
                () = timer.sleep(OUTBOX_POLL).fuse() => {},
            }
        }
    }
}
