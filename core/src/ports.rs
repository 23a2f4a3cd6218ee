//! Driven ports: what core needs from storage, time and password hashing.
//!
//! The repository is a unit of work: [`Repository::begin`] opens a transaction
//! ([`Tx`]); every use case that mutates does all its reads and writes in one
//! write transaction, takes one revision and appends its audit entries there,
//! then commits. Write transactions are serialised (the adapter locks the node
//! state row or holds a writer lock), which is what makes revisions gapless and
//! the audit chain linear. Dropping a `Tx` without `commit` rolls it back.

use std::collections::HashSet;
use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::doctype::DocumentType;
use crate::flows::IngestionLedger;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::links::LinkStore;
use crate::locks::{LockMirror, LockStore};
use crate::model::{
    ApiToken, AuditEntry, Document, Folder, Language, Membership, Page, Paged, Principal, Session,
    Space, Version,
};
use crate::names::Login;
use crate::notify::store::NotificationStore;
use crate::replication::{AppliedOp, EdgeStatus, Feed, Invitation, NodeId, OpOutcome, OutboxItem};
use crate::role::Role;

/// Failures of the repository. Lookups of absent rows return `Ok(None)`, not
/// an error.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness constraint refused the write (slug, login, name in folder).
    #[error("conflicting row: {0}")]
    Conflict(String),
    /// Another writer got in first and the transaction must be retried.
    #[error("transaction serialisation failure")]
    Busy(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database has no room left (its disk or quota is full): the
    /// transaction did not commit. `cause` is short and says which engine
    /// refused, for operators.
    #[error("database full: {cause}")]
    Full {
        cause: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("storage failure")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What [`Tx::feed_backlog`] says of a space past a cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedBacklog {
    /// Rows of the change feed past the cursor.
    pub rows: u64,
    /// The newest revision among them; the cursor itself when there are none.
    pub newest: Revision,
}

/// What [`Tx::count_quarantine`] says of one edge and space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineCount {
    pub edge: NodeId,
    pub space: SpaceId,
    pub operations: u64,
}

/// Read or read-write transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    Read,
    Write,
}

/// The metadata store.
#[async_trait]
pub trait Repository: Send + Sync + fmt::Debug {
    /// Opens a transaction. A `Write` transaction waits for the other writers.
    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, RepoError>;

    /// After deletions that must leave nothing behind (an un-share purge on
    /// an edge): makes deleted rows unrecoverable from the storage files as
    /// far as the engine allows (SQLite: overwritten pages, truncated log).
    async fn scrub(&self) -> Result<(), RepoError>;
}

/// A space and the role the asking principal holds in it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceWithRole {
    pub space: Space,
    pub role: Role,
}

/// Filter of the audit log.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AuditFilter {
    pub space: Option<SpaceId>,
    /// Entries with `seq > after` only (for paging through the whole chain).
    pub after_seq: i64,
}

/// What a folder listing sorts its documents by. Ties are broken by name
/// (case-insensitive), then id, always ascending, so paging is stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocumentSort {
    /// The case-insensitive name (`DocumentName::unique_key`).
    #[default]
    Name,
    /// Last change (`updated_at`).
    Date,
    /// Document type key; untyped documents as the empty key (first).
    Type,
    /// Display name of the creator (`created_by`); unknown as empty.
    Author,
    /// Number of the current version.
    Version,
}

/// Filter and order of a folder's documents, pushed down to the store so
/// they apply to the whole folder, not to one page of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentQuery {
    /// Only names containing this, compared as `unique_key`s (lowercase);
    /// empty: every name. Use [`DocumentQuery::name_contains`] to set it.
    name_key_contains: String,
    /// Only documents of this type key.
    pub doc_type: Option<String>,
    pub sort: DocumentSort,
    /// Reverses the sort key (not the tie-breakers).
    pub descending: bool,
}

impl DocumentQuery {
    /// Filters on a name substring, case-insensitively as names are unique.
    pub fn name_contains(mut self, needle: &str) -> Self {
        self.name_key_contains = needle.trim().to_lowercase();
        self
    }

    /// Sorts by `sort`, descending or not.
    pub fn sorted_by(mut self, sort: DocumentSort, descending: bool) -> Self {
        self.sort = sort;
        self.descending = descending;
        self
    }

    /// Keeps only documents of type `key` (`None`: every type).
    pub fn of_type(mut self, key: Option<String>) -> Self {
        self.doc_type = key;
        self
    }

    /// The lowercased substring to look for (empty: no name filter).
    pub fn name_key_contains(&self) -> &str {
        &self.name_key_contains
    }
}

/// One transaction on the metadata store. `save_*` are upserts by primary key.
/// Lists exclude tombstones unless said otherwise. The lock rows are its
/// [`LockStore`] part (grouped apart, read and written in the same
/// transaction as the writes they guard); the locks an edge mirrors from
/// the internal node its [`LockMirror`] part, for the same reason; what
/// drop folders filed its [`IngestionLedger`] part (a filing's documents
/// and its ledger row commit together); links between documents its
/// [`LinkStore`] part (a filing links what it files, in one unit of work);
/// subscriptions and the notification outbox its [`NotificationStore`]
/// part (a notice is planned with the cursor that covers its events).
#[async_trait]
pub trait Tx:
    LockStore + LockMirror + IngestionLedger + LinkStore + NotificationStore + Send
{
    /// Commits; on error nothing of the transaction is kept.
    async fn commit(self: Box<Self>) -> Result<(), RepoError>;

    // --- node state -----------------------------------------------------
    /// Takes the next revision of this node (write transactions only).
    async fn next_revision(&mut self) -> Result<Revision, RepoError>;
    /// The last audit entry (`seq`, `hash`), or `None` on an empty log.
    async fn audit_head(&mut self) -> Result<Option<(i64, ContentHash)>, RepoError>;
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), RepoError>;
    /// Entries in `seq` order (newest last), filtered and paged.
    async fn list_audit(
        &mut self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, RepoError>;

    // --- principals, sessions, tokens ------------------------------------
    async fn principal(&mut self, id: PrincipalId) -> Result<Option<Principal>, RepoError>;
    async fn principal_by_login(&mut self, login: &Login) -> Result<Option<Principal>, RepoError>;
    async fn list_principals(&mut self, page: Page) -> Result<Paged<Principal>, RepoError>;
    async fn save_principal(&mut self, p: &Principal) -> Result<(), RepoError>;
    async fn count_principals(&mut self) -> Result<u64, RepoError>;
    /// The language a principal chose, `None` when they chose none (or the
    /// principal is gone: the setting goes with the account). Local to this
    /// node, never in the change feed.
    async fn preferred_language(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<Language>, RepoError>;
    /// Sets (or with `None` clears) a principal's language; idempotent.
    /// The principal must exist (foreign key, as for sessions).
    async fn set_preferred_language(
        &mut self,
        principal: PrincipalId,
        language: Option<Language>,
    ) -> Result<(), RepoError>;
    /// A person's second factor on this node (ADR 0012), confirmed or
    /// not. Local to this node, never in the change feed.
    async fn second_factor(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<crate::second_factor::SecondFactor>, RepoError>;
    /// Creates or replaces it. The principal must exist.
    async fn save_second_factor(
        &mut self,
        f: &crate::second_factor::SecondFactor,
    ) -> Result<(), RepoError>;
    /// Forgets it; idempotent.
    async fn delete_second_factor(&mut self, principal: PrincipalId) -> Result<(), RepoError>;
    /// The last day `principal` was seen active (ADR 0011 §5): on an edge,
    /// a contractor's own logins and requests; on the internal node, what
    /// the edges reported, and a re-enabling. Local to the node, never in
    /// the change feed.
    async fn last_active(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Option<time::Date>, RepoError>;
    /// Records that `principal` was active on `day`, unless a later day is
    /// stored already (idempotent, in any order). The principal must exist.
    async fn record_active(
        &mut self,
        principal: PrincipalId,
        day: time::Date,
    ) -> Result<(), RepoError>;
    /// Every principal's last active day, by principal id.
    async fn list_active(&mut self) -> Result<Vec<(PrincipalId, time::Date)>, RepoError>;

    async fn save_session(&mut self, s: &Session) -> Result<(), RepoError>;
    async fn session(&mut self, token_hash: &ContentHash) -> Result<Option<Session>, RepoError>;
    async fn delete_session(&mut self, token_hash: &ContentHash) -> Result<(), RepoError>;
    /// Ends every session of a principal (disabled account, password change).
    async fn delete_sessions_of(&mut self, principal: PrincipalId) -> Result<(), RepoError>;
    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> Result<u64, RepoError>;

    async fn save_token(&mut self, t: &ApiToken) -> Result<(), RepoError>;
    async fn token_by_hash(
        &mut self,
        token_hash: &ContentHash,
    ) -> Result<Option<ApiToken>, RepoError>;
    async fn token(&mut self, id: TokenId) -> Result<Option<ApiToken>, RepoError>;
    async fn list_tokens(
        &mut self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<ApiToken>, RepoError>;

    // --- spaces and memberships -----------------------------------------
    async fn space(&mut self, id: SpaceId) -> Result<Option<Space>, RepoError>;
    async fn space_by_slug(&mut self, slug: &str) -> Result<Option<Space>, RepoError>;
    async fn save_space(&mut self, s: &Space) -> Result<(), RepoError>;
    /// Every space, ordered by title.
    async fn list_spaces(&mut self, page: Page) -> Result<Paged<Space>, RepoError>;
    /// Spaces where `principal` has a membership active `at` (not removed,
    /// not ended), with the role, by title.
    async fn list_spaces_of(
        &mut self,
        principal: PrincipalId,
        at: OffsetDateTime,
        page: Page,
    ) -> Result<Paged<SpaceWithRole>, RepoError>;
    /// The membership row, removed or not.
    async fn membership(
        &mut self,
        space: SpaceId,
        principal: PrincipalId,
    ) -> Result<Option<Membership>, RepoError>;
    async fn save_membership(&mut self, m: &Membership) -> Result<(), RepoError>;
    /// Non-removed memberships of a space.
    async fn list_members(&mut self, space: SpaceId) -> Result<Vec<Membership>, RepoError>;
    /// Non-removed memberships whose end date is at or before `at`, of
    /// every space: what the sweep that ends access turns into removals.
    async fn memberships_ended(&mut self, at: OffsetDateTime)
    -> Result<Vec<Membership>, RepoError>;

    // --- folders and documents ------------------------------------------
    async fn folder(&mut self, id: FolderId) -> Result<Option<Folder>, RepoError>;
    async fn save_folder(&mut self, f: &Folder) -> Result<(), RepoError>;
    /// Live (not trashed, not purged) folders directly under `parent`, by name.
    async fn list_folders(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
    ) -> Result<Vec<Folder>, RepoError>;
    /// Every folder of a space including trashed ones (not purged): for tree walks.
    async fn all_folders(&mut self, space: SpaceId) -> Result<Vec<Folder>, RepoError>;

    async fn document(&mut self, id: DocumentId) -> Result<Option<Document>, RepoError>;
    async fn save_document(&mut self, d: &Document) -> Result<(), RepoError>;
    /// Live documents directly in `folder`, by name.
    async fn list_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Result<Paged<Document>, RepoError>;
    /// Live documents directly in `folder` that `query` keeps, in its order;
    /// `total` counts every match, not only the page.
    async fn query_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        query: &DocumentQuery,
        page: Page,
    ) -> Result<Paged<Document>, RepoError>;
    /// The live document of a space, in whichever folder, changed last
    /// (newest `updated_at`, then smallest id); `None` in an empty space.
    async fn latest_document(&mut self, space: SpaceId) -> Result<Option<Document>, RepoError>;
    /// Documents of a space whose folder is one of `folders` (live or trashed, not purged).
    async fn documents_in_folders(
        &mut self,
        space: SpaceId,
        folders: &[FolderId],
    ) -> Result<Vec<Document>, RepoError>;
    /// Whether a live folder or document named with `unique_key` exists under
    /// `parent`, other than `except` (a folder or document id as a UUID).
    async fn name_taken(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
        unique_key: &str,
        except: Option<uuid::Uuid>,
    ) -> Result<bool, RepoError>;
    /// Trashed (not purged) folders and documents of a space.
    async fn list_trash(
        &mut self,
        space: SpaceId,
    ) -> Result<(Vec<Folder>, Vec<Document>), RepoError>;

    async fn save_version(&mut self, v: &Version) -> Result<(), RepoError>;
    /// Versions of a document, by number.
    async fn list_versions(&mut self, document: DocumentId) -> Result<Vec<Version>, RepoError>;
    /// The current version of every live document directly in `folder`
    /// (the root: `None`), in one read (a listing's), by document id; a
    /// document whose current version is missing is absent.
    async fn current_versions(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<Version>, RepoError>;
    async fn delete_versions(&mut self, document: DocumentId) -> Result<(), RepoError>;

    // --- document types -------------------------------------------------
    async fn document_type(&mut self, key: &str) -> Result<Option<DocumentType>, RepoError>;
    async fn save_document_type(&mut self, t: &DocumentType) -> Result<(), RepoError>;
    async fn list_document_types(&mut self) -> Result<Vec<DocumentType>, RepoError>;

    // --- blobs ----------------------------------------------------------
    /// Every content hash some version references (for blob GC and checks),
    /// plus, on an edge, the hashes of pending outbox operations.
    async fn referenced_hashes(&mut self) -> Result<HashSet<ContentHash>, RepoError>;
    /// The content hashes the versions of one space reference, trashed
    /// documents included: what an un-share purge may remove. Hashes only,
    /// so a 30,000-document space is not loaded row by row to learn them.
    async fn space_hashes(&mut self, space: SpaceId) -> Result<HashSet<ContentHash>, RepoError>;

    // --- replication: both nodes ----------------------------------------
    /// The node's last revision taken (0 on a new node). Read-only.
    async fn current_revision(&mut self) -> Result<Revision, RepoError>;
    async fn save_invitation(&mut self, i: &Invitation) -> Result<(), RepoError>;
    async fn invitation(&mut self, id: uuid::Uuid) -> Result<Option<Invitation>, RepoError>;
    async fn invitation_by_hash(
        &mut self,
        secret_hash: &ContentHash,
    ) -> Result<Option<Invitation>, RepoError>;
    /// Invitations of a space, newest first.
    async fn list_invitations(&mut self, space: SpaceId) -> Result<Vec<Invitation>, RepoError>;

    // --- replication: internal node -------------------------------------
    /// The change feed of one space: every row of the space (the space,
    /// memberships, invitations, folders, documents, versions, tombstones
    /// included) with a revision in `(after, R]`, where `R` (returned as
    /// `through`) is the largest revision such that at most `limit` rows are
    /// in range — but never cutting a revision in two: when the first
    /// revision alone has more than `limit` rows, all its rows are returned.
    /// Principals: those with a revision in `(after, R]` that hold a
    /// membership (removed or not) in the space; `password_hash` always
    /// `None`. Parents are brought along whatever their revision, so a batch
    /// applies on its own: the space row, the principal of every membership,
    /// the document of every version (these extra rows may be newer than
    /// `R`; `through` is the cursor to keep, not the rows' maximum). Empty
    /// range: no rows, `through == after`. Document types are not included.
    async fn changes(
        &mut self,
        space: SpaceId,
        after: Revision,
        limit: u64,
    ) -> Result<Feed, RepoError>;
    /// How far the change feed of `space` runs past `after`: the rows
    /// [`Tx::changes`] has in range from there (the space's own rows and
    /// its members' principals; the parents a batch brings along are not
    /// counted) and the newest of their revisions. Counted, not loaded, so
    /// a scrape of the replication lag stays cheap on a large space. Empty
    /// range: `rows == 0` and `newest == after`. Errors: `Storage` only (an
    /// unknown space has an empty range).
    async fn feed_backlog(
        &mut self,
        space: SpaceId,
        after: Revision,
    ) -> Result<FeedBacklog, RepoError>;
    /// Spaces shared with `edge` (`Space::edge == Some(edge)`), by id.
    async fn spaces_shared_with(&mut self, edge: &NodeId) -> Result<Vec<Space>, RepoError>;
    /// The exactly-once ledger of edge operations.
    async fn applied_op(&mut self, op_id: uuid::Uuid) -> Result<Option<AppliedOp>, RepoError>;
    async fn save_applied_op(&mut self, op: &AppliedOp) -> Result<(), RepoError>;
    /// Rejected operations of a space (the quarantine), newest first.
    async fn list_quarantine(&mut self, space: SpaceId) -> Result<Vec<AppliedOp>, RepoError>;
    /// How many operations are in quarantine, per edge and space that sent
    /// them, ordered by edge then space id; pairs with none are absent.
    /// Counted, not loaded (the metrics read it at each scrape). Errors:
    /// `Storage` only.
    async fn count_quarantine(&mut self) -> Result<Vec<QuarantineCount>, RepoError>;
    async fn save_edge_status(&mut self, s: &EdgeStatus) -> Result<(), RepoError>;
    async fn edge_status(&mut self, edge: &NodeId) -> Result<Option<EdgeStatus>, RepoError>;
    async fn list_edge_status(&mut self) -> Result<Vec<EdgeStatus>, RepoError>;

    // --- replication: edge node -----------------------------------------
    /// The last revision applied for each space the edge holds.
    async fn cursors(&mut self) -> Result<Vec<(SpaceId, Revision)>, RepoError>;
    async fn set_cursor(&mut self, space: SpaceId, revision: Revision) -> Result<(), RepoError>;
    /// Records that the blobs `hashes` are sent to this edge for `space`
    /// (a blob claim), before their first byte is written: from then on
    /// the blob is accounted to the space even though no applied row names
    /// it yet, so a purge of the space removes it and a garbage collection
    /// keeps it. A blob may be claimed by several spaces. Idempotent (a
    /// claim held already stays one claim); needs no space row (the edge
    /// holds a space from its cursor 0, before any batch). Errors:
    /// `Storage`, also in a read transaction.
    async fn claim_blobs(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError>;
    /// Ends the claims of `space` on `hashes` (an applied batch's versions
    /// now account for them); claims of other spaces on the same blobs
    /// stay. Idempotent: an absent claim is not an error. Errors:
    /// `Storage`, also in a read transaction.
    async fn release_blob_claims(
        &mut self,
        space: SpaceId,
        hashes: &[ContentHash],
    ) -> Result<(), RepoError>;
    /// Every blob claim, ordered by space id then hash (hex order).
    async fn blob_claims(&mut self) -> Result<Vec<(SpaceId, ContentHash)>, RepoError>;
    /// Whether `space` holds a claim on `hash` (one lookup: a blob pushed
    /// after its have/want asks it before writing, without a write
    /// transaction when the claim is there).
    async fn blob_claimed(&mut self, space: SpaceId, hash: &ContentHash)
    -> Result<bool, RepoError>;
    /// Deletes every row of the space (space, memberships, invitations,
    /// folders, documents, versions, outbox items, blob claims, cursor,
    /// locks, mirrored locks) for good, and the principals that no longer hold a membership
    /// anywhere. Returns the number of rows deleted. Edge only (un-share).
    async fn purge_space(&mut self, space: SpaceId) -> Result<u64, RepoError>;
    /// Appends an operation; `item.seq` is ignored and the assigned one
    /// returned. `op_id` is unique (`Conflict` on a duplicate).
    async fn append_outbox(&mut self, item: &OutboxItem) -> Result<i64, RepoError>;
    /// Pending items (no outcome) with `seq > after`, by seq, at most `limit`.
    async fn pending_outbox(
        &mut self,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<OutboxItem>, RepoError>;
    async fn outbox_item(&mut self, op_id: uuid::Uuid) -> Result<Option<OutboxItem>, RepoError>;
    /// Records the internal node's verdict on an item, received at `at`.
    /// Idempotent: a repeated verdict overwrites outcome and detail but
    /// keeps the first `at`, from which the retention of decided items
    /// counts ([`Tx::prune_outbox`]). An unknown `op_id` changes nothing.
    async fn set_outbox_outcome(
        &mut self,
        op_id: uuid::Uuid,
        outcome: OpOutcome,
        detail: &str,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// Items of a space, pending and decided, newest first (the purge reads
    /// them all; contractors page through [`Tx::list_outbox_of`]).
    async fn list_outbox(&mut self, space: SpaceId) -> Result<Vec<OutboxItem>, RepoError>;
    /// One page of a contractor's writes to a space, pending and decided.
    ///
    /// Ordering: newest first, by `seq` descending (unique, so the order is
    /// total and pages neither overlap nor skip). `total` counts every such
    /// item, not only the page. Acceptances of invitations
    /// (`OutboxOp::AcceptInvitation`) are not writes to the space: neither
    /// listed nor counted.
    /// Errors: `Storage` only (an unknown space or contractor is an empty
    /// page).
    async fn list_outbox_of(
        &mut self,
        space: SpaceId,
        contractor: PrincipalId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, RepoError>;
    /// How many items of the whole outbox (every space, every contractor)
    /// wait for a verdict. Read inside the write transaction that appends,
    /// it is exact: write transactions are serialised, so no append lands
    /// between the count and the append. Errors: `Storage` only.
    async fn count_pending_outbox(&mut self) -> Result<u64, RepoError>;
    /// Deletes the decided items whose verdict was recorded strictly before
    /// `decided_before` and returns how many went. A pending item is never
    /// deleted, however old: it is a contractor's write still on its way.
    /// Idempotent (a second call deletes nothing more). Errors: `Storage`,
    /// also when called in a read transaction.
    async fn prune_outbox(&mut self, decided_before: OffsetDateTime) -> Result<u64, RepoError>;
}

/// The current time. A port so tests can move it.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// Waits, for the loops core runs (the replication links): tokio's timer
/// in a node, one that moves a `FakeClock` in tests, so core needs no
/// runtime and a scenario of minutes of backoff runs in milliseconds.
pub trait Timer: Send + Sync + fmt::Debug {
    /// Completes once `d` has passed.
    fn sleep(&self, d: std::time::Duration) -> futures::future::BoxFuture<'static, ()>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Password hashing. Adapters run it off the async runtime (argon2id is
/// deliberately slow).
#[async_trait]
pub trait PasswordHasher: Send + Sync + fmt::Debug {
    /// A PHC string (argon2id, fresh salt).
    async fn hash(&self, password: &str) -> Result<String, PasswordError>;
    /// Whether `password` matches `phc`. A malformed `phc` is an error.
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError>;
}

/// Password hashing failed (malformed stored hash, parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(pub String);
