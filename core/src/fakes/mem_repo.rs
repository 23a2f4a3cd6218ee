//! `MemRepository`: the in-memory fake of the `Repository` port, for service
//! tests. It passes the same contract suite as the SQL adapter (the tests of
//! `passerelle-sql`), so it keeps the same promises: upserts by primary key,
//! the same unique constraints (login, slug, token hash, live name in a
//! folder, audit sequence number) reported as `Conflict`, the same foreign
//! keys, the same list orders, writes refused in a read transaction, and
//! rollback when a transaction is dropped.
//!
//! Concurrency: the committed state is an immutable `Arc<State>` swapped on
//! commit. A read transaction holds a snapshot of it (a pointer copy) and
//! never waits for writers; a write transaction holds the writer lock for its
//! whole life and works on a private copy, written back on commit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_lock::{Mutex as AsyncMutex, MutexGuardArc};
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::doctype::DocumentType;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::model::{
    ApiToken, AuditEntry, Document, Folder, Membership, Page, Paged, Principal, Session, Space,
    Version,
};
use crate::names::Login;
use crate::ports::{AuditFilter, RepoError, Repository, SpaceWithRole, Tx, TxMode};

/// Every table, as the SQL schema has them.
#[derive(Clone, Debug, Default)]
struct State {
    revision: i64,
    audit: BTreeMap<i64, AuditEntry>,
    principals: HashMap<PrincipalId, Principal>,
    sessions: HashMap<ContentHash, Session>,
    tokens: HashMap<TokenId, ApiToken>,
    spaces: HashMap<SpaceId, Space>,
    memberships: BTreeMap<(SpaceId, PrincipalId), Membership>,
    folders: HashMap<FolderId, Folder>,
    documents: HashMap<DocumentId, Document>,
    versions: BTreeMap<(DocumentId, u32), Version>,
    document_types: BTreeMap<String, DocumentType>,
}

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

fn missing(what: &str, id: impl fmt::Display) -> RepoError {
    RepoError::Storage(format!("foreign key violation: no {what} {id}").into())
}

fn paged<T>(items: Vec<T>, page: Page) -> Paged<T> {
    let total = items.len() as u64;
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Paged {
        items: items.into_iter().skip(skip).take(take).collect(),
        total,
    }
}

fn live_folder(f: &Folder) -> bool {
    f.trashed.is_none() && !f.purged
}

fn live_document(d: &Document) -> bool {
    d.trashed.is_none() && !d.purged
}

/// Order of spaces: by title case-insensitively, then exactly, then by id.
fn space_order(s: &Space) -> (String, String, SpaceId) {
    (s.title.to_lowercase(), s.title.clone(), s.id)
}

fn sort_folders(mut v: Vec<Folder>) -> Vec<Folder> {
    v.sort_by_cached_key(|f| (f.name.unique_key(), f.id));
    v
}

fn sort_documents(mut v: Vec<Document>) -> Vec<Document> {
    v.sort_by_cached_key(|d| (d.name.unique_key(), d.id));
    v
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
        let s = self.state_mut()?;
        s.revision += 1;
        Ok(Revision(s.revision))
    }

    async fn audit_head(&mut self) -> Result<Option<(i64, ContentHash)>, RepoError> {
        Ok(self
            .state()
            .audit
            .values()
            .next_back()
            .map(|e| (e.seq, e.hash)))
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if s.audit.contains_key(&entry.seq) {
            return Err(RepoError::Conflict(format!(
                "audit entry {} exists",
                entry.seq
            )));
        }
        s.audit.insert(entry.seq, entry.clone());
        Ok(())
    }

    async fn list_audit(
        &mut self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, RepoError> {
        let items = self
            .state()
            .audit
            .range(filter.after_seq.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| filter.space.is_none() || e.space == filter.space)
            .cloned()
            .collect();
        Ok(paged(items, page))
    }

    async fn principal(&mut self, id: PrincipalId) -> Result<Option<Principal>, RepoError> {
        Ok(self.state().principals.get(&id).cloned())
    }

    async fn principal_by_login(&mut self, login: &Login) -> Result<Option<Principal>, RepoError> {
        Ok(self
            .state()
            .principals
            .values()
            .find(|p| &p.login == login)
            .cloned())
    }

    async fn list_principals(&mut self, page: Page) -> Result<Paged<Principal>, RepoError> {
        let mut v: Vec<Principal> = self.state().principals.values().cloned().collect();
        v.sort_by(|a, b| a.login.as_str().cmp(b.login.as_str()));
        Ok(paged(v, page))
    }

    async fn save_principal(&mut self, p: &Principal) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if s.principals
            .values()
            .any(|o| o.id != p.id && o.login == p.login)
        {
            return Err(RepoError::Conflict(format!("login {} is taken", p.login)));
        }
        s.principals.insert(p.id, p.clone());
        Ok(())
    }

    async fn count_principals(&mut self) -> Result<u64, RepoError> {
        Ok(self.state().principals.len() as u64)
    }

    async fn save_session(&mut self, session: &Session) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&session.principal) {
            return Err(missing("principal", session.principal));
        }
        s.sessions.insert(session.token_hash, session.clone());
        Ok(())
    }

    async fn session(&mut self, token_hash: &ContentHash) -> Result<Option<Session>, RepoError> {
        Ok(self.state().sessions.get(token_hash).cloned())
    }

    async fn delete_session(&mut self, token_hash: &ContentHash) -> Result<(), RepoError> {
        self.state_mut()?.sessions.remove(token_hash);
        Ok(())
    }

    async fn delete_sessions_of(&mut self, principal: PrincipalId) -> Result<(), RepoError> {
        self.state_mut()?
            .sessions
            .retain(|_, s| s.principal != principal);
        Ok(())
    }

    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> Result<u64, RepoError> {
        let s = self.state_mut()?;
        let before = s.sessions.len();
        s.sessions.retain(|_, s| s.expires_at > now);
        Ok((before - s.sessions.len()) as u64)
    }

    async fn save_token(&mut self, t: &ApiToken) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&t.principal) {
            return Err(missing("principal", t.principal));
        }
        if s.tokens
            .values()
            .any(|o| o.id != t.id && o.token_hash == t.token_hash)
        {
            return Err(RepoError::Conflict("token hash is taken".into()));
        }
        s.tokens.insert(t.id, t.clone());
        Ok(())
    }

    async fn token_by_hash(
        &mut self,
        token_hash: &ContentHash,
    ) -> Result<Option<ApiToken>, RepoError> {
        Ok(self
            .state()
            .tokens
            .values()
            .find(|t| &t.token_hash == token_hash)
            .cloned())
    }

    async fn token(&mut self, id: TokenId) -> Result<Option<ApiToken>, RepoError> {
        Ok(self.state().tokens.get(&id).cloned())
    }

    async fn list_tokens(
        &mut self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<ApiToken>, RepoError> {
        let mut v: Vec<ApiToken> = self
            .state()
            .tokens
            .values()
            .filter(|t| principal.is_none_or(|p| t.principal == p))
            .cloned()
            .collect();
        v.sort_by_key(|t| (t.created_at, t.id));
        Ok(v)
    }

    async fn space(&mut self, id: SpaceId) -> Result<Option<Space>, RepoError> {
        Ok(self.state().spaces.get(&id).cloned())
    }

    async fn space_by_slug(&mut self, slug: &str) -> Result<Option<Space>, RepoError> {
        Ok(self
            .state()
            .spaces
            .values()
            .find(|s| s.slug.as_str() == slug)
            .cloned())
    }

    async fn save_space(&mut self, space: &Space) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if s.spaces
            .values()
            .any(|o| o.id != space.id && o.slug == space.slug)
        {
            return Err(RepoError::Conflict(format!("slug {} is taken", space.slug)));
        }
        s.spaces.insert(space.id, space.clone());
        Ok(())
    }

    async fn list_spaces(&mut self, page: Page) -> Result<Paged<Space>, RepoError> {
        let mut v: Vec<Space> = self.state().spaces.values().cloned().collect();
        v.sort_by_cached_key(space_order);
        Ok(paged(v, page))
    }

    async fn list_spaces_of(
        &mut self,
        principal: PrincipalId,
        page: Page,
    ) -> Result<Paged<SpaceWithRole>, RepoError> {
        let s = self.state();
        let mut v: Vec<SpaceWithRole> = s
            .memberships
            .values()
            .filter(|m| m.principal == principal && !m.removed)
            .filter_map(|m| {
                s.spaces.get(&m.space).map(|space| SpaceWithRole {
                    space: space.clone(),
                    role: m.role,
                })
            })
            .collect();
        v.sort_by_cached_key(|sr| space_order(&sr.space));
        Ok(paged(v, page))
    }

    async fn membership(
        &mut self,
        space: SpaceId,
        principal: PrincipalId,
    ) -> Result<Option<Membership>, RepoError> {
        Ok(self.state().memberships.get(&(space, principal)).cloned())
    }

    async fn save_membership(&mut self, m: &Membership) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&m.space) {
            return Err(missing("space", m.space));
        }
        s.memberships.insert((m.space, m.principal), m.clone());
        Ok(())
    }

    async fn list_members(&mut self, space: SpaceId) -> Result<Vec<Membership>, RepoError> {
        // The map is ordered by (space, principal): members come by principal id.
        Ok(self
            .state()
            .memberships
            .values()
            .filter(|m| m.space == space && !m.removed)
            .cloned()
            .collect())
    }

    async fn folder(&mut self, id: FolderId) -> Result<Option<Folder>, RepoError> {
        Ok(self.state().folders.get(&id).cloned())
    }

    async fn save_folder(&mut self, f: &Folder) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&f.space) {
            return Err(missing("space", f.space));
        }
        if live_folder(f) {
            let key = f.name.unique_key();
            let clash = s.folders.values().any(|o| {
                o.id != f.id
                    && o.space == f.space
                    && o.parent == f.parent
                    && live_folder(o)
                    && o.name.unique_key() == key
            });
            if clash {
                return Err(RepoError::Conflict(format!(
                    "name {} is taken in this folder",
                    f.name
                )));
            }
        }
        s.folders.insert(f.id, f.clone());
        Ok(())
    }

    async fn list_folders(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
    ) -> Result<Vec<Folder>, RepoError> {
        let v = self
            .state()
            .folders
            .values()
            .filter(|f| f.space == space && f.parent == parent && live_folder(f))
            .cloned()
            .collect();
        Ok(sort_folders(v))
    }

    async fn all_folders(&mut self, space: SpaceId) -> Result<Vec<Folder>, RepoError> {
        let v = self
            .state()
            .folders
            .values()
            .filter(|f| f.space == space && !f.purged)
            .cloned()
            .collect();
        Ok(sort_folders(v))
    }

    async fn document(&mut self, id: DocumentId) -> Result<Option<Document>, RepoError> {
        Ok(self.state().documents.get(&id).cloned())
    }

    async fn save_document(&mut self, d: &Document) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&d.space) {
            return Err(missing("space", d.space));
        }
        if live_document(d) {
            let key = d.name.unique_key();
            let clash = s.documents.values().any(|o| {
                o.id != d.id
                    && o.space == d.space
                    && o.folder == d.folder
                    && live_document(o)
                    && o.name.unique_key() == key
            });
            if clash {
                return Err(RepoError::Conflict(format!(
                    "name {} is taken in this folder",
                    d.name
                )));
            }
        }
        s.documents.insert(d.id, d.clone());
        Ok(())
    }

    async fn list_documents(
        &mut self,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Result<Paged<Document>, RepoError> {
        let v = self
            .state()
            .documents
            .values()
            .filter(|d| d.space == space && d.folder == folder && live_document(d))
            .cloned()
            .collect();
        Ok(paged(sort_documents(v), page))
    }

    async fn documents_in_folders(
        &mut self,
        space: SpaceId,
        folders: &[FolderId],
    ) -> Result<Vec<Document>, RepoError> {
        let wanted: HashSet<FolderId> = folders.iter().copied().collect();
        let v = self
            .state()
            .documents
            .values()
            .filter(|d| {
                d.space == space && !d.purged && d.folder.is_some_and(|f| wanted.contains(&f))
            })
            .cloned()
            .collect();
        Ok(sort_documents(v))
    }

    async fn name_taken(
        &mut self,
        space: SpaceId,
        parent: Option<FolderId>,
        unique_key: &str,
        except: Option<uuid::Uuid>,
    ) -> Result<bool, RepoError> {
        let s = self.state();
        let other = |id: uuid::Uuid| except != Some(id);
        let folder = s.folders.values().any(|f| {
            f.space == space
                && f.parent == parent
                && live_folder(f)
                && other(f.id.as_uuid())
                && f.name.unique_key() == unique_key
        });
        let document = s.documents.values().any(|d| {
            d.space == space
                && d.folder == parent
                && live_document(d)
                && other(d.id.as_uuid())
                && d.name.unique_key() == unique_key
        });
        Ok(folder || document)
    }

    async fn list_trash(
        &mut self,
        space: SpaceId,
    ) -> Result<(Vec<Folder>, Vec<Document>), RepoError> {
        let s = self.state();
        let folders = s
            .folders
            .values()
            .filter(|f| f.space == space && f.trashed.is_some() && !f.purged)
            .cloned()
            .collect();
        let documents = s
            .documents
            .values()
            .filter(|d| d.space == space && d.trashed.is_some() && !d.purged)
            .cloned()
            .collect();
        Ok((sort_folders(folders), sort_documents(documents)))
    }

    async fn save_version(&mut self, v: &Version) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.documents.contains_key(&v.document) {
            return Err(missing("document", v.document));
        }
        s.versions.insert((v.document, v.number), v.clone());
        Ok(())
    }

    async fn list_versions(&mut self, document: DocumentId) -> Result<Vec<Version>, RepoError> {
        // The map is ordered by (document, number).
        Ok(self
            .state()
            .versions
            .values()
            .filter(|v| v.document == document)
            .cloned()
            .collect())
    }

    async fn delete_versions(&mut self, document: DocumentId) -> Result<(), RepoError> {
        self.state_mut()?
            .versions
            .retain(|(d, _), _| *d != document);
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
        Ok(self.state().versions.values().map(|v| v.hash).collect())
    }
}
