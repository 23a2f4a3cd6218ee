//! Hot folders (ADR 0008 §2): business applications drop files into a
//! directory; this crate decides when each one is complete, claims it
//! atomically, hands it to an [`Ingest`] and moves it to `traite/` or
//! `erreur/` with a receipt or a French error text.
//!
//! A driving adapter, like `passerelle-workers` whose registry runs it.
//! Two halves: the file-system half (`scan`, `layout`, `worker`) knows
//! nothing of documents and never reads a file's content; [`filing`] is
//! the [`Ingest`] the node gives it, which parses a file by its drop
//! folder's kind (`passerelle-flux`) and files it through core's flows
//! use cases, where the rights, the ledger and the unit of work are.
//!
//! Safety across `kill -9` rests on two renames: a file is claimed by
//! renaming it into `<drop>/.passerelle/en-cours/`, and leaves it by a
//! rename into `traite/` or `erreur/` once its receipt is on disk.
//! Whatever is in `en-cours/` at the start of a pass was left by a killed
//! run and is handed to the ingestion again, so a file is never lost nor
//! left in the drop folder; it may be handed twice, which the ingestion
//! absorbs (idempotent by content hash).
//!
//! Modules:
//! - `scan`: one pass over a drop folder ([`Scanner`]): recovery, when a
//!   file is complete, claims oldest first, `in_flight` files handed at a
//!   time.
//! - `layout`: the file-system operations: the folder's layout, listing,
//!   claims, receipts written durably, moves that never overwrite.
//! - `worker`: the long-running worker ([`spawn`]): a notify watcher wakes
//!   a loop that rescans periodically and backs off while ingestion asks
//!   to retry.
//! - [`filing`]: [`filing::Filer`], hashing, parsing, staging and filing
//!   a claimed file as its drop folder's service account.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

pub mod filing;
mod layout;
mod scan;
mod worker;

pub use scan::{PassSummary, Scanner};
pub use worker::spawn;

/// One drop folder and how it is watched (the node builds it from its
/// configuration).
#[derive(Clone, Debug)]
pub struct DropFolder {
    /// A stable name ("helios-finances"): the worker is `watch:<name>`.
    pub name: String,
    /// The directory applications drop files into. It must exist: the
    /// worker reports a failure while it is missing, and creates only its
    /// own subdirectories (`.passerelle/en-cours/`, `traite/`, `erreur/`).
    pub path: PathBuf,
    /// How changes wake the worker.
    pub mode: WatchMode,
    /// A full rescan this often, whatever the mode: inotify drops events
    /// on overflow, so events only wake the worker early.
    pub rescan: Duration,
    /// A file without an `.ok` marker is complete once its size and mtime
    /// have not changed for this long.
    pub stable_for: Duration,
    /// Larger files (or bundles, summed) are refused to `erreur/` without
    /// being handed to the ingestion.
    pub max_bytes: u64,
    /// Files handed to the ingestion at once (at least 1), once a file of
    /// the pass is settled: while one is filed, the next ones are parsed
    /// and staged, and those whose filings wait together are filed in one
    /// unit of work. Each file in flight holds its parse and about a MiB
    /// of decoded attachment on its way to the blob store.
    pub in_flight: usize,
}

/// How changes in a drop folder are noticed between rescans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchMode {
    /// Kernel events (notify's `RecommendedWatcher`): local file systems.
    Inotify,
    /// notify's `PollWatcher` comparing the folder every `interval`: SMB
    /// and NFS mounts, where the kernel sees no remote writes.
    Poll {
        /// How often the folder is compared.
        interval: Duration,
    },
}

/// A file (or bundle directory) claimed for ingestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    /// Where it is now, inside `<drop>/.passerelle/en-cours/`; its file
    /// name may carry a numeric suffix if that name was taken there.
    pub path: PathBuf,
    /// The name it was dropped under (a non-UTF-8 name is given lossily).
    /// After a crash, a file recovered from `en-cours/` has the name it
    /// was claimed under.
    pub name: String,
    /// Its size in bytes; for a directory, the sum of its files.
    pub size: u64,
    /// A directory dropped whole (an @CTES bundle).
    pub is_dir: bool,
}

/// What the ingestion did with a claimed file.
#[derive(Clone, Debug, PartialEq)]
pub enum Ingested {
    /// Filed: the file goes to `traite/<YYYY-MM-DD>/<name>`, the receipt
    /// beside it as `<name>.recu.json` (pretty JSON).
    Filed {
        /// What to tell the application (document ids, links…).
        receipt: serde_json::Value,
    },
    /// Refused for good: the file goes to `erreur/<name>`, the reason
    /// beside it as `<name>.err.txt` with the date.
    Refused {
        /// In French, for the application's operators: what is wrong,
        /// where, how to fix it.
        reason: String,
    },
    /// Failed for a reason outside the file (database down): the file
    /// stays in `en-cours/` and is handed again after a backoff.
    Retry {
        /// Why, for the worker's status.
        error: String,
    },
}

/// Files a claimed file; given by the node.
///
/// Must be idempotent by content: after a crash the same file is handed
/// again (possibly after it was filed), and must then answer `Filed` again
/// without filing twice. It reads `file.path` itself (the watcher never
/// reads content) and must not move or delete it. A pass hands its first
/// file alone, then up to [`DropFolder::in_flight`] at a time: calls run
/// concurrently. A
/// `Retry` answer stops the pass: nothing more is claimed until it is
/// retried (files handed already are settled).
/// A panic is taken as a refusal (the file goes to `erreur/` with an
/// "internal error" text), so that one file cannot stop the folder.
#[async_trait]
pub trait Ingest: Send + Sync + 'static {
    /// Files `file`, or says why not.
    async fn ingest(&self, file: &Claimed) -> Ingested;
}
