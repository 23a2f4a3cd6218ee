//! Contractors' operations applied exactly once, each recorded in the
//! ledger with its outcome: alone, or in runs sharing one transaction
//! (issue 12), where an operation refused, or one whose blob is not here
//! yet, ends the run without undoing the others.

use serde_json::json;

use crate::error::CoreError;
use crate::ports::Tx;
use crate::replication::NodeId;
use crate::replication::{AppliedOp, OpOutcome, OutboxItem};

use super::super::access::Fail;
use super::super::{Actor, InternalApp};
use super::scan::{Judgements, NotJudged};
use super::{Effect, blob_missing, refused};

/// Operations applied in one write transaction at most. A run holds the
/// database's write lock while it lasts (SQLite has one writer): a few
/// hundred small operations keep agents' writes waiting a fraction of a
/// second, and spare the drain one durable commit per operation, which
/// bounded it to ~80 operations per second (issue 12).
pub const APPLY_RUN: usize = 200;

/// How a run of operations ended.
enum Run {
    /// All of them, in one transaction, committed.
    Whole(Vec<AppliedOp>),
    /// Nothing was committed: the operation at this index must not share
    /// the transaction (it is refused, and its refusal must not undo the
    /// others' writes, nor keep its own half-done ones), or its blob is
    /// not here yet. The operations before it are applied without it.
    StopAt(usize),
}

impl InternalApp {
    /// Applies a sequence of operations from `edge`'s outbox, in order and
    /// exactly once each, in as few transactions as their outcomes allow:
    /// runs of up to [`APPLY_RUN`] operations share one, an operation
    /// refused is recorded alone (its half-done writes rolled back, the
    /// others' kept). The result holds one record per operation applied,
    /// in order. `Err` means "try again later" (storage failure, a blob
    /// missing, the antivirus unreachable): the operations recorded before
    /// it stay recorded, and applying them again returns their records.
    /// Contents are scanned first when the node has an antivirus (ADR
    /// 0010): an infected one is refused into quarantine.
    pub async fn apply_edge_ops(
        &self,
        edge: &NodeId,
        items: &[OutboxItem],
    ) -> Result<Vec<AppliedOp>, CoreError> {
        let mut done = Vec::with_capacity(items.len());
        let mut judged = Judgements::new();
        let mut rest = items;
        let mut run = rest.len().min(APPLY_RUN);
        while let Some(first) = rest.first() {
            // Each turn either applies operations or shortens the run.
            match self.apply_run(edge, &rest[..run], &mut judged).await? {
                Run::Whole(records) => {
                    done.extend(records);
                    rest = &rest[run..];
                    run = rest.len().min(APPLY_RUN);
                }
                Run::StopAt(0) => {
                    done.push(self.apply_one(edge, first, &mut judged).await?);
                    rest = &rest[1..];
                    run = rest.len().min(APPLY_RUN);
                }
                Run::StopAt(k) => run = k,
            }
        }
        Ok(done)
    }

    /// Applies `items` in one transaction if each of them applies (or was
    /// applied before); otherwise commits nothing and says where to stop.
    async fn apply_run(
        &self,
        edge: &NodeId,
        items: &[OutboxItem],
        judged: &mut Judgements,
    ) -> Result<Run, CoreError> {
        let limit = self.settings.max_upload_bytes;
        // Blobs are looked for before the transaction, not while holding it.
        for (i, item) in items.iter().enumerate() {
            if let Some(b) = item.op.blob()
                && b.size <= limit
                && self.blobs.size(&b.hash).await? != Some(b.size)
            {
                if i == 0 {
                    return Err(blob_missing(&b));
                }
                return Ok(Run::StopAt(i));
            }
        }
        // So are the verdicts of the antivirus: a scan takes a while.
        if let Err(NotJudged { at, error }) = self.judge(items, judged).await {
            if at == 0 {
                return Err(error);
            }
            return Ok(Run::StopAt(at));
        }
        let mut tx = self.write().await?;
        let mut records = Vec::with_capacity(items.len());
        // Those recorded by this run: logged once committed, and only them
        // (an operation delivered again was logged when it was applied).
        let mut fresh = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(done) = tx.applied_op(item.op_id).await? {
                records.push(done);
                continue;
            }
            fresh.push(records.len());
            let effect = if item.op.blob().is_some_and(|b| b.size > limit) {
                refused(CoreError::TooLarge { limit }.to_string())
            } else if let Some(refusal) = self.condemned(&mut tx, edge, item, judged).await? {
                refusal
            } else {
                match self.apply_in(&mut tx, edge, item).await {
                    Ok(effect) => effect,
                    Err(Fail::Error(CoreError::Internal(e))) => {
                        return Err(CoreError::Internal(e));
                    }
                    // Dropping `tx` rolls the run back, this one's writes
                    // with it; it is applied alone, after the others.
                    Err(_) => return Ok(Run::StopAt(i)),
                }
            };
            records.push(self.record_op(&mut tx, edge, item, effect).await?);
        }
        self.commit(tx).await?;
        for r in fresh.iter().filter_map(|&i| records.get(i)) {
            tracing::info!(op = %r.op_id, %edge, outcome = r.outcome.as_str(), "edge operation applied");
        }
        Ok(Run::Whole(records))
    }

    /// Applies one operation from `edge`'s outbox, exactly once, in its
    /// own transaction. The blobs it references must already be in the
    /// local store (the replication driver fetches them first). `Err`
    /// means "try again later" (storage failure, missing blob); a refusal
    /// is an `Ok` with `OpOutcome::Rejected`, kept in quarantine.
    pub async fn apply_edge_op(
        &self,
        edge: &NodeId,
        item: &OutboxItem,
    ) -> Result<AppliedOp, CoreError> {
        self.apply_one(edge, item, &mut Judgements::new()).await
    }

    /// [`InternalApp::apply_edge_op`], with the verdicts of the antivirus
    /// given so far.
    async fn apply_one(
        &self,
        edge: &NodeId,
        item: &OutboxItem,
        judged: &mut Judgements,
    ) -> Result<AppliedOp, CoreError> {
        if let Some(done) = self.read().await?.applied_op(item.op_id).await? {
            return Ok(done);
        }
        // The edge's own upload limit may be looser than this node's: the
        // content is not fetched, and the operation is refused.
        let limit = self.settings.max_upload_bytes;
        let oversize = item.op.blob().is_some_and(|b| b.size > limit);
        if !oversize
            && let Some(blob) = item.op.blob()
            && self.blobs.size(&blob.hash).await? != Some(blob.size)
        {
            return Err(blob_missing(&blob));
        }
        if let Err(NotJudged { error, .. }) = self.judge(std::slice::from_ref(item), judged).await {
            return Err(error);
        }
        let mut tx = self.write().await?;
        if let Some(done) = tx.applied_op(item.op_id).await? {
            return Ok(done);
        }
        let result = if oversize {
            Err(Fail::Error(CoreError::TooLarge { limit }))
        } else if let Some(refusal) = self.condemned(&mut tx, edge, item, judged).await? {
            Ok(refusal)
        } else {
            self.apply_in(&mut tx, edge, item).await
        };
        let effect = match result {
            Ok(effect) => effect,
            Err(Fail::Error(CoreError::Internal(e))) => return Err(CoreError::Internal(e)),
            // The refused operation's half-done writes are rolled back;
            // only its refusal is recorded.
            Err(Fail::Error(e)) => {
                drop(tx);
                tx = self.write().await?;
                refused(e.to_string())
            }
            Err(Fail::Denied { reason, .. }) => {
                drop(tx);
                tx = self.write().await?;
                refused(reason.to_owned())
            }
        };
        let record = self.record_op(&mut tx, edge, item, effect).await?;
        self.commit(tx).await?;
        tracing::info!(op = %item.op_id, %edge, outcome = record.outcome.as_str(), "edge operation applied");
        Ok(record)
    }

    /// Records what applying `item` did, in `tx`: the ledger row that makes
    /// it applied exactly once, and an audit entry unless it simply applied.
    async fn record_op(
        &self,
        tx: &mut Box<dyn Tx>,
        edge: &NodeId,
        item: &OutboxItem,
        effect: Effect,
    ) -> Result<AppliedOp, CoreError> {
        let record = AppliedOp {
            op_id: item.op_id,
            edge: edge.to_owned(),
            space: item.space,
            contractor: item.contractor,
            at: self.clock.now(),
            outcome: effect.outcome,
            detail: effect.detail,
            document: effect.document,
            op: item.op.clone(),
        };
        tx.save_applied_op(&record).await?;
        if record.outcome != OpOutcome::Applied {
            let actor = Actor::System;
            self.audit(
                tx,
                &actor,
                if record.outcome == OpOutcome::Rejected { "replication.rejected" } else { "replication.conflict" },
                Some(item.space),
                Some(item.op_id.to_string()),
                json!({ "edge": edge, "contractor": item.contractor.to_string(), "detail": record.detail }),
            )
            .await?;
        }
        Ok(record)
    }
}
