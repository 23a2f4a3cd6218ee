//! The down direction: passes over the spaces shared with the edge. Each
//! pass purges what is no longer shared first (it frees room the sends may
//! need, and no space's failure may hold it back), then sends each space
//! that is due, then compares digests when their time has come, then
//! mirrors the spaces' locks on the edge when they changed, then asks the
//! edge's activity report when due.

use std::collections::HashSet;
use std::time::Duration;

use futures::FutureExt;
use time::OffsetDateTime;

use super::LinkError;
use super::health::Health;
use super::locks::LockMirroring;
use super::session::{Cursors, recorded};
use crate::ids::SpaceId;
use crate::model::Space;
use crate::ports::Timer;
use crate::replication::NodeId;
use crate::replication::peer::{EdgePeer, Purge, PurgeReceipt};
use crate::service::InternalApp;

/// When nothing moved, the down feed waits for the next commit of this
/// node; it also looks this often, for changes made by another process (a
/// CLI command beside the server).
const IDLE: Duration = Duration::from_secs(1);
/// Anti-entropy period.
pub(super) const DIGEST_EVERY: Duration = Duration::from_secs(60);

/// The down direction of one session, over the link's parts.
pub(crate) struct Down<'a> {
    pub(super) app: &'a InternalApp,
    pub(super) edge: &'a NodeId,
    timer: &'a dyn Timer,
    pub(super) health: &'a mut Health,
    pub(super) peer: &'a dyn EdgePeer,
    pub(crate) cursors: Cursors,
    /// When digests were last compared (`None`: not yet this session).
    pub(super) last_digest: Option<OffsetDateTime>,
    /// Spaces sent from scratch: their digests are compared as soon as the
    /// edge has caught up, not only at the next periodic check.
    pub(super) to_verify: HashSet<SpaceId>,
    /// What the edge mirrors of this node's locks (see `locks`).
    pub(super) mirror: LockMirroring,
    /// When the edge's activity report is next asked (`None`: at once;
    /// see `activity`).
    pub(super) activity_due: Option<OffsetDateTime>,
}

impl<'a> Down<'a> {
    pub(super) fn of(
        app: &'a InternalApp,
        edge: &'a NodeId,
        timer: &'a dyn Timer,
        health: &'a mut Health,
        peer: &'a dyn EdgePeer,
        cursors: Cursors,
    ) -> Self {
        Self {
            app,
            edge,
            timer,
            health,
            peer,
            cursors,
            last_digest: None,
            to_verify: HashSet::new(),
            mirror: LockMirroring::default(),
            activity_due: None,
        }
    }

    /// Passes until a failure of the link; between passes that moved
    /// nothing, waits for a commit of this node, a lock change (or
    /// [`IDLE`]).
    pub(super) async fn run(&mut self) -> Result<(), LinkError> {
        loop {
            // Read before looking: a commit made during this pass wakes the wait.
            let seen = self.app.changes().current();
            let seen_locks = self.app.lock_changes().current();
            if !self.pass().await? {
                futures::select_biased! {
                    () = self.app.changes().changed_since(seen).fuse() => {},
                    // A lock taken or released: the next pass mirrors it
                    // on the edge, without any feed work to do.
                    () = self.app.lock_changes().changed_since(seen_locks).fuse() => {},
                    () = self.timer.sleep(IDLE).fuse() => {},
                }
            }
        }
    }

    /// One pass: purges, sends, digests; records the link's state when
    /// something moved or a space's health changed. `true` when something
    /// was sent or purged.
    pub(crate) async fn pass(&mut self) -> Result<bool, LinkError> {
        let before = self.health.errors();
        let shared = self.app.spaces_shared_with(self.edge).await?;
        let mut moved = self.purge_unshared(&shared).await?;
        for s in &shared {
            moved |= self.send_if_due(s.id).await?;
        }
        // A space neither shared nor held by the edge any more is no one's
        // concern.
        let cursors = &self.cursors;
        self.health
            .failing
            .retain(|id, _| cursors.contains_key(id) || shared.iter().any(|s| s.id == *id));
        self.digests_if_due(&shared).await?;
        self.mirror_locks_if_due(&shared).await?;
        self.report_activity_if_due().await?;
        if moved || self.health.errors() != before {
            self.record().await?;
        }
        Ok(moved)
    }

    /// Sends `space` unless it is backing off; its failure is its own
    /// unless the link went down.
    async fn send_if_due(&mut self, space: SpaceId) -> Result<bool, LinkError> {
        if !self.health.due(space, self.app.now()) {
            return Ok(false);
        }
        if self.cursors.get(&space).copied().unwrap_or_default() == crate::ids::Revision::ZERO {
            self.to_verify.insert(space);
        }
        match self.send_space(space).await {
            Ok(sent) => {
                self.health.succeeded(self.edge, space);
                Ok(sent)
            }
            Err(e) if e.is_link_down() => Err(e),
            Err(e) => {
                self.health.failed(self.edge, space, &e, self.app.now());
                Ok(false)
            }
        }
    }

    /// Purges from the edge the spaces it holds that are no longer shared
    /// with it; `true` when one was. A purge the edge refuses for now
    /// (operations of the space still pending there) is asked again at the
    /// next pass; any other failure is the space's, backing off like a send.
    async fn purge_unshared(&mut self, shared: &[Space]) -> Result<bool, LinkError> {
        let gone: Vec<SpaceId> = self
            .cursors
            .keys()
            .filter(|id| !shared.iter().any(|s| s.id == **id))
            .copied()
            .collect();
        let mut purged = false;
        for space in gone {
            if !self.health.due(space, self.app.now()) {
                continue;
            }
            match self.purge(space).await {
                Ok(true) => {
                    self.cursors.remove(&space);
                    self.health.succeeded(self.edge, space);
                    purged = true;
                }
                Ok(false) => {}
                Err(e) if e.is_link_down() => return Err(e),
                Err(e) => self.health.failed(self.edge, space, &e, self.app.now()),
            }
        }
        if purged {
            self.health.retry_all_now(self.app.now());
        }
        Ok(purged)
    }

    /// Asks the edge to purge `space` and records its receipt; `false` when
    /// the edge refuses for now (operations of the space still pending).
    async fn purge(&mut self, space: SpaceId) -> Result<bool, LinkError> {
        let receipt = match self.peer.purge_space(space).await? {
            Purge::Done(receipt) => receipt,
            Purge::Pending => return Ok(false),
        };
        self.app
            .record_purge_receipt(self.edge, space, receipt_json(&receipt))
            .await?;
        tracing::info!(edge = %self.edge, %space, rows = receipt.rows, bytes = receipt.bytes, "space purged from the edge");
        Ok(true)
    }

    pub(super) async fn record(&self) -> Result<(), LinkError> {
        self.app
            .record_link_state(
                self.edge,
                recorded(&self.cursors),
                self.health.errors(),
                None,
                true,
            )
            .await?;
        Ok(())
    }
}

/// A purge receipt as the audit trail keeps it.
fn receipt_json(r: &PurgeReceipt) -> serde_json::Value {
    serde_json::json!({
        "rows_removed": r.rows,
        "blobs_removed": r.blobs,
        "bytes_removed": r.bytes,
        "edge_node_id": r.edge.as_str(),
        "at": i64::try_from(r.at.unix_timestamp_nanos()).unwrap_or(i64::MAX),
    })
}
