//! `Locks`: the lock use cases of the internal node (ADR 0007 §1), a
//! facade of its own built from an [`InternalApp`], so an edge (which
//! takes no lock: it only mirrors the internal node's, `edge::locks`)
//! cannot call them. The
//! API's check-out and check-in, the web pages' buttons and the WebDAV
//! lock system all go through it; the enforcement on writes lives with
//! the writes (`cover`), not here.
//!
//! Rules: locking needs the right to write what is locked (a reader
//! cannot); a resource the actor cannot see is `NotFound`, as everywhere;
//! only the holder refreshes or releases a lock by its token; managers
//! and administrators force one open. Locking, releasing and forcing are
//! audited; a refresh is not (WebDAV clients refresh every few minutes).
//! Lock transactions commit without waking the change signal: nothing
//! in the change feed moved; they wake the lock signal instead, on which
//! the replication link sends the edge the spaces' locks.

use serde_json::json;
use time::Duration;

use crate::error::CoreError;
use crate::ids::{DocumentId, PrincipalId};
use crate::locks::{
    Lock, LockDepth, LockRequest, LockScope, LockSummary, LockToken, MAX_OWNER_INFO,
    granted_timeout,
};
use crate::model::{Document, Resource};
use crate::ports::Tx;
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::{Actor, InternalApp, NodeRole, Passerelle};

pub(crate) mod cover;
mod listing;

pub use listing::ListingLocks;

/// The lock covering a document, as a page or the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockView {
    /// On what, held by whom (with their display name), until when: what
    /// both node roles know of it.
    pub summary: LockSummary,
    /// The lock itself, token and note included, on the node that holds
    /// it; `None` on an edge, whose mirror carries neither (ADR 0007,
    /// "Locks seen on the edge").
    pub lock: Option<Lock>,
}

/// What a lock use case resolved of its resource.
struct Target {
    access: Access,
    /// The resource, then its folders and its space (see `cover`).
    chain: Vec<Resource>,
    /// The creator of a document or folder (for the "own" rights).
    created_by: Option<PrincipalId>,
}

/// The lock use cases. Cheap to clone; build one per request if need be.
#[derive(Clone, Debug)]
pub struct Locks {
    app: InternalApp,
}

impl InternalApp {
    /// The lock use cases of this node.
    pub fn locks(&self) -> Locks {
        Locks::new(self)
    }

    /// The live locks of `space` with their holders' names, oldest first:
    /// the snapshot the replication link sends the edge (ADR 0007, "Locks
    /// seen on the edge"). Reads only.
    pub(crate) async fn lock_snapshot(
        &self,
        space: crate::ids::SpaceId,
    ) -> Result<Vec<LockSummary>, CoreError> {
        let mut tx = self.read().await?;
        let now = self.now();
        let mut out = Vec::new();
        for lock in tx.space_locks(space).await? {
            if lock.is_live(now) {
                let name = self.holder_name(&mut tx, lock.owner).await?;
                out.push(lock.summary(name));
            }
        }
        Ok(out)
    }
}

impl Passerelle {
    /// The lock a document's page shows: the unexpired one covering it,
    /// an exclusive one first (it is the one that refuses writes), with
    /// its holder's name. On the internal node, from its own locks; on an
    /// edge, from the mirror of the internal node's.
    pub(crate) async fn lock_view(
        &self,
        tx: &mut Box<dyn Tx>,
        d: &Document,
    ) -> Outcome<Option<LockView>> {
        let chain = self.document_chain(tx, d).await?;
        if self.role == NodeRole::Edge {
            let mut covering = self.mirror_covering(tx, &chain).await?;
            covering.sort_by_key(|l| l.scope != LockScope::Exclusive);
            return Ok(covering.into_iter().next().map(|summary| LockView {
                summary,
                lock: None,
            }));
        }
        let mut covering = self.covering(tx, &chain).await?;
        covering.sort_by_key(|l| l.scope != LockScope::Exclusive);
        let Some(lock) = covering.into_iter().next() else {
            return Ok(None);
        };
        let holder_name = self.holder_name(tx, lock.owner).await?;
        Ok(Some(LockView {
            summary: lock.summary(holder_name),
            lock: Some(lock),
        }))
    }

    /// A holder's display name, or their id when the account is gone.
    pub(crate) async fn holder_name(
        &self,
        tx: &mut Box<dyn Tx>,
        holder: PrincipalId,
    ) -> Result<String, CoreError> {
        Ok(match tx.principal(holder).await? {
            Some(p) => p.display_name,
            None => holder.to_string(),
        })
    }
}

/// The resource's kind and id, as audit targets and details name it.
fn describe(r: Resource) -> (&'static str, String) {
    match r {
        Resource::Space(id) => ("space", id.to_string()),
        Resource::Folder(id) => ("folder", id.to_string()),
        Resource::Document(id) => ("document", id.to_string()),
    }
}

/// Trims what a client said of itself; empty is none; too long or with
/// control characters (other than line breaks and tabs) is refused.
fn owner_info(raw: Option<String>) -> Result<Option<String>, CoreError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.trim();
    if text.chars().count() > MAX_OWNER_INFO
        || text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(CoreError::invalid(
            "invalid_lock_owner",
            format!(
                "a lock's owner note has at most {MAX_OWNER_INFO} characters, without control characters"
            ),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

impl Locks {
    pub fn new(app: &InternalApp) -> Self {
        Self { app: app.clone() }
    }

    /// The resource as the actor may use it; absent, trashed or invisible
    /// are all "`what` not found".
    async fn target(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        resource: Resource,
        what: &'static str,
    ) -> Outcome<Target> {
        let app = &self.app;
        let (space, created_by, chain) = match resource {
            Resource::Space(id) => (id, None, vec![resource]),
            Resource::Folder(id) => match tx.folder(id).await? {
                Some(f) if f.trashed.is_none() && !f.purged => {
                    let chain = app.folder_chain(tx, f.space, Some(id)).await?;
                    (f.space, Some(f.created_by), chain)
                }
                _ => return Err(CoreError::NotFound(what).into()),
            },
            Resource::Document(id) => match tx.document(id).await? {
                Some(d) if d.trashed.is_none() && !d.purged => {
                    let chain = app.document_chain(tx, &d).await?;
                    (d.space, Some(d.created_by), chain)
                }
                _ => return Err(CoreError::NotFound(what).into()),
            },
        };
        let access = app.access_as(tx, actor, space, what).await?;
        Ok(Target {
            access,
            chain,
            created_by,
        })
    }

    /// The live lock named by `token`, on a resource the actor sees, held
    /// by the actor; the target it is on.
    async fn held(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        token: LockToken,
    ) -> Outcome<(Lock, Target)> {
        let lock = match tx.lock_by_token(token).await? {
            Some(l) if l.is_live(self.app.now()) => l,
            _ => return Err(CoreError::NotFound("lock").into()),
        };
        let target = self.target(tx, actor, lock.resource, "lock").await?;
        if actor.id() != Some(lock.owner) {
            return Err(CoreError::conflict(
                "not_lock_holder",
                "this lock is held by someone else: only its holder may refresh or release it",
            )
            .into());
        }
        Ok((lock, target))
    }

    /// Locks `resource` for the actor. Needs the right to write it
    /// (documents: edit, "own" judged on the document; folders and the
    /// space: create), in a space that is not archived. Refused with
    /// `Locked` when an unexpired lock conflicts: one covering the
    /// resource, or with depth infinity one below it, unless both are
    /// shared. The timeout is bounded (`locks::granted_timeout`).
    #[tracing::instrument(skip_all, fields(?resource))]
    pub async fn lock(
        &self,
        actor: &Actor,
        resource: Resource,
        request: LockRequest,
    ) -> Result<Lock, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let info = owner_info(request.owner_info.clone())?;
            let mut tx = app.write().await?;
            let (kind, id) = describe(resource);
            let t = self.target(&mut tx, actor, resource, kind).await?;
            let action = match resource {
                Resource::Document(_) => Action::Edit {
                    own: t.created_by.is_some_and(|c| Access::owns(actor, c)),
                },
                _ => Action::Create,
            };
            t.access.require(action, || id.clone())?;
            t.access.require_writable()?;
            let owner = actor.principal()?.id;
            if let Some(l) = self.clash(&mut tx, &t, resource, &request).await? {
                return Err(Fail::Error(app.locked(&mut tx, &l).await?));
            }
            let now = app.now();
            let lock = Lock {
                token: LockToken::new(),
                resource,
                space: t.access.space.id,
                owner,
                owner_info: info,
                scope: request.scope,
                depth: request.depth,
                created_at: now,
                refreshed_at: now,
                expires_at: now + granted_timeout(request.timeout),
            };
            tx.save_lock(&lock).await?;
            app.audit(
                &mut tx,
                actor,
                "lock.create",
                Some(lock.space),
                Some(id),
                json!({
                    "resource": kind,
                    "scope": lock.scope.as_str(),
                    "depth": lock.depth.as_str(),
                    "expires_at": lock.expires_at.unix_timestamp(),
                    "owner_info": lock.owner_info,
                }),
            )
            .await?;
            app.commit_locks(tx).await?;
            tracing::info!(until = %lock.expires_at, "lock taken");
            Ok::<_, Fail>(lock)
        })
        .await
    }

    /// The unexpired lock a new one would conflict with: one covering the
    /// resource or, for depth infinity, one below it; unless both are
    /// shared.
    async fn clash(
        &self,
        tx: &mut Box<dyn Tx>,
        t: &Target,
        resource: Resource,
        request: &LockRequest,
    ) -> Outcome<Option<Lock>> {
        let mut existing = self.app.covering(tx, &t.chain).await?;
        if request.depth == LockDepth::Infinity {
            existing.extend(self.app.below(tx, t.access.space.id, resource).await?);
        }
        Ok(existing
            .into_iter()
            .find(|l| request.scope == LockScope::Exclusive || l.scope == LockScope::Exclusive))
    }

    /// Extends the holder's live lock to `timeout` from now (bounded, the
    /// default when `None`). An unknown or expired token, or one on a
    /// resource the actor cannot see, is `NotFound("lock")`; another's
    /// lock is `Conflict` (`not_lock_holder`).
    pub async fn refresh(
        &self,
        actor: &Actor,
        token: LockToken,
        timeout: Option<Duration>,
    ) -> Result<Lock, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let (mut lock, _) = self.held(&mut tx, actor, token).await?;
            let now = app.now();
            lock.refreshed_at = now;
            lock.expires_at = now + granted_timeout(timeout);
            tx.save_lock(&lock).await?;
            app.commit_locks(tx).await?;
            Ok::<_, Fail>(lock)
        })
        .await
    }

    /// Releases the holder's lock. Errors as [`Locks::refresh`].
    pub async fn unlock(&self, actor: &Actor, token: LockToken) -> Result<(), CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let (lock, _) = self.held(&mut tx, actor, token).await?;
            self.release(&mut tx, actor, &lock, "lock.release").await?;
            app.commit_locks(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Deletes `lock` and audits it under `action`, naming its holder.
    async fn release(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        lock: &Lock,
        action: &'static str,
    ) -> Outcome<()> {
        tx.delete_lock(lock.token).await?;
        let (kind, id) = describe(lock.resource);
        let holder_name = tx.principal(lock.owner).await?.map(|p| p.display_name);
        self.app
            .audit(
                tx,
                actor,
                action,
                Some(lock.space),
                Some(id),
                json!({
                    "resource": kind,
                    "holder": lock.owner.to_string(),
                    "holder_name": holder_name,
                    "owner_info": lock.owner_info,
                    "expires_at": lock.expires_at.unix_timestamp(),
                }),
            )
            .await?;
        Ok(())
    }

    /// Releases every unexpired lock covering `resource`, whoever holds
    /// it: what a page shows as "locked by…" is what goes. Space managers
    /// and administrators only (others: `Forbidden`, audited as a denial);
    /// each lock released is audited with its previous holder. Returns the
    /// locks released (none: nothing was locked).
    pub async fn force_unlock(
        &self,
        actor: &Actor,
        resource: Resource,
    ) -> Result<Vec<Lock>, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let (kind, id) = describe(resource);
            let t = self.target(&mut tx, actor, resource, kind).await?;
            t.access.require(Action::Manage, || id.clone())?;
            let covering = app.covering(&mut tx, &t.chain).await?;
            for lock in &covering {
                self.release(&mut tx, actor, lock, "lock.force_release")
                    .await?;
            }
            app.commit_locks(tx).await?;
            Ok::<_, Fail>(covering)
        })
        .await
    }

    /// The unexpired locks covering `resource` (on it, or with depth
    /// infinity on a folder above it or its space), oldest first. Anyone
    /// who may read the resource may see them.
    pub async fn locks_on(
        &self,
        actor: &Actor,
        resource: Resource,
    ) -> Result<Vec<Lock>, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.read().await?;
            let (kind, _) = describe(resource);
            let t = self.target(&mut tx, actor, resource, kind).await?;
            app.covering(&mut tx, &t.chain).await
        })
        .await
    }

    /// The unexpired locks strictly below `resource` (in a folder's
    /// subtree, in a space), oldest first; none below a document.
    pub async fn locks_below(
        &self,
        actor: &Actor,
        resource: Resource,
    ) -> Result<Vec<Lock>, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.read().await?;
            let (kind, _) = describe(resource);
            let t = self.target(&mut tx, actor, resource, kind).await?;
            app.below(&mut tx, t.access.space.id, resource).await
        })
        .await
    }

    /// Releases the actor's own locks on `resource` (expired or not) and
    /// its unexpired ones below: what a WebDAV lock system does once a
    /// DELETE or MOVE of the resource succeeded (a lock of someone else
    /// there would have refused that write, and stays). The resource may
    /// be in the trash already; a purged or absent one, or one in a space
    /// the actor cannot see, is `NotFound`. Returns how many went; none is
    /// not an error.
    pub async fn release_tree(&self, actor: &Actor, resource: Resource) -> Result<u64, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let space = self.space_of_any(&mut tx, resource).await?;
            app.access_as(&mut tx, actor, space, describe(resource).0)
                .await?;
            let mut mine: Vec<Lock> = tx
                .locks_of(&[resource])
                .await?
                .into_iter()
                .chain(app.below(&mut tx, space, resource).await?)
                .filter(|l| actor.id() == Some(l.owner))
                .collect();
            mine.dedup_by_key(|l| l.token);
            for lock in &mine {
                self.release(&mut tx, actor, lock, "lock.release").await?;
            }
            app.commit_locks(tx).await?;
            Ok::<_, Fail>(mine.len() as u64)
        })
        .await
    }

    /// The space of a resource that may be in the trash already (after a
    /// WebDAV DELETE); purged or absent is `NotFound`.
    async fn space_of_any(
        &self,
        tx: &mut Box<dyn Tx>,
        resource: Resource,
    ) -> Outcome<crate::ids::SpaceId> {
        let (kind, _) = describe(resource);
        let space = match resource {
            Resource::Space(id) => Some(id),
            Resource::Folder(id) => tx.folder(id).await?.filter(|f| !f.purged).map(|f| f.space),
            Resource::Document(id) => tx
                .document(id)
                .await?
                .filter(|d| !d.purged)
                .map(|d| d.space),
        };
        space.ok_or_else(|| CoreError::NotFound(kind).into())
    }

    /// The API's check-out: an exclusive lock on one document, `timeout`
    /// or the default, with the holder's note. Checking out again what
    /// one holds already refreshes that lock (to `timeout`, its note kept),
    /// so a client may repeat it; anyone else's lock is `Locked`.
    pub async fn check_out(
        &self,
        actor: &Actor,
        document: DocumentId,
        timeout: Option<Duration>,
        note: Option<String>,
    ) -> Result<Lock, CoreError> {
        let resource = Resource::Document(document);
        let request = LockRequest::check_out(timeout, note);
        match self.lock(actor, resource, request).await {
            Err(e @ CoreError::Locked { holder, .. }) if actor.id() == Some(holder) => {
                let mine = self
                    .locks_on(actor, resource)
                    .await?
                    .into_iter()
                    .find(|l| l.resource == resource && actor.id() == Some(l.owner));
                match mine {
                    Some(l) => self.refresh(actor, l.token, timeout).await,
                    // The actor's lock is a folder's above: not this
                    // document's to extend.
                    None => Err(e),
                }
            }
            other => other,
        }
    }

    /// The API's check-in: releases the actor's lock on the document
    /// itself. `NotFound("lock")` when the document is not locked;
    /// `Conflict` (`not_lock_holder`) when someone else holds its lock.
    pub async fn check_in(&self, actor: &Actor, document: DocumentId) -> Result<(), CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let resource = Resource::Document(document);
            self.target(&mut tx, actor, resource, "document").await?;
            let now = app.now();
            let on_it: Vec<Lock> = tx
                .locks_of(&[resource])
                .await?
                .into_iter()
                .filter(|l| l.is_live(now))
                .collect();
            let Some(lock) = on_it.iter().find(|l| actor.id() == Some(l.owner)) else {
                if on_it.is_empty() {
                    return Err(CoreError::NotFound("lock").into());
                }
                return Err(CoreError::conflict(
                    "not_lock_holder",
                    "this document is checked out by someone else",
                )
                .into());
            };
            self.release(&mut tx, actor, lock, "lock.release").await?;
            app.commit_locks(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Deletes the expired lock rows (they already excluded nothing; this
    /// keeps the table small). Returns how many went.
    pub async fn sweep(&self) -> Result<u64, CoreError> {
        let mut tx = self.app.write().await?;
        let n = tx.delete_expired_locks(self.app.now()).await?;
        tx.commit().await?;
        Ok(n)
    }
}
