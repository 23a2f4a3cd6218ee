//! One pass over a drop folder: first what a killed run left in
//! `en-cours/`, one at a time, then every complete file, claimed oldest
//! mtime first and handed a few at a time. What was seen of each file is
//! kept between passes, so that "unchanged for `stable_for`" can be
//! judged without timers.

use std::collections::HashMap;
use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::layout::{Entry, Kind, Layout, Stamp, blocking};
use crate::{Claimed, DropFolder, Ingest, Ingested};

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Files moved to `traite/`.
    pub filed: u64,
    /// Files moved to `erreur/` (refused by the ingestion, too large,
    /// links, special files).
    pub refused: u64,
    /// Files seen but not complete yet (still written, or not watched for
    /// `stable_for` yet).
    pub waiting: u64,
    /// The ingestion asked to retry ("<name> : <error>"): the pass stopped
    /// there, the file stays in `en-cours/`.
    pub retry: Option<String>,
    /// When a waiting file may be complete: pass again then.
    pub next_check: Option<Duration>,
}

/// What became of one handed file.
#[derive(Debug)]
enum Settled {
    Filed,
    Refused,
    /// "<name> : <error>": the file stays in `en-cours/`.
    Retry(String),
}

impl PassSummary {
    /// Counts a settled file; `false` for a retry, which stops the pass.
    fn count(&mut self, settled: Settled) -> bool {
        match settled {
            Settled::Filed => self.filed += 1,
            Settled::Refused => self.refused += 1,
            Settled::Retry(why) => {
                // The first: the others under way then failed likewise.
                self.retry.get_or_insert(why);
                return false;
            }
        }
        true
    }
}

/// A drop folder and what its passes have seen.
#[derive(Debug)]
pub struct Scanner {
    folder: DropFolder,
    layout: Arc<Layout>,
    /// Per name, the stamp last seen and since when it has not changed.
    /// Rebuilt each pass from the listing, so names gone are forgotten.
    seen: HashMap<OsString, Seen>,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    stamp: Stamp,
    since: OffsetDateTime,
}

impl Scanner {
    /// Nothing seen yet: every file without a marker waits one
    /// `stable_for` from the first pass.
    pub fn new(folder: DropFolder) -> Self {
        let layout = Arc::new(Layout::new(&folder.path));
        Self {
            folder,
            layout,
            seen: HashMap::new(),
        }
    }

    /// The folder scanned.
    pub fn folder(&self) -> &DropFolder {
        &self.folder
    }

    /// One pass at `now`: recovers `en-cours/`, then claims, hands and
    /// settles every complete file. Claims nothing more after a `Retry`
    /// (the files under way are settled).
    ///
    /// # Errors
    /// The drop folder missing or unreadable, or a claim or move failing
    /// (a full disk): the file concerned stays where it was (drop folder
    /// or `en-cours/`) and the next pass takes it again.
    ///
    /// # Cancel safety
    /// Dropping the future at any await is as a `kill -9` there: nothing
    /// is lost, the claimed file is recovered by the next pass.
    pub async fn pass(
        &mut self,
        ingest: &dyn Ingest,
        now: OffsetDateTime,
    ) -> io::Result<PassSummary> {
        self.pass_until(ingest, now, &CancellationToken::new())
            .await
    }

    /// [`Scanner::pass`], stopping between two files once `cancel` is
    /// cancelled (a file under way is settled first).
    pub(crate) async fn pass_until(
        &mut self,
        ingest: &dyn Ingest,
        now: OffsetDateTime,
        cancel: &CancellationToken,
    ) -> io::Result<PassSummary> {
        let layout = self.layout.clone();
        blocking(move || layout.prepare()).await?;
        let mut summary = PassSummary::default();

        let layout = self.layout.clone();
        let mut left = blocking(move || layout.list_en_cours()).await?;
        sort_oldest_first(&mut left);
        for entry in left {
            if cancel.is_cancelled() {
                return Ok(summary);
            }
            // A run killed between its claim and the marker's removal
            // left the marker: it goes now, as it would have then.
            let (layout, name) = (self.layout.clone(), entry.name.clone());
            blocking(move || layout.remove_marker(&name)).await?;
            let path = self.layout.en_cours().join(&entry.name);
            let settled = self.settle(path, entry, ingest, now).await?;
            if !summary.count(settled) {
                return Ok(summary);
            }
        }

        let layout = self.layout.clone();
        let listing = blocking(move || layout.list_drop()).await?;
        summary.waiting += listing.unreadable;
        let ready = self.observe(listing.entries, &listing.markers, now, &mut summary);
        let mut ready = ready.into_iter();
        let mut settling = FuturesUnordered::new();
        // One at a time until a file of this pass is settled: a pass that
        // meets a database down hands it one file, not a few.
        let mut width = 1;
        let mut stop = false;
        let mut failed: Option<io::Error> = None;
        loop {
            while !stop && settling.len() < width {
                if cancel.is_cancelled() {
                    stop = true;
                    break;
                }
                let Some(entry) = ready.next() else {
                    break;
                };
                match self.claim(entry).await {
                    Ok(Some((path, entry))) => {
                        settling.push(self.settle(path, entry, ingest, now));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        stop = true;
                    }
                }
            }
            // Those under way are settled whatever stopped the pass: each
            // is either filed or back in `en-cours/` for the next one.
            let Some(settled) = settling.next().await else {
                break;
            };
            match settled {
                Ok(settled) => {
                    if summary.count(settled) {
                        // Each claimed file is in `en-cours/` until
                        // settled, so a crash hands them all again; the
                        // ledger files each once.
                        width = self.folder.in_flight.max(1);
                    } else {
                        stop = true;
                    }
                }
                Err(e) => {
                    failed.get_or_insert(e);
                    stop = true;
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }

    /// Claims a listed entry: its path in `en-cours/` and the entry as
    /// examined then, or `None` if it went meanwhile.
    async fn claim(&self, entry: Entry) -> io::Result<Option<(PathBuf, Entry)>> {
        let (layout, name) = (self.layout.clone(), entry.name);
        // Settled as examined once claimed, not as listed (see `claim`).
        // The marker goes with the claim: once the file is in
        // `en-cours/` it is recovered whatever happens, while a marker
        // left behind by a crash would make a later file of the same
        // name be taken at once, perhaps half written.
        let claimed = blocking(move || {
            let claimed = layout.claim(&name)?;
            if claimed.is_some() {
                layout.remove_marker(&name)?;
            }
            Ok(claimed)
        })
        .await?;
        if let Some((_, entry)) = &claimed {
            tracing::debug!(folder = %self.folder.name, file = ?entry.name, "claimed");
        }
        Ok(claimed)
    }

    /// Records this listing's stamps and returns the complete entries,
    /// oldest first; counts the others as waiting.
    fn observe(
        &mut self,
        entries: Vec<Entry>,
        markers: &HashSet<OsString>,
        now: OffsetDateTime,
        summary: &mut PassSummary,
    ) -> Vec<Entry> {
        let stable_for = self.folder.stable_for;
        let mut seen = HashMap::with_capacity(entries.len());
        let mut ready = Vec::new();
        for entry in entries {
            let since = match self.seen.get(&entry.name) {
                Some(before) if before.stamp == entry.stamp => before.since,
                _ => now,
            };
            seen.insert(
                entry.name.clone(),
                Seen {
                    stamp: entry.stamp,
                    since,
                },
            );
            // A clock moved back counts as no time elapsed.
            let elapsed = Duration::try_from(now - since).unwrap_or(Duration::ZERO);
            // Links and special files are refused at once: waiting for
            // them to be written would mean nothing.
            let complete = markers.contains(&entry.name)
                || matches!(entry.kind, Kind::Link | Kind::Special)
                || elapsed >= stable_for;
            if complete {
                ready.push(entry);
            } else {
                summary.waiting += 1;
                let left = stable_for - elapsed;
                summary.next_check = Some(summary.next_check.map_or(left, |n| n.min(left)));
            }
        }
        self.seen = seen;
        sort_oldest_first(&mut ready);
        ready
    }

    /// Hands a claimed entry to the ingestion (unless refused outright)
    /// and moves it out of `en-cours/`, or leaves it there when the
    /// ingestion asked to retry.
    async fn settle(
        &self,
        path: PathBuf,
        entry: Entry,
        ingest: &dyn Ingest,
        now: OffsetDateTime,
    ) -> io::Result<Settled> {
        let name = entry.name.to_string_lossy().into_owned();
        let outcome = match self.refusal(&entry) {
            Some(reason) => Ingested::Refused { reason },
            None => {
                let claimed = Claimed {
                    path: path.clone(),
                    name: name.clone(),
                    size: entry.stamp.size,
                    is_dir: entry.kind == Kind::Dir,
                };
                self.hand(ingest, &claimed).await
            }
        };
        let layout = self.layout.clone();
        let original = entry.name;
        let folder = &self.folder.name;
        Ok(match outcome {
            Ingested::Filed { receipt } => {
                let to = blocking(move || layout.file(&path, &original, &receipt, now)).await?;
                tracing::info!(folder = %folder, file = %name, to = %to.display(), "filed");
                Settled::Filed
            }
            Ingested::Refused { reason } => {
                let why = reason.clone();
                let to = blocking(move || layout.refuse(&path, &original, &why, now)).await?;
                tracing::warn!(folder = %folder, file = %name, to = %to.display(), %reason, "refused");
                Settled::Refused
            }
            Ingested::Retry { error } => {
                tracing::warn!(folder = %folder, file = %name, %error, "ingestion asks to retry");
                Settled::Retry(format!("{name} : {error}"))
            }
        })
    }

    /// Calls the ingestion. A panic (a parser's bug on a hostile file) is
    /// a refusal: otherwise the file, recovered at every start, would
    /// panic again each time and stop the folder for good.
    async fn hand(&self, ingest: &dyn Ingest, claimed: &Claimed) -> Ingested {
        match AssertUnwindSafe(ingest.ingest(claimed))
            .catch_unwind()
            .await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::error!(folder = %self.folder.name, file = %claimed.name,
                    "the ingestion panicked: file refused");
                Ingested::Refused {
                    reason: "Erreur interne de Passerelle pendant le classement de ce fichier : \
                             il est mis de côté. Signalez-le à l'équipe qui administre \
                             Passerelle, puis redéposez-le une fois le défaut corrigé."
                        .to_owned(),
                }
            }
        }
    }

    /// Why an entry is refused without being handed, in French.
    fn refusal(&self, entry: &Entry) -> Option<String> {
        let max = self.folder.max_bytes;
        match entry.kind {
            Kind::Link => Some(
                "Lien symbolique refusé : Passerelle ne suit pas les liens déposés dans un \
                 dossier de dépôt. Déposez le fichier lui-même."
                    .to_owned(),
            ),
            Kind::Special => Some(
                "Type de fichier non pris en charge (tube, socket ou périphérique) : déposez \
                 un fichier ordinaire, ou un dossier pour un lot @CTES."
                    .to_owned(),
            ),
            Kind::File | Kind::Dir if entry.stamp.size > max => Some(format!(
                "Fichier trop volumineux : {} octets, pour une limite de {max} octets sur ce \
                 dossier de dépôt. Augmentez la limite (max_bytes du dossier de dépôt dans la \
                 configuration du nœud) ou découpez le flux en plusieurs fichiers.",
                entry.stamp.size
            )),
            Kind::File | Kind::Dir => None,
        }
    }
}

/// Oldest mtime first, then by name so that equal mtimes (a copy of many
/// files within a second) keep a stable order.
fn sort_oldest_first(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        (a.stamp.mtime, a.name.as_os_str()).cmp(&(b.stamp.mtime, b.name.as_os_str()))
    });
}
