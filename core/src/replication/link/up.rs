//! The up direction: the edge's outbox, applied in runs. The operations that
//! arrived together (up to [`APPLY_RUN`]) have their content fetched a few
//! at a time, are applied in as few transactions as core allows, and are
//! acknowledged in one call. One at a time, with a commit and an
//! acknowledgement each, the drain stayed under 100 operations per second
//! (issue 12). A run that core cannot judge now (the antivirus unreachable,
//! ADR 0010) is tried again after a pause, the session staying up: the
//! operations wait on the edge, and the down direction goes on. The next
//! run's contents are fetched, and judged by the antivirus, while a run is
//! applied: a drain is then as long as the slower of the two, not their sum.

use futures::{FutureExt, Stream, StreamExt, TryStreamExt};

use super::{FIRST_BACKOFF, Link, LinkError, MAX_BACKOFF};
use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::ports::Timer;
use crate::replication::peer::{EdgePeer, IncomingOp, OpVerdict, PeerError};
use crate::replication::{NodeId, OutboxItem};
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
        let mut ready = Self::next_run(app, peer, &mut runs).await;
        while let Some(run) = ready {
            let run = run?;
            // The next run is read and prepared while this one is applied;
            // a failure to prepare it waits for its turn (after this one is
            // applied and acknowledged), so it never cuts an apply short.
            let applying = Self::apply_patiently(app, edge, peer, timer, run);
            let preparing = Self::next_run(app, peer, &mut runs).map(Ok);
            (_, ready) = futures::future::try_join(applying, preparing).await?;
        }
        Ok(())
    }

    /// The next run from the edge, prepared; `None` once the edge closed
    /// the stream.
    async fn next_run(
        app: &InternalApp,
        peer: &dyn EdgePeer,
        runs: &mut (impl Stream<Item = Vec<Result<IncomingOp, PeerError>>> + Unpin),
    ) -> Option<Result<Vec<IncomingOp>, LinkError>> {
        let run = runs.next().await?;
        Some(Self::prepare(app, peer, run).await)
    }

    /// A run as it came from the edge, its contents fetched and handed to
    /// the antivirus ahead of the apply.
    async fn prepare(
        app: &InternalApp,
        peer: &dyn EdgePeer,
        run: Vec<Result<IncomingOp, PeerError>>,
    ) -> Result<Vec<IncomingOp>, LinkError> {
        let run = run.into_iter().collect::<Result<Vec<_>, _>>()?;
        let items = run.iter().filter_map(|op| match op {
            IncomingOp::Op(item) => Some(item.as_ref()),
            IncomingOp::Invalid { .. } => None,
        });
        Self::fetch_contents(app, peer, items).await?;
        Ok(run)
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
        Self::fetch_contents(app, peer, items.iter()).await?;
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

impl Link {
    /// Pulls the contents `items` name into this node's store, a few at a
    /// time, each handed to the antivirus (when the node has one) as soon
    /// as it is here. Content over this node's limit is not fetched:
    /// applying its operation refuses it.
    async fn fetch_contents(
        app: &InternalApp,
        peer: &dyn EdgePeer,
        items: impl Iterator<Item = &OutboxItem>,
    ) -> Result<(), LinkError> {
        let limit = app.settings().max_upload_bytes;
        let wanted: Vec<BlobInfo> = items
            .filter_map(|i| i.op.blob())
            .filter(|b| b.size <= limit)
            .collect();
        futures::stream::iter(wanted)
            .map(|b| async move {
                // Content here already was fetched by an earlier call (this
                // run prepared ahead, or tried before): judged then, or left
                // to the apply.
                if fetch_blob(app, peer, b).await? {
                    app.judge_ahead(&b).await;
                }
                Ok::<_, LinkError>(())
            })
            .buffer_unordered(FETCHES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

/// Pulls a contractor's upload into this node's store, verifying its hash;
/// whether it had to (false: it was here).
async fn fetch_blob(
    app: &InternalApp,
    peer: &dyn EdgePeer,
    b: BlobInfo,
) -> Result<bool, LinkError> {
    let store = app.blobs();
    if store.size(&b.hash).await? == Some(b.size) {
        return Ok(false);
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
    Ok(true)
}
