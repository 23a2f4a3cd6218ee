//! Contractors' uploads scanned before they are applied (ADR 0010): the
//! rules of what a verdict does to an operation. Scans run before the write
//! transaction (a scan takes a round trip to clamd and a read of the whole
//! content; the write lock must not wait for it), and a verdict is kept by
//! content hash for the rest of the call. The replication link also has
//! each content judged as soon as it is fetched, while the run before it is
//! applied ([`InternalApp::judge_ahead`]): those verdicts wait in
//! [`AheadVerdicts`] until the apply takes them, so that scanning overlaps
//! fetching and applying instead of following them (issue 17: scanning
//! added 135 % to a drain when it ran between them).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::json;

use futures::StreamExt;
use time::OffsetDateTime;

use crate::antivirus::{Antivirus, ScanError, Verdict};
use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ports::Tx;
use crate::replication::{NodeId, OutboxItem};

use super::super::{Actor, InternalApp};
use super::{Effect, refused};

/// What the antivirus made of one content.
#[derive(Clone, Debug)]
pub(super) enum Judgement {
    Clean,
    Infected(String),
    /// Longer than the scanner accepts: it cannot be judged, so it is not
    /// applied (the safe side).
    Unscannable(u64),
}

/// Judgements by content hash, for one `apply_edge_ops` call: a run
/// shortened by a refusal does not scan its contents again.
pub(super) type Judgements = HashMap<ContentHash, Judgement>;

/// Contents scanned at once: a scan is mostly a round trip to clamd and
/// its thread handing over, so a few in flight keep it busy (clamd's
/// `MaxThreads` bounds them on its side; its default is 10).
const SCANS_IN_FLIGHT: usize = 4;

/// How long a verdict given ahead stays usable: the apply follows the fetch
/// within seconds; one that never comes (the operation refused first, the
/// session cut) must not leave a verdict that outlives a signature update
/// by much (freshclam checks every hour or two).
const AHEAD_FOR: time::Duration = time::Duration::minutes(5);

/// Verdicts waiting at most: the run being applied and the next one, with
/// room to spare. Past it, a verdict is not kept (the apply scans again).
const AHEAD_MAX: usize = 4 * super::APPLY_RUN;

/// Verdicts given ahead of the apply, by content hash, each with when it
/// was given; taken (removed) by the apply that uses it. Shared by every
/// clone of the node's app; nothing durable (a restart scans again).
#[derive(Debug, Default)]
pub(crate) struct AheadVerdicts {
    by_hash: Mutex<HashMap<ContentHash, (Judgement, OffsetDateTime)>>,
}

impl AheadVerdicts {
    /// Keeps `judgement` of `hash`, given at `now`; forgets the verdicts
    /// that expired.
    fn keep(&self, hash: ContentHash, judgement: Judgement, now: OffsetDateTime) {
        let mut by_hash = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        by_hash.retain(|_, (_, at)| now - *at < AHEAD_FOR);
        if by_hash.len() < AHEAD_MAX {
            by_hash.insert(hash, (judgement, now));
        }
    }

    /// The verdict given ahead on `hash`, if one is still usable at `now`;
    /// removed either way.
    fn take(&self, hash: &ContentHash, now: OffsetDateTime) -> Option<Judgement> {
        let mut by_hash = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        let (judgement, at) = by_hash.remove(hash)?;
        (now - at < AHEAD_FOR).then_some(judgement)
    }

    /// How many wait (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_hash
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Why one content got no verdict.
enum Scan {
    /// This node could not read it (a storage failure).
    Local(CoreError),
    /// The antivirus gave none.
    Refused(ScanError),
}

/// Why the scan of a run stopped: no verdict for the operation at `at`.
pub(super) struct NotJudged {
    pub(super) at: usize,
    pub(super) error: CoreError,
}

impl InternalApp {
    /// Judges the content of each of `items` that has one and is neither
    /// over this node's upload limit (refused unscanned) nor applied
    /// before, keeping each verdict in `judged`; up to
    /// [`SCANS_IN_FLIGHT`] at once, taken in order. Stops at the first
    /// content (in order) the antivirus cannot judge now (unreachable,
    /// failed): the operations from there wait. Without an antivirus,
    /// nothing is scanned. The contents must be in the blob store.
    pub(super) async fn judge(
        &self,
        items: &[OutboxItem],
        judged: &mut Judgements,
    ) -> Result<(), NotJudged> {
        let Some(antivirus) = self.antivirus.as_deref() else {
            return Ok(());
        };
        let mut wanted = self.to_judge(items, judged).await?;
        let now = self.clock.now();
        wanted.retain(|(_, blob)| match self.ahead.take(&blob.hash, now) {
            Some(judgement) => {
                judged.insert(blob.hash, judgement);
                false
            }
            None => true,
        });
        let mut verdicts = futures::stream::iter(wanted)
            .map(|(at, blob)| async move { (at, blob, self.scan_one(antivirus, &blob).await) })
            .buffered(SCANS_IN_FLIGHT);
        while let Some((at, blob, verdict)) = verdicts.next().await {
            let judgement = match verdict {
                Ok(Verdict::Clean) => Judgement::Clean,
                Ok(Verdict::Infected { signature }) => Judgement::Infected(signature),
                Err(Scan::Refused(ScanError::TooLarge { limit })) => Judgement::Unscannable(limit),
                Err(Scan::Refused(e)) => {
                    let waiting = (items.len() - at) as u64;
                    let why = e.to_string();
                    if self.scanning.failed(self.clock.now(), &why, Some(waiting)) {
                        tracing::warn!(error = %why, waiting, "antivirus: no verdict, contractors' operations wait");
                    } else {
                        tracing::debug!(error = %why, waiting, "antivirus: still no verdict");
                    }
                    let error = CoreError::Unavailable("the antivirus");
                    return Err(NotJudged { at, error });
                }
                Err(Scan::Local(error)) => return Err(NotJudged { at, error }),
            };
            self.scanning
                .judged(matches!(judgement, Judgement::Infected(_)));
            judged.insert(blob.hash, judgement);
        }
        Ok(())
    }

    /// Has `blob` judged now, ahead of the apply of its operation, and
    /// keeps the verdict for it ([`AheadVerdicts`]). Nothing without an
    /// antivirus, for content over the upload limit (refused unscanned),
    /// or while the antivirus is known to be down (the apply asks it, and
    /// says why operations wait). A scan that fails here is only noted as
    /// an outage: the apply scans again and decides. The content must be
    /// in the blob store.
    pub(crate) async fn judge_ahead(&self, blob: &BlobInfo) {
        let Some(antivirus) = self.antivirus.as_deref() else {
            return;
        };
        if blob.size > self.settings.max_upload_bytes || !self.scanning.reachable() {
            return;
        }
        let judgement = match self.scan_one(antivirus, blob).await {
            Ok(Verdict::Clean) => Judgement::Clean,
            Ok(Verdict::Infected { signature }) => Judgement::Infected(signature),
            Err(Scan::Refused(ScanError::TooLarge { limit })) => Judgement::Unscannable(limit),
            Err(Scan::Refused(e)) => {
                let why = e.to_string();
                if self.scanning.failed(self.clock.now(), &why, None) {
                    tracing::warn!(error = %why, "antivirus: no verdict, contractors' operations wait");
                }
                return;
            }
            Err(Scan::Local(_)) => return,
        };
        self.scanning
            .judged(matches!(judgement, Judgement::Infected(_)));
        self.ahead.keep(blob.hash, judgement, self.clock.now());
    }

    /// The contents of `items` still to judge, each once, in order, with
    /// the index of the first operation that names it: not judged yet, not
    /// over the upload limit, and not of an operation delivered again
    /// after it was applied (its acknowledgement lost).
    async fn to_judge(
        &self,
        items: &[OutboxItem],
        judged: &Judgements,
    ) -> Result<Vec<(usize, BlobInfo)>, NotJudged> {
        let limit = self.settings.max_upload_bytes;
        let mut wanted: Vec<(usize, BlobInfo)> = Vec::new();
        let mut read = None;
        for (at, item) in items.iter().enumerate() {
            let Some(blob) = item.op.blob().filter(|b| b.size <= limit) else {
                continue;
            };
            if judged.contains_key(&blob.hash) || wanted.iter().any(|(_, b)| b.hash == blob.hash) {
                continue;
            }
            let stop = |error| NotJudged { at, error };
            if read.is_none() {
                read = Some(self.read().await.map_err(stop)?);
            }
            let Some(tx) = read.as_mut() else { continue };
            if tx
                .applied_op(item.op_id)
                .await
                .map_err(|e| stop(e.into()))?
                .is_none()
            {
                wanted.push((at, blob));
            }
        }
        Ok(wanted)
    }

    /// One content handed from the blob store to the antivirus (its file
    /// where the store has one).
    async fn scan_one(&self, antivirus: &dyn Antivirus, blob: &BlobInfo) -> Result<Verdict, Scan> {
        let content = self
            .blobs
            .open(&blob.hash)
            .await
            .map_err(|e| Scan::Local(e.into()))?;
        antivirus.scan(content).await.map_err(Scan::Refused)
    }

    /// The refusal of `item` when the antivirus condemned its content, its
    /// infection recorded in the audit log (in `tx`, with the refusal);
    /// `None` when the content is clean, or was not scanned.
    pub(super) async fn condemned(
        &self,
        tx: &mut Box<dyn Tx>,
        edge: &NodeId,
        item: &OutboxItem,
        judged: &Judgements,
    ) -> Result<Option<Effect>, CoreError> {
        let Some(blob) = item.op.blob() else {
            return Ok(None);
        };
        match judged.get(&blob.hash) {
            None | Some(Judgement::Clean) => Ok(None),
            Some(Judgement::Infected(signature)) => {
                self.audit_infected(tx, edge, item, &blob, signature)
                    .await?;
                Ok(Some(refused(format!(
                    "refusé : fichier infecté ({signature})"
                ))))
            }
            Some(Judgement::Unscannable(limit)) => Ok(Some(refused(format!(
                "refusé : fichier trop volumineux pour l'antivirus (limite {limit} octets)"
            )))),
        }
    }

    async fn audit_infected(
        &self,
        tx: &mut Box<dyn Tx>,
        edge: &NodeId,
        item: &OutboxItem,
        blob: &BlobInfo,
        signature: &str,
    ) -> Result<(), CoreError> {
        tracing::warn!(op = %item.op_id, %edge, hash = %blob.hash, signature, "antivirus: infected content refused");
        self.audit(
            tx,
            &Actor::System,
            "antivirus.infected",
            Some(item.space),
            Some(item.op_id.to_string()),
            json!({
                "signature": signature,
                "hash": blob.hash.to_string(),
                "size": blob.size,
                "contractor": item.contractor.to_string(),
                "edge": edge,
            }),
        )
        .await
    }
}
