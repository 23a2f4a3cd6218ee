//! Group commit of the files a drop folder has in flight: each file is
//! parsed and staged on its own, then its filing waits its turn at the
//! database; whoever takes the turn files every filing waiting then in
//! one unit of work (core's `Flows::file_all`). While one group commits,
//! the next one gathers, so a busy folder pays one transaction and one
//! database sync for several files, and a quiet one files each file as
//! soon as it is staged (a group of one).

use std::sync::Mutex;

use passerelle_core::service::{Filing, FilingReceipt, Flows};
use passerelle_core::{Actor, CoreError};
use tokio::sync::oneshot;

/// A filing waiting for its group, and where its answer goes.
type Waiting = (Filing, oneshot::Sender<Result<FilingReceipt, CoreError>>);

/// The filings of one drop folder waiting for the database.
#[derive(Debug, Default)]
pub(super) struct Group {
    /// Filled by every file staged, emptied by whoever holds `turn`.
    waiting: Mutex<Vec<Waiting>>,
    /// One group at a time: SQLite has one writer, and a group gathers
    /// while the previous one commits.
    turn: tokio::sync::Mutex<()>,
}

impl Group {
    /// Files `filing` with whatever else is waiting, as `actor` (every
    /// filing of a drop folder is its service account's).
    ///
    /// # Cancel safety
    /// Dropping the future before its answer leaves its filing to the
    /// group that takes it, or to nobody: either way the file is still in
    /// `en-cours/`, handed again, and the ledger files it once.
    pub async fn file(
        &self,
        flows: &Flows,
        actor: &Actor,
        filing: Filing,
    ) -> Result<FilingReceipt, CoreError> {
        let (answer, answered) = oneshot::channel();
        self.lock().push((filing, answer));
        {
            let _turn = self.turn.lock().await;
            // Empty when an earlier turn took this filing with its group.
            let batch = std::mem::take(&mut *self.lock());
            if !batch.is_empty() {
                let (filings, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let results = flows.file_all(actor, filings).await;
                for (answer, result) in answers.into_iter().zip(results) {
                    // The file's future was dropped (the node stopping):
                    // its file is handed again at the next start.
                    let _ = answer.send(result);
                }
            }
        }
        answered.await.map_err(|_| {
            CoreError::Unavailable("the drop folder's group commit stopped before this file")
        })?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        // A panic while the list was held left it whole (a push or a take):
        // go on with it.
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
