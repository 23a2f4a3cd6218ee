//! Locks seen on the edge (ADR 0007, "Locks seen on the edge"): the
//! internal node's snapshot of a space's live locks replaces the edge's
//! mirror of it; a contractor's write on what a live mirrored lock covers
//! is refused here with `Locked`, before any content is stored or any
//! operation queued; and the mirror answers what covers a resource, under
//! the actor's rights (pages, API, the WebDAV lock discovery).
//!
//! The internal node judges every operation again when it arrives (a
//! conflict copy when a lock came first): the mirror may be late, so it
//! only spares contractors a late surprise, it never decides alone.

use crate::error::CoreError;
use crate::ids::{FolderId, SpaceId};
use crate::locks::{LockDepth, LockSummary};
use crate::model::{Document, Resource};
use crate::ports::Tx;

use super::super::access::{Fail, Outcome};
use super::super::{Actor, EdgeApp, Passerelle};

impl Passerelle {
    /// The live mirrored locks covering `chain[0]`, given its chain up to
    /// the space: those on it, and those with depth infinity above it.
    pub(crate) async fn mirror_covering(
        &self,
        tx: &mut Box<dyn Tx>,
        chain: &[Resource],
    ) -> Outcome<Vec<LockSummary>> {
        let now = self.clock.now();
        let Some(first) = chain.first() else {
            return Ok(Vec::new());
        };
        Ok(tx
            .mirrored_locks_of(chain)
            .await?
            .into_iter()
            .filter(|l| l.is_live(now) && l.depth.covers(l.resource, *first))
            .collect())
    }
}

/// The `Locked` error for a mirrored lock, naming its holder as the
/// internal node would.
fn locked(l: &LockSummary) -> CoreError {
    CoreError::Locked {
        holder: l.holder,
        holder_name: l.holder_name.clone(),
        until: l.until,
    }
}

impl EdgeApp {
    /// Replaces this edge's mirror of `space`'s locks with the internal
    /// node's snapshot (replication). Idempotent. The space must be held
    /// here (`NotFound("space")` otherwise: its first batch comes first);
    /// a lock of another space is `Invalid`. Commits without waking the
    /// change signal: the outbox watch has nothing new to read. Returns
    /// how many locks the mirror holds now.
    #[tracing::instrument(skip_all, fields(%space))]
    pub async fn mirror_locks(
        &self,
        space: SpaceId,
        locks: Vec<LockSummary>,
    ) -> Result<usize, CoreError> {
        if let Some(other) = locks.iter().find(|l| l.space != space) {
            return Err(CoreError::invalid(
                "lock_of_another_space",
                format!(
                    "a snapshot of space {space} holds a lock of space {}",
                    other.space
                ),
            ));
        }
        let mut tx = self.write().await?;
        if tx.space(space).await?.is_none() {
            return Err(CoreError::NotFound("space"));
        }
        tx.replace_lock_mirror(space, &locks).await?;
        tx.commit().await?;
        tracing::debug!(locks = locks.len(), "lock mirror replaced");
        Ok(locks.len())
    }

    /// The live locks of the internal node covering `resource` (on it, or
    /// with depth infinity on a folder above it or its space), as this
    /// edge mirrors them, oldest first. Anyone who may read the resource
    /// may see them; a resource absent, trashed or in a space the actor
    /// cannot see is `NotFound`, as everywhere.
    pub async fn mirrored_locks_on(
        &self,
        actor: &Actor,
        resource: Resource,
    ) -> Result<Vec<LockSummary>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let (space, chain, what) = match resource {
                Resource::Space(id) => (id, vec![resource], "space"),
                Resource::Folder(id) => match tx.folder(id).await? {
                    Some(f) if f.trashed.is_none() && !f.purged => {
                        let chain = self.folder_chain(&mut tx, f.space, Some(id)).await?;
                        (f.space, chain, "folder")
                    }
                    _ => return Err(CoreError::NotFound("folder").into()),
                },
                Resource::Document(id) => match tx.document(id).await? {
                    Some(d) if d.trashed.is_none() && !d.purged => {
                        let chain = self.document_chain(&mut tx, &d).await?;
                        (d.space, chain, "document")
                    }
                    _ => return Err(CoreError::NotFound("document").into()),
                },
            };
            self.access_as(&mut tx, actor, space, what).await?;
            self.mirror_covering(&mut tx, &chain).await
        })
        .await
    }

    /// Refuses with `Locked` a contractor's change of `d` (its content,
    /// name, place, metadata, or its deletion) while a live mirrored lock
    /// of someone else covers it.
    pub(super) async fn ensure_not_mirror_locked(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        d: &Document,
    ) -> Outcome<()> {
        let chain = self.document_chain(tx, d).await?;
        let covering = self.mirror_covering(tx, &chain).await?;
        refuse_unless_held(actor, &covering)
    }

    /// Refuses with `Locked` a move into `folder` (`None`: the root) while
    /// a live mirrored lock of someone else with depth infinity covers it,
    /// as the internal node refuses it. New documents and folders are not
    /// checked: the internal node lets them land under a lock.
    pub(super) async fn ensure_mirror_open_inside(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Outcome<()> {
        let chain = self.folder_chain(tx, space, folder).await?;
        let deep: Vec<LockSummary> = self
            .mirror_covering(tx, &chain)
            .await?
            .into_iter()
            .filter(|l| l.depth == LockDepth::Infinity)
            .collect();
        refuse_unless_held(actor, &deep)
    }
}

/// The first lock among `covering` held by someone else, as `Locked`.
/// Mirrored locks are the internal node's, held by agents: a contractor
/// holds none, so any covering lock refuses (an agent acting on an edge,
/// were one allowed to, would pass their own).
fn refuse_unless_held(actor: &Actor, covering: &[LockSummary]) -> Outcome<()> {
    match covering.iter().find(|l| actor.id() != Some(l.holder)) {
        None => Ok(()),
        Some(l) => Err(Fail::Error(locked(l))),
    }
}
