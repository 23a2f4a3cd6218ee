//! `MemRepository`: the in-memory fake of the `Repository` port, for service
//! tests. It passes the same contract suite as the SQL adapter (the tests of
//! `passerelle-sql`), so it keeps the same promises: upserts by primary key,
//! the same unique constraints (login, slug, token hash, live name in a
//! folder, audit sequence number, invitation secret hash, outbox `op_id`)
//! reported as `Conflict`, the same foreign keys, the same list orders (the
//! change feed included), writes refused in a read transaction, and
//! rollback when a transaction is dropped.
//!
//! The tables live in [`State`]; its methods are grouped like the SQL
//! adapter's queries: `accounts` (node state, audit, principals, sessions,
//! tokens), `content` (spaces, memberships, folders, documents, versions),
//! `replication` (invitations, ledger, edge states, cursors, outbox, purge)
//! and `feed` (the change feed). The `Tx` implementation here only routes.
//! `extractions` implements the `ExtractionLog` port on the same store,
//! `properties` the `PropertyStore` port, `locks` the transaction's
//! `LockStore` part, `lock_mirror` its `LockMirror` part, `flows` its
//! `IngestionLedger` part, `links` its `LinkStore` part, `notify` its
//! `NotificationStore` part; `rows` has the
//! helpers they share (a foreign key's error, a page of a list).
//!
//! Concurrency: the committed state is an immutable `Arc<State>` swapped on
//! commit. A read transaction holds a snapshot of it (a pointer copy) and
//! never waits for writers; a write transaction holds the writer lock for its
//! whole life and works on a private copy, written back on commit.

mod accounts;
mod content;
mod extractions;
mod feed;
mod flows;
mod links;
mod lock_mirror;
mod locks;
mod notify;
mod properties;
mod replication;
mod rows;
mod state;

use rows::{missing, paged};
use state::State;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_lock::{Mutex as AsyncMutex, MutexGuardArc};
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::doctype::DocumentType;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::model::{
    ApiToken, AuditEntry, Document, Folder, Language, Membership, Page, Paged, Principal, Session,
    Space, Version,
};
use crate::names::Login;
use crate::ports::{
    AuditFilter, DocumentQuery, FeedBacklog, QuarantineCount, RepoError, Repository, SpaceWithRole,
    Tx, TxMode,
};
use crate::replication::NodeId;
use crate::replication::{AppliedOp, EdgeStatus, Feed, Invitation, OpOutcome, OutboxItem};
use crate::second_factor::SecondFactor;

use state::ResourceKey;

/// The in-memory repository. Cheap to create; each instance is an empty,
/// independent store.
#[derive(Default)]
pub struct MemRepository {
    /// Last committed state; replaced as a whole by each commit.
    committed: Arc<Mutex<Arc<State>>>,
    /// Serialises write transactions (gapless revisions, linear audit chain).
    writer: Arc<AsyncMutex<()>>,
}

impl MemRepository {
    pub fn new() -> Self {
        Self::default()
    }

    fn snapshot(&self) -> Arc<State> {
        Arc::clone(&lock(&self.committed))
    }
}

impl fmt::Debug for MemRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.snapshot();
        f.debug_struct("MemRepository")
            .field("revision", &s.revision)
            .field("principals", &s.principals.len())
            .field("spaces", &s.spaces.len())
            .field("documents", &s.documents.len())
            .field("audit_entries", &s.audit.len())
            .finish()
    }
}

/// The std mutex is only held to copy or swap a pointer, never across an
/// `.await`; a poisoned lock still holds a consistent `Arc`.
fn lock(m: &Mutex<Arc<State>>) -> MutexGuard<'_, Arc<State>> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Repository for MemRepository {
    /// Nothing persists in memory: nothing to scrub.
    async fn scrub(&self) -> Result<(), RepoError> {
        Ok(())
    }

    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, RepoError> {
        Ok(Box::new(match mode {
            TxMode::Read => MemTx::Read(self.snapshot()),
            TxMode::Write => {
                let writer = self.writer.lock_arc().await;
                MemTx::Write {
                    work: Box::new(State::clone(&self.snapshot())),
                    committed: Arc::clone(&self.committed),
                    _writer: writer,
                }
            }
        }))
    }
}

/// A transaction on a [`MemRepository`]. Dropping a `Write` discards `work`.
enum MemTx {
    Read(Arc<State>),
    Write {
        /// Boxed: a `State` is large beside the `Read` variant's pointer.
        work: Box<State>,
        committed: Arc<Mutex<Arc<State>>>,
        /// Held until commit or drop.
        _writer: MutexGuardArc<()>,
    },
}

impl MemTx {
    fn state(&self) -> &State {
        match self {
            MemTx::Read(s) => s,
            MemTx::Write { work, .. } => work,
        }
    }

    fn state_mut(&mut self) -> Result<&mut State, RepoError> {
        match self {
            MemTx::Read(_) => Err(RepoError::Storage("write in a read transaction".into())),
            MemTx::Write { work, .. } => Ok(work),
        }
    }
}

#[async_trait]
impl Tx for MemTx {
    async fn commit(self: Box<Self>) -> Result<(), RepoError> {
        if let MemTx::Write {
            work,
            committed,
            _writer,
        } = *self
        {
            *lock(&committed) = Arc::new(*work);
        }
        Ok(())
    }

    async fn next_revision(&mut self) -> Result<Revision, RepoError> {
        Ok(self.state_mut()?.next_revision())
    }
    async fn audit_head(&mut self) -> Result<Option<(i64, ContentHash)>, RepoError> {
        Ok(self.state().audit_head())
    }
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), RepoError> {
        self.state_mut()?.append_audit(entry)
    }
    async fn list_audit(
        &mut self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, RepoError> {
        Ok(self.state().list_audit(filter, page))
    }

    async fn principal(&mut self, id: PrincipalId) -> Result<Option<Principal>, RepoError> {
        Ok(self.state().principals.get(&id).cloned())
    }
    async fn principal_by_login(&mut self, login: &Login) -> Result<Option<Principal>, RepoError> {
        Ok(self.state().principal_by_login(login))
    }
    async fn list_principals(&mut self, page: Page) -> Result<Paged<Principal>, RepoError> {
        Ok(self.state().list_principals(page))
    }
    async fn save_principal(&mut self, p: &Principal) -> Result<(), RepoError> {
        self.state_mut()?.save_principal(p)
    }
    async fn count_principals(&mut self) -> Result<u64, RepoError> {
        Ok(self.state().principals.len() as u64)
    }
    async fn preferred_language(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<Language>, RepoError> {
        Ok(self.state().preferred_language(principal))
    }
    async fn set_preferred_language(
        &mut self,
        principal: PrincipalId,
        language: Option<Language>,
    ) -> Result<(), RepoError> {
        self.state_mut()?
            .set_preferred_language(principal, language)
    }
    async fn second_factor(&mut self, p: PrincipalId) -> Result<Option<SecondFactor>, RepoError> {
        Ok(self.state().second_factors.get(&p).cloned())
    }
    async fn save_second_factor(&mut self, f: &SecondFactor) -> Result<(), RepoError> {
        self.state_mut()?.save_second_factor(f)
    }
    async fn delete_second_factor(&mut self, p: PrincipalId) -> Result<(), RepoError> {
        self.state_mut()?.second_factors.remove(&p);
        Ok(())
    }
    async fn last_active(&mut self, p: PrincipalId) -> Result<Option<time::Date>, RepoError> {
        Ok(self.state().activity.get(&p).copied())
    }
    async fn record_active(&mut self, p: PrincipalId, day: time::Date) -> Result<(), RepoError> {
        self.state_mut()?.record_active(p, day)
    }
    async fn list_active(&mut self) -> Result<Vec<(PrincipalId, time::Date)>, RepoError> {
        Ok(self
            .state()
            .activity
            .iter()
            .map(|(p, d)| (*p, *d))
            .collect())
    }

    async fn save_session(&mut self, s: &Session) -> Result<(), RepoError> {
        self.state_mut()?.save_session(s)
    }
    async fn session(&mut self, token_hash: &ContentHash) -> Result<Option<Session>, RepoError> {
        Ok(self.state().sessions.get(token_hash).cloned())
    }
    async fn delete_session(&mut self, token_hash: &ContentHash) -> Result<(), RepoError> {
        self.state_mut()?.sessions.remove(token_hash);
        Ok(())
    }
    async fn delete_sessions_of(&mut self, principal: PrincipalId) -> Result<(), RepoError> {
        self.state_mut()?.delete_sessions_of(principal);
        Ok(())
    }
    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> Result<u64, RepoError> {
        Ok(self.state_mut()?.delete_expired_sessions(now))
    }

    async fn save_token(&mut self, t: &ApiToken) -> Result<(), RepoError> {
        self.state_mut()?.save_token(t)
    }
    async fn token_by_hash(
        &mut self,
        token_hash: &ContentHash,
    ) -> Result<Option<ApiToken>, RepoError> {
        Ok(self.state().token_by_hash(token_hash))
    }
    async fn token(&mut self, id: TokenId) -> Result<Option<ApiToken>, RepoError> {
        Ok(self.state().tokens.get(&id).cloned())
    }
    async fn list_tokens(
        &mut self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<ApiToken>, RepoError> {
        Ok(self.state().list_tokens(principal))
    }

    async fn space(&mut self, id: SpaceId) -> Result<Option<Space>, RepoError> {
        Ok(self.state().spaces.get(&id).cloned())
    }
    async fn space_by_slug(&mut self, slug: &str) -> Result<Option<Space>, RepoError> {
        Ok(self.state().space_by_slug(slug))
    }
    async fn save_space(&mut self, space: &Space) -> Result<(), RepoError> {
        self.state_mut()?.save_space(space)
    }
    async fn list_spaces(&mut self, page: Page) -> Result<Paged<Space>, RepoError> {
        Ok(self.state().list_spaces(page))
    }
    async fn list_spaces_of(
        &mut self,
        principal: PrincipalId,
        at: OffsetDateTime,
        page: Page,
    ) -> Result<Paged<SpaceWithRole>, RepoError> {
        Ok(self.state().list_spaces_of(principal, at, page))
    }
    async fn membership(
        &mut self,
        space: SpaceId,
        principal: PrincipalId,
    ) -> Result<Option<Membership>, RepoError> {
        Ok(self.state().memberships.get(&(space, principal)).cloned())
    }
    async fn save_membership(&mut self, m: &Membership) -> Result<(), RepoError> {
        self.state_mut()?.save_membership(m)
    }
    async fn list_members(&mut self, space: SpaceId) -> Result<Vec<Membership>, RepoError> {
        Ok(self.state().list_members(space))
    }
    async fn memberships_ended(
        &mut self,
        at: OffsetDateTime,
    ) -> Result<Vec<Membership>, RepoError> {
        Ok(self.state().memberships_ended(at))
    }

    async fn folder(&mut self, id: FolderId) -> Result<Option<Folder>, RepoError> {
        Ok(self.state().folders.get(&id).cloned())
    }
    async fn save_folder(&mut self, f: &Folder) -> Result<(), RepoError> {
        self.state_mut()?.save_folder(f)
    }
    async fn list_folders(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
    ) -> Result<Vec<Folder>, RepoError> {
        Ok(self.state().list_folders(space, parent))
    }
    async fn all_folders(&mut self, space: SpaceId) -> Result<Vec<Folder>, RepoError> {
        Ok(self.state().all_folders(space))
    }

    async fn document(&mut self, id: DocumentId) -> Result<Option<Document>, RepoError> {
        Ok(self.state().documents.get(&id).cloned())
    }
    async fn save_document(&mut self, d: &Document) -> Result<(), RepoError> {
        self.state_mut()?.save_document(d)
    }
    async fn list_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Result<Paged<Document>, RepoError> {
        Ok(self.state().list_documents(space, folder, page))
    }
    async fn query_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        query: &DocumentQuery,
        page: Page,
    ) -> Result<Paged<Document>, RepoError> {
        Ok(self.state().query_documents(space, folder, query, page))
    }
    async fn latest_document(&mut self, space: SpaceId) -> Result<Option<Document>, RepoError> {
        Ok(self.state().latest_document(space))
    }
    async fn documents_in_folders(
        &mut self,
        space: SpaceId,
        folders: &[FolderId],
    ) -> Result<Vec<Document>, RepoError> {
        Ok(self.state().documents_in_folders(space, folders))
    }
    async fn name_taken(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
        unique_key: &str,
        except: Option<uuid::Uuid>,
    ) -> Result<bool, RepoError> {
        Ok(self.state().name_taken(space, parent, unique_key, except))
    }
    async fn list_trash(
        &mut self,
        space: SpaceId,
    ) -> Result<(Vec<Folder>, Vec<Document>), RepoError> {
        Ok(self.state().list_trash(space))
    }

    async fn save_version(&mut self, v: &Version) -> Result<(), RepoError> {
        self.state_mut()?.save_version(v)
    }
    async fn list_versions(&mut self, document: DocumentId) -> Result<Vec<Version>, RepoError> {
        Ok(self.state().list_versions(document))
    }
    async fn current_versions(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<Version>, RepoError> {
        Ok(self.state().current_versions(space, folder))
    }
    async fn delete_versions(&mut self, document: DocumentId) -> Result<(), RepoError> {
        self.state_mut()?.delete_versions(document);
        Ok(())
    }

    async fn document_type(&mut self, key: &str) -> Result<Option<DocumentType>, RepoError> {
        Ok(self.state().document_types.get(key).cloned())
    }
    async fn save_document_type(&mut self, t: &DocumentType) -> Result<(), RepoError> {
        self.state_mut()?
            .document_types
            .insert(t.key.clone(), t.clone());
        Ok(())
    }
    async fn list_document_types(&mut self) -> Result<Vec<DocumentType>, RepoError> {
        Ok(self.state().document_types.values().cloned().collect())
    }

    async fn referenced_hashes(&mut self) -> Result<HashSet<ContentHash>, RepoError> {
        Ok(self.state().referenced_hashes())
    }

    async fn space_hashes(&mut self, space: SpaceId) -> Result<HashSet<ContentHash>, RepoError> {
        let state = self.state();
        Ok(state
            .versions
            .values()
            .filter(|v| {
                state
                    .documents
                    .get(&v.document)
                    .is_some_and(|d| d.space == space)
            })
            .map(|v| v.hash)
            .collect())
    }

    async fn current_revision(&mut self) -> Result<Revision, RepoError> {
        Ok(Revision(self.state().revision))
    }
    async fn save_invitation(&mut self, i: &Invitation) -> Result<(), RepoError> {
        self.state_mut()?.save_invitation(i)
    }
    async fn invitation(&mut self, id: uuid::Uuid) -> Result<Option<Invitation>, RepoError> {
        Ok(self.state().invitations.get(&id).cloned())
    }
    async fn invitation_by_hash(
        &mut self,
        secret_hash: &ContentHash,
    ) -> Result<Option<Invitation>, RepoError> {
        Ok(self.state().invitation_by_hash(secret_hash))
    }
    async fn list_invitations(&mut self, space: SpaceId) -> Result<Vec<Invitation>, RepoError> {
        Ok(self.state().list_invitations(space))
    }

    async fn changes(
        &mut self,
        space: SpaceId,
        after: Revision,
        limit: u64,
    ) -> Result<Feed, RepoError> {
        Ok(self.state().changes(space, after, limit))
    }
    async fn feed_backlog(
        &mut self,
        space: SpaceId,
        after: Revision,
    ) -> Result<FeedBacklog, RepoError> {
        Ok(self.state().feed_backlog(space, after))
    }
    async fn spaces_shared_with(&mut self, edge: &NodeId) -> Result<Vec<Space>, RepoError> {
        Ok(self.state().spaces_shared_with(edge))
    }
    async fn applied_op(&mut self, op_id: uuid::Uuid) -> Result<Option<AppliedOp>, RepoError> {
        Ok(self.state().applied_ops.get(&op_id).cloned())
    }
    async fn save_applied_op(&mut self, op: &AppliedOp) -> Result<(), RepoError> {
        self.state_mut()?.applied_ops.insert(op.op_id, op.clone());
        Ok(())
    }
    async fn list_quarantine(&mut self, space: SpaceId) -> Result<Vec<AppliedOp>, RepoError> {
        Ok(self.state().list_quarantine(space))
    }
    async fn count_quarantine(&mut self) -> Result<Vec<QuarantineCount>, RepoError> {
        Ok(self.state().count_quarantine())
    }
    async fn save_edge_status(&mut self, s: &EdgeStatus) -> Result<(), RepoError> {
        self.state_mut()?.save_edge_status(s);
        Ok(())
    }
    async fn edge_status(&mut self, edge: &NodeId) -> Result<Option<EdgeStatus>, RepoError> {
        Ok(self.state().edge_status.get(edge).cloned())
    }
    async fn list_edge_status(&mut self) -> Result<Vec<EdgeStatus>, RepoError> {
        Ok(self.state().list_edge_status())
    }

    async fn cursors(&mut self) -> Result<Vec<(SpaceId, Revision)>, RepoError> {
        Ok(self.state().cursors())
    }
    async fn set_cursor(&mut self, space: SpaceId, revision: Revision) -> Result<(), RepoError> {
        self.state_mut()?.cursors.insert(space, revision);
        Ok(())
    }
    async fn claim_blobs(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError> {
        let claims = &mut self.state_mut()?.blob_claims;
        claims.extend(hashes.iter().map(|h| (space, *h)));
        Ok(())
    }
    async fn release_blob_claims(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError> {
        let claims = &mut self.state_mut()?.blob_claims;
        for h in hashes {
            claims.remove(&(space, *h));
        }
        Ok(())
    }
    async fn blob_claims(&mut self) -> Result<Vec<(SpaceId, ContentHash)>, RepoError> {
        Ok(self.state().blob_claims.iter().copied().collect())
    }
    async fn blob_claimed(
        &mut self,
        space: SpaceId,
        hash: &ContentHash,
    ) -> Result<bool, RepoError> {
        Ok(self.state().blob_claims.contains(&(space, *hash)))
    }
    async fn purge_space(&mut self, space: SpaceId) -> Result<u64, RepoError> {
        Ok(self.state_mut()?.purge_space(space))
    }
    async fn append_outbox(&mut self, item: &OutboxItem) -> Result<i64, RepoError> {
        self.state_mut()?.append_outbox(item)
    }
    async fn pending_outbox(
        &mut self,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<OutboxItem>, RepoError> {
        Ok(self.state().pending_outbox(after_seq, limit))
    }
    async fn outbox_item(&mut self, op_id: uuid::Uuid) -> Result<Option<OutboxItem>, RepoError> {
        Ok(self.state().outbox_item(op_id))
    }
    async fn set_outbox_outcome(
        &mut self,
        op_id: uuid::Uuid,
        outcome: OpOutcome,
        detail: &str,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.state_mut()?
            .set_outbox_outcome(op_id, outcome, detail, at);
        Ok(())
    }
    async fn list_outbox(&mut self, space: SpaceId) -> Result<Vec<OutboxItem>, RepoError> {
        Ok(self.state().list_outbox(space))
    }
    async fn list_outbox_of(
        &mut self,
        space: SpaceId,
        contractor: PrincipalId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, RepoError> {
        Ok(paged(self.state().list_outbox_of(space, contractor), page))
    }
    async fn count_pending_outbox(&mut self) -> Result<u64, RepoError> {
        Ok(self.state().count_pending_outbox())
    }
    async fn prune_outbox(&mut self, decided_before: OffsetDateTime) -> Result<u64, RepoError> {
        Ok(self.state_mut()?.prune_outbox(decided_before))
    }
}
