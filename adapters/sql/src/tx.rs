//! `SqlTx`: the port's transaction over a sea-orm `DatabaseTransaction`.
//! The queries live in the submodules, one per group of the port; `locks`
//! also implements the transaction's `LockStore` part, `lock_mirror` its
//! `LockMirror` part, `flows` its `IngestionLedger` part, `links` its
//! `LinkStore` part, `notify` its `NotificationStore` part.

mod accounts;
mod audit;
mod content;
mod flows;
mod links;
mod lock_mirror;
mod locks;
mod notify;
mod replication;
mod spaces;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use passerelle_core::ContentHash;
use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use passerelle_core::model::{
    ApiToken, AuditEntry, Document, Folder, Language, Membership, Page, Paged, Principal, Session,
    Space, Version,
};
use passerelle_core::names::Login;
use passerelle_core::ports::{
    AuditFilter, DocumentQuery, FeedBacklog, QuarantineCount, RepoError, SpaceWithRole, Tx, TxMode,
};
use passerelle_core::replication::{
    AppliedOp, EdgeStatus, Feed, Invitation, NodeId, OpOutcome, OutboxItem,
};
use passerelle_core::second_factor::SecondFactor;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    IdenStatic, Insert, Iterable, PrimaryKeyToColumn, QuerySelect, Select, TransactionTrait,
};
use time::OffsetDateTime;
use tokio::sync::OwnedMutexGuard;
use tracing::warn;

use crate::error::db_error;

/// Ids per `IN (…)` list: far below the bind-parameter limits of both engines.
const IN_CHUNK: usize = 500;

/// A write was attempted in a `TxMode::Read` transaction: a bug of the
/// caller, refused the same way on every engine (and by the in-memory fake).
#[derive(Debug, thiserror::Error)]
#[error("write in a read transaction")]
pub(crate) struct ReadOnlyTransaction;

pub(crate) struct SqlTx {
    /// Declared first so it drops first: sea-orm queues the rollback before
    /// the writer lock below is released.
    txn: DatabaseTransaction,
    mode: TxMode,
    /// SQLite writer lock of this process, for write transactions.
    _writer: Option<OwnedMutexGuard<()>>,
}

impl SqlTx {
    pub(crate) fn new(
        txn: DatabaseTransaction,
        mode: TxMode,
        writer: Option<OwnedMutexGuard<()>>,
    ) -> Self {
        Self {
            txn,
            mode,
            _writer: writer,
        }
    }

    fn writable(&self) -> Result<&DatabaseTransaction, RepoError> {
        match self.mode {
            TxMode::Write => Ok(&self.txn),
            TxMode::Read => Err(RepoError::Storage(Box::new(ReadOnlyTransaction))),
        }
    }
}

/// `INSERT … ON CONFLICT (primary key) DO UPDATE SET every other column`.
pub(crate) fn upsert<A>(model: A) -> Insert<A>
where
    A: ActiveModelTrait,
{
    let keys: Vec<_> = <A::Entity as EntityTrait>::PrimaryKey::iter()
        .map(PrimaryKeyToColumn::into_column)
        .collect();
    let others: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| !keys.iter().any(|k| k.as_str() == c.as_str()))
        .collect();
    <A::Entity as EntityTrait>::insert(model)
        .on_conflict(OnConflict::columns(keys).update_columns(others).to_owned())
}

/// A statement run by [`guarded`], borrowing the connection it is given.
type Statement<'a, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 'a>>;

/// Runs a statement that a unique index may refuse. On PostgreSQL a failed
/// statement aborts the whole transaction, so it runs in a savepoint: after a
/// `Conflict` the transaction stays usable, as on SQLite and in the fake.
async fn guarded<T, F>(c: &DatabaseTransaction, statement: F) -> Result<T, DbErr>
where
    F: for<'a> FnOnce(&'a DatabaseTransaction) -> Statement<'a, T>,
{
    if c.get_database_backend() != DbBackend::Postgres {
        return statement(c).await;
    }
    let savepoint = c.begin().await?;
    match statement(&savepoint).await {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = savepoint.rollback().await {
                warn!(error = %rollback, "rollback to savepoint failed");
            }
            Err(e)
        }
    }
}

/// An insert (or upsert) under [`guarded`].
async fn exec_guarded<A>(c: &DatabaseTransaction, insert: Insert<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send + 'static,
{
    guarded(c, move |t| {
        Box::pin(async move { insert.exec_without_returning(t).await.map(drop) })
    })
    .await
}

/// Offset/limit of a page; values past `i64::MAX` (which the drivers cannot
/// bind) are clamped, which changes nothing in practice.
pub(crate) fn paginate<E: EntityTrait>(select: Select<E>, page: Page) -> Select<E> {
    let clamp = |n: u64| n.min(i64::MAX as u64);
    select.offset(clamp(page.offset)).limit(clamp(page.limit))
}

pub(crate) fn all_into<M, T>(
    rows: Vec<M>,
    convert: fn(M) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    rows.into_iter().map(convert).collect()
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> Result<(), RepoError> {
        let SqlTx { txn, mode, _writer } = *self;
        txn.commit().await.map_err(db_error)?;
        tracing::debug!(?mode, "transaction committed");
        Ok(())
    }

    async fn next_revision(&mut self) -> Result<Revision, RepoError> {
        audit::next_revision(self.writable()?).await
    }
    async fn audit_head(&mut self) -> Result<Option<(i64, ContentHash)>, RepoError> {
        audit::head(&self.txn).await
    }
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), RepoError> {
        audit::append(self.writable()?, entry).await
    }
    async fn list_audit(
        &mut self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, RepoError> {
        audit::list(&self.txn, filter, page).await
    }

    async fn principal(&mut self, id: PrincipalId) -> Result<Option<Principal>, RepoError> {
        accounts::principal(&self.txn, id).await
    }
    async fn principal_by_login(&mut self, login: &Login) -> Result<Option<Principal>, RepoError> {
        accounts::principal_by_login(&self.txn, login).await
    }
    async fn list_principals(&mut self, page: Page) -> Result<Paged<Principal>, RepoError> {
        accounts::list_principals(&self.txn, page).await
    }
    async fn save_principal(&mut self, p: &Principal) -> Result<(), RepoError> {
        accounts::save_principal(self.writable()?, p).await
    }
    async fn count_principals(&mut self) -> Result<u64, RepoError> {
        accounts::count_principals(&self.txn).await
    }
    async fn preferred_language(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<Language>, RepoError> {
        accounts::preferred_language(&self.txn, principal).await
    }
    async fn set_preferred_language(
        &mut self,
        principal: PrincipalId,
        language: Option<Language>,
    ) -> Result<(), RepoError> {
        accounts::set_preferred_language(self.writable()?, principal, language).await
    }
    async fn second_factor(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<SecondFactor>, RepoError> {
        accounts::second_factor(&self.txn, principal).await
    }
    async fn save_second_factor(&mut self, f: &SecondFactor) -> Result<(), RepoError> {
        accounts::save_second_factor(self.writable()?, f).await
    }
    async fn delete_second_factor(&mut self, principal: PrincipalId) -> Result<(), RepoError> {
        accounts::delete_second_factor(self.writable()?, principal).await
    }
    async fn last_active(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<time::Date>, RepoError> {
        accounts::last_active(&self.txn, principal).await
    }
    async fn record_active(
        &mut self,
        principal: PrincipalId,
        day: time::Date,
    ) -> Result<(), RepoError> {
        accounts::record_active(self.writable()?, principal, day).await
    }
    async fn list_active(&mut self) -> Result<Vec<(PrincipalId, time::Date)>, RepoError> {
        accounts::list_active(&self.txn).await
    }

    async fn save_session(&mut self, s: &Session) -> Result<(), RepoError> {
        accounts::save_session(self.writable()?, s).await
    }
    async fn session(&mut self, token_hash: &ContentHash) -> Result<Option<Session>, RepoError> {
        accounts::session(&self.txn, token_hash).await
    }
    async fn delete_session(&mut self, token_hash: &ContentHash) -> Result<(), RepoError> {
        accounts::delete_session(self.writable()?, token_hash).await
    }
    async fn delete_sessions_of(&mut self, principal: PrincipalId) -> Result<(), RepoError> {
        accounts::delete_sessions_of(self.writable()?, principal).await
    }
    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> Result<u64, RepoError> {
        accounts::delete_expired_sessions(self.writable()?, now).await
    }

    async fn save_token(&mut self, t: &ApiToken) -> Result<(), RepoError> {
        accounts::save_token(self.writable()?, t).await
    }
    async fn token_by_hash(
        &mut self,
        token_hash: &ContentHash,
    ) -> Result<Option<ApiToken>, RepoError> {
        accounts::token_by_hash(&self.txn, token_hash).await
    }
    async fn token(&mut self, id: TokenId) -> Result<Option<ApiToken>, RepoError> {
        accounts::token(&self.txn, id).await
    }
    async fn list_tokens(
        &mut self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<ApiToken>, RepoError> {
        accounts::list_tokens(&self.txn, principal).await
    }

    async fn space(&mut self, id: SpaceId) -> Result<Option<Space>, RepoError> {
        spaces::space(&self.txn, id).await
    }
    async fn space_by_slug(&mut self, slug: &str) -> Result<Option<Space>, RepoError> {
        spaces::space_by_slug(&self.txn, slug).await
    }
    async fn save_space(&mut self, s: &Space) -> Result<(), RepoError> {
        spaces::save_space(self.writable()?, s).await
    }
    async fn list_spaces(&mut self, page: Page) -> Result<Paged<Space>, RepoError> {
        spaces::list_spaces(&self.txn, page).await
    }
    async fn list_spaces_of(
        &mut self,
        principal: PrincipalId,
        at: OffsetDateTime,
        page: Page,
    ) -> Result<Paged<SpaceWithRole>, RepoError> {
        spaces::list_spaces_of(&self.txn, principal, at, page).await
    }
    async fn memberships_ended(
        &mut self,
        at: OffsetDateTime,
    ) -> Result<Vec<Membership>, RepoError> {
        spaces::memberships_ended(&self.txn, at).await
    }
    async fn membership(
        &mut self,
        space: SpaceId,
        principal: PrincipalId,
    ) -> Result<Option<Membership>, RepoError> {
        spaces::membership(&self.txn, space, principal).await
    }
    async fn save_membership(&mut self, m: &Membership) -> Result<(), RepoError> {
        spaces::save_membership(self.writable()?, m).await
    }
    async fn list_members(&mut self, space: SpaceId) -> Result<Vec<Membership>, RepoError> {
        spaces::list_members(&self.txn, space).await
    }

    async fn folder(&mut self, id: FolderId) -> Result<Option<Folder>, RepoError> {
        content::folder(&self.txn, id).await
    }
    async fn save_folder(&mut self, f: &Folder) -> Result<(), RepoError> {
        content::save_folder(self.writable()?, f).await
    }
    async fn list_folders(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
    ) -> Result<Vec<Folder>, RepoError> {
        content::list_folders(&self.txn, space, parent).await
    }
    async fn all_folders(&mut self, space: SpaceId) -> Result<Vec<Folder>, RepoError> {
        content::all_folders(&self.txn, space).await
    }

    async fn document(&mut self, id: DocumentId) -> Result<Option<Document>, RepoError> {
        content::document(&self.txn, id).await
    }
    async fn save_document(&mut self, d: &Document) -> Result<(), RepoError> {
        content::save_document(self.writable()?, d).await
    }
    async fn list_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Result<Paged<Document>, RepoError> {
        content::list_documents(&self.txn, space, folder, page).await
    }
    async fn query_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        query: &DocumentQuery,
        page: Page,
    ) -> Result<Paged<Document>, RepoError> {
        content::query_documents(&self.txn, space, folder, query, page).await
    }
    async fn latest_document(&mut self, space: SpaceId) -> Result<Option<Document>, RepoError> {
        content::latest_document(&self.txn, space).await
    }
    async fn documents_in_folders(
        &mut self,
        space: SpaceId,
        folders: &[FolderId],
    ) -> Result<Vec<Document>, RepoError> {
        content::documents_in_folders(&self.txn, space, folders).await
    }
    async fn name_taken(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
        unique_key: &str,
        except: Option<uuid::Uuid>,
    ) -> Result<bool, RepoError> {
        content::name_taken(&self.txn, space, parent, unique_key, except).await
    }
    async fn list_trash(
        &mut self,
        space: SpaceId,
    ) -> Result<(Vec<Folder>, Vec<Document>), RepoError> {
        content::list_trash(&self.txn, space).await
    }

    async fn save_version(&mut self, v: &Version) -> Result<(), RepoError> {
        content::save_version(self.writable()?, v).await
    }
    async fn list_versions(&mut self, document: DocumentId) -> Result<Vec<Version>, RepoError> {
        content::list_versions(&self.txn, document).await
    }
    async fn current_versions(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<Version>, RepoError> {
        content::current_versions(&self.txn, space, folder).await
    }
    async fn delete_versions(&mut self, document: DocumentId) -> Result<(), RepoError> {
        content::delete_versions(self.writable()?, document).await
    }

    async fn document_type(&mut self, key: &str) -> Result<Option<DocumentType>, RepoError> {
        spaces::document_type(&self.txn, key).await
    }
    async fn save_document_type(&mut self, t: &DocumentType) -> Result<(), RepoError> {
        spaces::save_document_type(self.writable()?, t).await
    }
    async fn list_document_types(&mut self) -> Result<Vec<DocumentType>, RepoError> {
        spaces::list_document_types(&self.txn).await
    }

    async fn referenced_hashes(&mut self) -> Result<HashSet<ContentHash>, RepoError> {
        let mut hashes = content::referenced_hashes(&self.txn).await?;
        hashes.extend(replication::pending_hashes(&self.txn).await?);
        Ok(hashes)
    }

    async fn space_hashes(&mut self, space: SpaceId) -> Result<HashSet<ContentHash>, RepoError> {
        content::space_hashes(&self.txn, space).await
    }

    async fn current_revision(&mut self) -> Result<Revision, RepoError> {
        audit::current_revision(&self.txn).await
    }
    async fn save_invitation(&mut self, i: &Invitation) -> Result<(), RepoError> {
        replication::save_invitation(self.writable()?, i).await
    }
    async fn invitation(&mut self, id: uuid::Uuid) -> Result<Option<Invitation>, RepoError> {
        replication::invitation(&self.txn, id).await
    }
    async fn invitation_by_hash(
        &mut self,
        secret_hash: &ContentHash,
    ) -> Result<Option<Invitation>, RepoError> {
        replication::invitation_by_hash(&self.txn, secret_hash).await
    }
    async fn list_invitations(&mut self, space: SpaceId) -> Result<Vec<Invitation>, RepoError> {
        replication::list_invitations(&self.txn, space).await
    }

    async fn changes(
        &mut self,
        space: SpaceId,
        after: Revision,
        limit: u64,
    ) -> Result<Feed, RepoError> {
        replication::changes(&self.txn, space, after, limit).await
    }
    async fn feed_backlog(
        &mut self,
        space: SpaceId,
        after: Revision,
    ) -> Result<FeedBacklog, RepoError> {
        replication::feed_backlog(&self.txn, space, after).await
    }
    async fn spaces_shared_with(&mut self, edge: &NodeId) -> Result<Vec<Space>, RepoError> {
        replication::spaces_shared_with(&self.txn, edge).await
    }
    async fn applied_op(&mut self, op_id: uuid::Uuid) -> Result<Option<AppliedOp>, RepoError> {
        replication::applied_op(&self.txn, op_id).await
    }
    async fn save_applied_op(&mut self, op: &AppliedOp) -> Result<(), RepoError> {
        replication::save_applied_op(self.writable()?, op).await
    }
    async fn list_quarantine(&mut self, space: SpaceId) -> Result<Vec<AppliedOp>, RepoError> {
        replication::list_quarantine(&self.txn, space).await
    }
    async fn count_quarantine(&mut self) -> Result<Vec<QuarantineCount>, RepoError> {
        replication::count_quarantine(&self.txn).await
    }
    async fn save_edge_status(&mut self, s: &EdgeStatus) -> Result<(), RepoError> {
        replication::save_edge_status(self.writable()?, s).await
    }
    async fn edge_status(&mut self, edge: &NodeId) -> Result<Option<EdgeStatus>, RepoError> {
        replication::edge_status(&self.txn, edge).await
    }
    async fn list_edge_status(&mut self) -> Result<Vec<EdgeStatus>, RepoError> {
        replication::list_edge_status(&self.txn).await
    }

    async fn cursors(&mut self) -> Result<Vec<(SpaceId, Revision)>, RepoError> {
        replication::cursors(&self.txn).await
    }
    async fn set_cursor(&mut self, space: SpaceId, revision: Revision) -> Result<(), RepoError> {
        replication::set_cursor(self.writable()?, space, revision).await
    }
    async fn claim_blobs(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError> {
        replication::claim_blobs(self.writable()?, space, hashes).await
    }
    async fn release_blob_claims(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError> {
        replication::release_blob_claims(self.writable()?, space, hashes).await
    }
    async fn blob_claims(&mut self) -> Result<Vec<(SpaceId, ContentHash)>, RepoError> {
        replication::blob_claims(&self.txn).await
    }
    async fn blob_claimed(
        &mut self,
        space: SpaceId,
        hash: &ContentHash,
    ) -> Result<bool, RepoError> {
        replication::blob_claimed(&self.txn, space, hash).await
    }
    async fn purge_space(&mut self, space: SpaceId) -> Result<u64, RepoError> {
        replication::purge_space(self.writable()?, space).await
    }
    async fn append_outbox(&mut self, item: &OutboxItem) -> Result<i64, RepoError> {
        replication::append_outbox(self.writable()?, item).await
    }
    async fn pending_outbox(
        &mut self,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<OutboxItem>, RepoError> {
        replication::pending_outbox(&self.txn, after_seq, limit).await
    }
    async fn outbox_item(&mut self, op_id: uuid::Uuid) -> Result<Option<OutboxItem>, RepoError> {
        replication::outbox_item(&self.txn, op_id).await
    }
    async fn set_outbox_outcome(
        &mut self,
        op_id: uuid::Uuid,
        outcome: OpOutcome,
        detail: &str,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        replication::set_outbox_outcome(self.writable()?, op_id, outcome, detail, at).await
    }
    async fn list_outbox(&mut self, space: SpaceId) -> Result<Vec<OutboxItem>, RepoError> {
        replication::list_outbox(&self.txn, space).await
    }
    async fn list_outbox_of(
        &mut self,
        space: SpaceId,
        contractor: PrincipalId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, RepoError> {
        replication::list_outbox_of(&self.txn, space, contractor, page).await
    }
    async fn count_pending_outbox(&mut self) -> Result<u64, RepoError> {
        replication::count_pending_outbox(&self.txn).await
    }
    async fn prune_outbox(&mut self, decided_before: OffsetDateTime) -> Result<u64, RepoError> {
        replication::prune_outbox(self.writable()?, decided_before).await
    }
}
