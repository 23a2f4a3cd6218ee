//! What a lock covers, and the one check every write runs (ADR 0007 §1):
//! inside the write's own transaction, no unexpired lock of another
//! principal may cover what it changes, nor, for what it adds, the folder
//! it adds to with depth infinity.
//!
//! A lock covers its resource, and with depth infinity everything below
//! it. So what covers a document is found among the locks on the document,
//! its folders up to the root, and its space: one lookup of a handful of
//! resources, whatever the number of locks.

use std::collections::HashSet;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::locks::{Lock, LockDepth, LockScope};
use crate::model::{Document, Resource};
use crate::ports::Tx;

use super::super::access::{Fail, Outcome};
use super::super::folders::descendants;
use super::super::{Actor, Passerelle};

/// Deepest folder chain followed up to the root: far beyond any real tree;
/// it only stops a corrupt `parent` cycle from looping for ever.
const MAX_DEPTH: usize = 1024;

/// Whether a use case that adds something (a document, a folder, a move)
/// respects the depth-infinity locks of the folder it adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inside {
    /// Everything the nodes' users do.
    Respect,
    /// A contractor's new document or folder queued on an edge before it
    /// could know of the lock: it overwrites nothing, so it lands rather
    /// than being lost (ADR 0007 §1, "nothing lost").
    Ignore,
}

/// The lock among `covering` that keeps `actor` from writing, if any: one
/// of another principal, unless it is shared and the actor holds one of
/// the covering locks too (shared locks let every holder write, as in
/// RFC 4918).
pub(crate) fn blocking(covering: &[Lock], actor: Option<PrincipalId>) -> Option<&Lock> {
    let holds_one = covering.iter().any(|l| Some(l.owner) == actor);
    covering
        .iter()
        .find(|l| Some(l.owner) != actor && (l.scope == LockScope::Exclusive || !holds_one))
}

impl Passerelle {
    /// `folder` and its ancestors, nearest first, then the space.
    pub(crate) async fn folder_chain(
        &self,
        tx: &mut Box<dyn Tx>,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Outcome<Vec<Resource>> {
        let mut chain = Vec::new();
        let mut cursor = folder;
        while let Some(f) = cursor {
            if chain.len() >= MAX_DEPTH {
                return Err(CoreError::Internal("folder chain too deep or cyclic".into()).into());
            }
            chain.push(Resource::Folder(f));
            cursor = tx.folder(f).await?.and_then(|x| x.parent);
        }
        chain.push(Resource::Space(space));
        Ok(chain)
    }

    /// A document, then its folders and space.
    pub(crate) async fn document_chain(
        &self,
        tx: &mut Box<dyn Tx>,
        d: &Document,
    ) -> Outcome<Vec<Resource>> {
        let mut chain = vec![Resource::Document(d.id)];
        chain.extend(self.folder_chain(tx, d.space, d.folder).await?);
        Ok(chain)
    }

    /// The unexpired locks covering `chain[0]`, given its chain up to the
    /// space: those on it, and those with depth infinity on an ancestor.
    pub(crate) async fn covering(
        &self,
        tx: &mut Box<dyn Tx>,
        chain: &[Resource],
    ) -> Outcome<Vec<Lock>> {
        let now = self.clock.now();
        let Some(first) = chain.first() else {
            return Ok(Vec::new());
        };
        Ok(tx
            .locks_of(chain)
            .await?
            .into_iter()
            .filter(|l| l.is_live(now) && l.depth.covers(l.resource, *first))
            .collect())
    }

    /// The unexpired locks strictly below `resource` of `space`.
    pub(crate) async fn below(
        &self,
        tx: &mut Box<dyn Tx>,
        space: SpaceId,
        resource: Resource,
    ) -> Outcome<Vec<Lock>> {
        let now = self.clock.now();
        let live: Vec<Lock> = tx
            .space_locks(space)
            .await?
            .into_iter()
            .filter(|l| l.is_live(now) && l.resource != resource)
            .collect();
        let root = match resource {
            Resource::Document(_) => return Ok(Vec::new()),
            Resource::Space(_) => return Ok(live),
            Resource::Folder(f) => f,
        };
        if live.is_empty() {
            return Ok(live);
        }
        let all = tx.all_folders(space).await?;
        let under: HashSet<FolderId> = descendants(&all, root);
        let mut out = Vec::new();
        for l in live {
            let inside = match l.resource {
                Resource::Folder(f) => under.contains(&f),
                Resource::Document(d) => self.document_in(tx, d, &under).await?,
                Resource::Space(_) => false,
            };
            if inside {
                out.push(l);
            }
        }
        Ok(out)
    }

    async fn document_in(
        &self,
        tx: &mut Box<dyn Tx>,
        id: DocumentId,
        folders: &HashSet<FolderId>,
    ) -> Outcome<bool> {
        Ok(tx
            .document(id)
            .await?
            .and_then(|d| d.folder)
            .is_some_and(|f| folders.contains(&f)))
    }

    /// Refuses with `Locked` when a lock of another principal is among
    /// `locks` (see [`blocking`]).
    pub(crate) async fn refuse_if_blocked(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        locks: &[Lock],
    ) -> Outcome<()> {
        match blocking(locks, actor.id()) {
            None => Ok(()),
            Some(l) => Err(Fail::Error(self.locked(tx, l).await?)),
        }
    }

    /// The `Locked` error for `lock`, naming its holder.
    pub(crate) async fn locked(
        &self,
        tx: &mut Box<dyn Tx>,
        lock: &Lock,
    ) -> Result<CoreError, CoreError> {
        let holder_name = self.holder_name(tx, lock.owner).await?;
        Ok(CoreError::Locked {
            holder: lock.owner,
            holder_name,
            until: lock.expires_at,
        })
    }

    /// The check before changing `chain[0]` (its content, metadata, name
    /// or place, or trashing it): no lock of another principal covers it.
    pub(crate) async fn ensure_unlocked(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        chain: &[Resource],
    ) -> Outcome<()> {
        let covering = self.covering(tx, chain).await?;
        self.refuse_if_blocked(tx, actor, &covering).await
    }

    /// [`Passerelle::ensure_unlocked`] for a document.
    pub(crate) async fn ensure_document_unlocked(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        d: &Document,
    ) -> Outcome<()> {
        let chain = self.document_chain(tx, d).await?;
        self.ensure_unlocked(tx, actor, &chain).await
    }

    /// The check before adding to `folder` (the root: `None`): no lock of
    /// another principal with depth infinity covers it. A depth-0 lock on
    /// the folder protects the folder itself, not what is put in it.
    pub(crate) async fn ensure_open_inside(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        inside: Inside,
    ) -> Outcome<()> {
        if inside == Inside::Ignore {
            return Ok(());
        }
        let chain = self.folder_chain(tx, space, folder).await?;
        let deep: Vec<Lock> = self
            .covering(tx, &chain)
            .await?
            .into_iter()
            .filter(|l| l.depth == LockDepth::Infinity)
            .collect();
        self.refuse_if_blocked(tx, actor, &deep).await
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::locks::LockToken;

    fn lock(owner: PrincipalId, scope: LockScope) -> Lock {
        let at = datetime!(2026-12-06 9:00 UTC);
        Lock {
            token: LockToken::new(),
            resource: Resource::Document(DocumentId::new()),
            space: SpaceId::new(),
            owner,
            owner_info: None,
            scope,
            depth: LockDepth::Zero,
            created_at: at,
            refreshed_at: at,
            expires_at: at + time::Duration::hours(1),
        }
    }

    #[test]
    fn the_holder_of_an_exclusive_lock_passes_and_everyone_else_is_blocked() {
        let (a, b) = (PrincipalId::new(), PrincipalId::new());
        let locks = [lock(a, LockScope::Exclusive)];
        assert!(blocking(&locks, Some(a)).is_none());
        assert!(blocking(&locks, Some(b)).is_some());
        assert!(blocking(&locks, None).is_some(), "the CLI holds no lock");
        assert!(blocking(&[], Some(b)).is_none());
    }

    #[test]
    fn any_holder_of_a_shared_lock_writes_but_not_a_stranger() {
        let (a, b, c) = (PrincipalId::new(), PrincipalId::new(), PrincipalId::new());
        let locks = [lock(a, LockScope::Shared), lock(b, LockScope::Shared)];
        assert!(blocking(&locks, Some(a)).is_none());
        assert!(blocking(&locks, Some(b)).is_none());
        assert!(blocking(&locks, Some(c)).is_some());
    }
}
