//! The up direction: the edge's outbox, applied in runs. The operations that
//! arrived together (up to [`APPLY_RUN`]) have their content fetched a few
//! at a time, are applied in as few transactions as core allows, and are
//! acknowledged in one call. One at a time, with a commit and an
//! acknowledgement each, the drain stayed under 100 operations per second
//! (issue 12). A run that core cannot judge now (the antivirus unreachable,
//! ADR 0010) is tried again after a pause, the session staying up: the
//! operations wait on the edge, and the down direction goes on.

use futures::{StreamExt, TryStreamExt};

use super::{FIRST_BACKOFF, Link, LinkError, MAX_BACKOFF};
use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::ports::Timer;
use crate::replication::NodeId;
use crate::replication::peer::{EdgePeer, IncomingOp, OpVerdict, PeerError};
use crate::service::{APPLY_RUN, InternalApp};

/// Contractors' uploads fetched at once while a run is applied: small ones
/// are dominated by the round trip, not the bytes.
const FETCHES_IN_FLIGHT: usize = 8;

impl Link {
    /// Streams the edge's outbox and applies it in runs, until the edge
    /// closes the stream (`Ok`) or a call fails.
    pub(super) async fn watch_outbox(
        app: &InternalApp,
        edge: &NodeId,
        peer: &dyn EdgePeer,
        timer: &dyn Timer,
    ) -> Result<(), LinkError> {
        let mut runs = peer.watch_outbox(0).await?.ready_chunks(APPLY_RUN);
        while let Some(run) = runs.next().await {
            let run = run.into_iter().collect::<Result<Vec<_>, _>>()?;
            Self::apply_patiently(app, edge, peer, timer, run).await?;
        }
        Ok(())
    }

    /// Applies a run; while core says something it needs cannot be reached
    /// (`CoreError::Unavailable`: the antivirus), waits (1 s, doubling up
    /// to 5 s) and applies the same run again. What was applied before the
    /// wait is in the ledger: the next attempt returns its records, and
    /// everything is acknowledged together.
    async fn apply_patiently(
        app: &InternalApp,
        edge: &NodeId,
        peer: &dyn EdgePeer,
        timer: &dyn Timer,
        run: Vec<IncomingOp>,
    ) -> Result<(), LinkError> {
        let mut pause = FIRST_BACKOFF;
        loop {
            match Self::apply_run(app, edge, peer, run.clone()).await {
                Err(LinkError::Local(CoreError::Unavailable(what))) => {
                    tracing::debug!(%edge, what, ?pause, "contractors' operations wait");
                    timer.sleep(pause).await;
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
                other => return other.map(drop),
            }
        }
    }

    /// Applies the operations the edge holds now, run after run, and
    /// returns the verdicts given; stops at the first wait. The same steps
    /// as the session's watcher, for tests that drain on demand.
    #[cfg(test)]
    pub(crate) async fn drain_outbox(
        &self,
        peer: &dyn EdgePeer,
    ) -> Result<Vec<OpVerdict>, LinkError> {
        let mut runs = peer.watch_outbox(0).await?.ready_chunks(APPLY_RUN);
        let mut verdicts = Vec::new();
        while let Some(Some(run)) = futures::FutureExt::now_or_never(runs.next()) {
            let run = run.into_iter().collect::<Result<Vec<_>, _>>()?;
            verdicts.extend(Self::apply_run(&self.app, &self.edge, peer, run).await?);
        }
        Ok(verdicts)
    }

    /// Applies operations that came up together, in their order, and
    /// acknowledges them in one call; those that do not parse are refused
    /// on their own.
    async fn apply_run(
        app: &InternalApp,
        edge: &NodeId,
        peer: &dyn EdgePeer,
        run: Vec<IncomingOp>,
    ) -> Result<Vec<OpVerdict>, LinkError> {
        let mut verdicts = Vec::with_capacity(run.len());
        let mut items = Vec::with_capacity(run.len());
        for op in run {
            match op {
                IncomingOp::Op(item) => items.push(*item),
                IncomingOp::Invalid { op_id, why } => {
                    tracing::warn!(%edge, op = %op_id, error = %why, "invalid operation from the edge");
                    verdicts.push(OpVerdict {
                        op_id,
                        outcome: crate::replication::OpOutcome::Rejected,
                        detail: why,
                    });
                }
            }
        }
        // Content over this node's limit is not fetched: applying the
        // operation refuses it.
        let limit = app.settings().max_upload_bytes;
        let wanted: Vec<BlobInfo> = items
            .iter()
            .filter_map(|i| i.op.blob())
            .filter(|b| b.size <= limit)
            .collect();
        futures::stream::iter(wanted)
            .map(|b| fetch_blob(app, peer, b))
            .buffer_unordered(FETCHES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        for applied in app.apply_edge_ops(edge, &items).await? {
            verdicts.push(OpVerdict {
                op_id: applied.op_id,
                outcome: applied.outcome,
                detail: applied.detail,
            });
        }
        peer.acknowledge(&verdicts).await?;
        Ok(verdicts)
    }
}

/// Pulls a contractor's upload into this node's store, verifying its hash.
async fn fetch_blob(app: &InternalApp, peer: &dyn EdgePeer, b: BlobInfo) -> Result<(), LinkError> {
    let store = app.blobs();
    if store.size(&b.hash).await? == Some(b.size) {
        return Ok(());
    }
    let content = peer.fetch_blob(b.hash, 0).await?;
    let info = store.put(content, Some(b.size)).await?;
    if info.hash != b.hash {
        return Err(PeerError::Invalid(format!(
            "blob {} arrived with another content",
            b.hash.short()
        ))
        .into());
    }
    Ok(())
}
