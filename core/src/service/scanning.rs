//! What the antivirus did lately (ADR 0010), kept in memory for the metrics
//! and the status pages: whether it answered at the last scan, how many of
//! contractors' operations wait for it, and counts since the node started.
//! Nothing here is durable: the operations that wait are in the edge's
//! outbox, and the verdicts in the ledger and the audit log. Also the
//! optional scan of agents' own uploads (`CoreSettings::scan_agent_uploads`),
//! through the same port.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::json;
use time::OffsetDateTime;

use crate::antivirus::{ScanError, Verdict};
use crate::blob::{BlobInfo, ByteStream};
use crate::error::CoreError;
use crate::ids::SpaceId;

use super::{Actor, Passerelle};

/// See the module documentation. Shared by every clone of the node's app.
#[derive(Debug, Default)]
pub(crate) struct ScanHealth {
    /// The last scan asked found no scanner (cleared by the next verdict).
    down: AtomicBool,
    /// Since when, and why, while `down`.
    outage: Mutex<Option<(OffsetDateTime, String)>>,
    /// Contractors' operations left waiting by the last failed attempt.
    waiting: AtomicU64,
    scanned: AtomicU64,
    infected: AtomicU64,
    unavailable: AtomicU64,
}

impl ScanHealth {
    /// A verdict came back: the scanner answers.
    pub(crate) fn judged(&self, infected: bool) {
        self.scanned.fetch_add(1, Ordering::Relaxed);
        if infected {
            self.infected.fetch_add(1, Ordering::Relaxed);
        }
        if self.down.swap(false, Ordering::SeqCst) {
            tracing::info!("antivirus reachable again");
        }
        self.waiting.store(0, Ordering::Relaxed);
        *self.outage.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether the last scan asked got an answer (true before any).
    pub(crate) fn reachable(&self) -> bool {
        !self.down.load(Ordering::SeqCst)
    }

    /// No verdict: `waiting` operations stay on the edge until it answers
    /// (`None`: an agent's upload, refused at once, changes no count).
    /// Whether this starts an outage (it is logged once, not at each retry).
    pub(crate) fn failed(&self, now: OffsetDateTime, why: &str, waiting: Option<u64>) -> bool {
        self.unavailable.fetch_add(1, Ordering::Relaxed);
        if let Some(waiting) = waiting {
            self.waiting.store(waiting, Ordering::Relaxed);
        }
        self.down.store(true, Ordering::SeqCst);
        let mut outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
        let starts = outage.is_none();
        if starts {
            *outage = Some((now, why.to_owned()));
        }
        starts
    }
}

/// The antivirus as the metrics and status pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AntivirusStatus {
    /// Whether the scanner answered the last scan asked (true before any).
    pub reachable: bool,
    /// Since when it does not, and the first error of the outage.
    pub outage: Option<(OffsetDateTime, String)>,
    /// Contractors' operations that wait for it (as of the last attempt).
    pub waiting_operations: u64,
    /// Contents judged since the node started.
    pub scanned_total: u64,
    /// Of which infected.
    pub infected_total: u64,
    /// Scans that found no scanner (or an error) since the node started.
    pub unavailable_total: u64,
}

impl Passerelle {
    /// The antivirus's state, or `None` when the node scans nothing (an
    /// edge, or an internal node without one).
    pub fn antivirus_status(&self) -> Option<AntivirusStatus> {
        self.antivirus.as_ref()?;
        let h = &self.scanning;
        Some(AntivirusStatus {
            reachable: h.reachable(),
            outage: h
                .outage
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            waiting_operations: h.waiting.load(Ordering::Relaxed),
            scanned_total: h.scanned.load(Ordering::Relaxed),
            infected_total: h.infected.load(Ordering::Relaxed),
            unavailable_total: h.unavailable.load(Ordering::Relaxed),
        })
    }
}

impl Passerelle {
    /// Stores content an agent or a service account sends (internal
    /// node), within the upload limit; when the node scans agents' uploads
    /// (`CoreSettings::scan_agent_uploads`, ADR 0010), has it judged
    /// before any row names it. Infected: `Invalid { code: "infected" }`,
    /// the infection audited (the blob stays unreferenced until garbage
    /// collection); past the scanner's limit: `TooLarge`; no verdict:
    /// `Unavailable` (the client may retry).
    pub(super) async fn store_content(
        &self,
        actor: &Actor,
        space: Option<SpaceId>,
        content: ByteStream,
    ) -> Result<BlobInfo, CoreError> {
        let blob = self
            .blobs
            .put(content, Some(self.settings.max_upload_bytes))
            .await?;
        let Some(antivirus) = self
            .antivirus
            .as_deref()
            .filter(|_| self.settings.scan_agent_uploads)
        else {
            return Ok(blob);
        };
        let verdict = antivirus.scan(self.blobs.open(&blob.hash).await?).await;
        match verdict {
            Ok(Verdict::Clean) => {
                self.scanning.judged(false);
                Ok(blob)
            }
            Ok(Verdict::Infected { signature }) => {
                self.scanning.judged(true);
                tracing::warn!(hash = %blob.hash, signature, "antivirus: an agent's upload is infected");
                let mut tx = self.write().await?;
                self.audit(
                    &mut tx,
                    actor,
                    "antivirus.infected",
                    space,
                    Some(blob.hash.to_string()),
                    json!({ "signature": signature, "hash": blob.hash.to_string(), "size": blob.size }),
                )
                .await?;
                self.commit(tx).await?;
                Err(CoreError::invalid(
                    "infected",
                    format!("refusé : fichier infecté ({signature})"),
                ))
            }
            Err(ScanError::TooLarge { limit }) => Err(CoreError::TooLarge { limit }),
            Err(ScanError::Content(e)) => Err(CoreError::Internal(Box::new(e))),
            Err(e) => {
                let why = e.to_string();
                if self.scanning.failed(self.clock.now(), &why, None) {
                    tracing::warn!(error = %why, "antivirus: no verdict, agents' uploads are refused");
                }
                Err(CoreError::Unavailable("the antivirus"))
            }
        }
    }
}
