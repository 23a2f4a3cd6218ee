//! dav-server's `DavLockSystem` over core's lock model (ADR 0007 §1): the
//! locks WebDAV clients take are the check-outs the API and the pages show
//! and core's writes respect, stored in the database; none is kept here.
//!
//! dav-server speaks in paths, core in resources: each call resolves its
//! path as the request's actor (one lock system per request, holding that
//! actor), so a lock on something the actor cannot see is never found.
//! On top of core's rule (another principal's lock refuses the write),
//! this adds WebDAV's own: the holder must also submit the lock's token in
//! `If:` (RFC 4918 §7), with dav-server's semantics for shared and deep
//! locks (those of its `MemLs`, which passes litmus).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use dav_server::davpath::DavPath;
use dav_server::fs::FsError;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures::FutureExt;
use passerelle_core::Actor;
use passerelle_core::locks::{Lock, LockDepth, LockRequest, LockScope, LockToken};
use passerelle_core::model::Resource;
use passerelle_core::service::NewDocument;
use passerelle_core::service::{ListingLocks, Locks};
use xmltree::{Element, EmitterConfig};

use crate::fs::{DavCredentials, PasserelleFs};
use crate::paths::{Located, cache_key, is_root};
use crate::writes::media_type;

/// The lock system of one request.
#[derive(Clone)]
pub(crate) struct CoreLocks {
    fs: PasserelleFs,
    locks: Locks,
    actor: Actor,
    /// The request's credentials, for their cache of resolved paths: lock
    /// discovery in a PROPFIND asks for every entry of a listing, which
    /// the listing already resolved.
    request: DavCredentials,
    /// What each path named when this request first resolved it: after a
    /// DELETE or MOVE the path names nothing, and dav-server then asks to
    /// drop the locks that were there.
    seen: Arc<Mutex<HashMap<Vec<u8>, Resource>>>,
    /// What covers the children of each collection whose entries lock
    /// discovery was asked for, by the collection's path: a PROPFIND asks
    /// it for every entry of a listing, read here once.
    listings: Arc<Mutex<HashMap<Vec<u8>, Arc<ListingLocks>>>>,
}

impl std::fmt::Debug for CoreLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreLocks")
            .field("actor", &self.actor.id())
            .finish_non_exhaustive()
    }
}

/// A lock as dav-server shows it, at `path`.
fn dav_lock(lock: &Lock, path: &DavPath) -> DavLock {
    let now = time::OffsetDateTime::now_utc();
    let left = (lock.expires_at - now).max(time::Duration::ZERO);
    let left = Duration::from_secs(left.whole_seconds().max(0) as u64);
    DavLock {
        token: lock.token.to_string(),
        path: Box::new(path.clone()),
        principal: Some(lock.owner.to_string()),
        owner: lock
            .owner_info
            .as_deref()
            .and_then(owner_element)
            .map(Box::new),
        timeout_at: Some(SystemTime::now() + left),
        timeout: Some(left),
        shared: lock.scope == LockScope::Shared,
        deep: lock.depth == LockDepth::Infinity,
    }
}

/// The client's `<owner>` as stored: its XML, so lock discovery gives it
/// back as sent (litmus checks).
pub(crate) fn owner_text(owner: &Element) -> Option<String> {
    let mut buf = Vec::new();
    let config = EmitterConfig::new().write_document_declaration(false);
    owner.write_with_config(&mut buf, config).ok()?;
    String::from_utf8(buf).ok()
}

fn owner_element(text: &str) -> Option<Element> {
    Element::parse(text.as_bytes()).ok().or_else(|| {
        // A note typed at check-out (API, pages), not XML.
        let mut e = Element::new("owner");
        e.prefix = Some("D".to_owned());
        e.children.push(xmltree::XMLNode::Text(text.to_owned()));
        Some(e)
    })
}

fn std_to_time(d: Duration) -> time::Duration {
    time::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The collection holding `path`; `None` at the root (dav-server's own
/// `parent` cuts into its prefix there).
fn parent_of(path: &DavPath) -> Option<DavPath> {
    (!is_root(path)).then(|| path.parent())
}

/// A lock that names what refused, for dav-server's 423 (it shows none of
/// it to the client).
fn refusal(path: &DavPath) -> DavLock {
    DavLock {
        token: String::new(),
        path: Box::new(path.clone()),
        principal: None,
        owner: None,
        timeout_at: None,
        timeout: None,
        shared: false,
        deep: false,
    }
}

/// Whether the request holds `lock`: its token submitted, by its holder
/// (unless dav-server asks to ignore who, when it evaluates `If:`).
fn held(lock: &Lock, principal: Option<&str>, ignore_principal: bool, tokens: &[String]) -> bool {
    let token = lock.token.to_string();
    let submitted = tokens.iter().any(|t| t.eq_ignore_ascii_case(&token));
    submitted && (ignore_principal || principal == Some(lock.owner.to_string().as_str()))
}

impl CoreLocks {
    pub(crate) fn new(fs: PasserelleFs, locks: Locks, request: DavCredentials) -> Self {
        Self {
            fs,
            locks,
            actor: request.actor.clone(),
            request,
            seen: Arc::default(),
            listings: Arc::default(),
        }
    }

    /// What covers `path` when it names a child of a collection, from the
    /// collection's locks read once for all its children (`None`: the
    /// root, a space, or nothing: ask `covering`).
    async fn listed_covering(&self, path: &DavPath) -> Option<Vec<Lock>> {
        let parent = parent_of(path)?;
        let child = self.resource(path).await?;
        let key = cache_key(parent.as_bytes());
        let known = {
            let listings = self.listings.lock().unwrap_or_else(|p| p.into_inner());
            listings.get(&key).cloned()
        };
        let listing = match known {
            Some(l) => l,
            None => {
                let (space, folder) = match self.fs.resolve(&self.request, &parent).await.ok()? {
                    Located::Space(s) => (s.id, None),
                    Located::Folder(s, f) => (s.id, Some(f.id)),
                    Located::Root | Located::Document(..) | Located::New(_) => return None,
                };
                let read = self
                    .locks
                    .listing_locks(&self.actor, space, folder)
                    .await
                    .ok()?;
                let read = Arc::new(read);
                let mut listings = self.listings.lock().unwrap_or_else(|p| p.into_inner());
                listings.insert(key, read.clone());
                read
            }
        };
        Some(listing.covering(child))
    }

    /// The resource `path` names now (`None`: nothing, or the root), and
    /// remembers it for `delete`. "Now" within the request: the file
    /// system empties the request's cache before each write.
    async fn resource(&self, path: &DavPath) -> Option<Resource> {
        let found = self
            .fs
            .resolve(&self.request, path)
            .await
            .ok()?
            .resource()?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(path.as_bytes().to_vec(), found);
        Some(found)
    }

    /// Locks covering `path`: if it names nothing yet (a PUT creating
    /// it), the depth-infinity locks of the collection that would hold it.
    async fn covering(&self, path: &DavPath) -> Result<Vec<Lock>, ()> {
        if let Some(r) = self.resource(path).await {
            return self.locks.locks_on(&self.actor, r).await.map_err(|_| ());
        }
        let Some(parent) = parent_of(path) else {
            return Ok(Vec::new());
        };
        match self.resource(&parent).await {
            Some(r) => Ok(self
                .locks
                .locks_on(&self.actor, r)
                .await
                .map_err(|_| ())?
                .into_iter()
                .filter(|l| l.depth == LockDepth::Infinity)
                .collect()),
            None => Ok(Vec::new()),
        }
    }

    /// The path of `lock` as seen from `path`: `path` itself or one of its
    /// ancestors (covering locks are on the resource or above it).
    async fn path_of(&self, lock: &Lock, path: &DavPath) -> DavPath {
        let mut at = path.clone();
        for _ in 0..64 {
            if self.resource(&at).await == Some(lock.resource) {
                return at;
            }
            match parent_of(&at) {
                Some(up) => at = up,
                None => break,
            }
        }
        path.clone()
    }

    /// A lock on a path that names nothing creates an empty document there
    /// first (RFC 4918 §7.3): core locks what exists, by identity.
    async fn create_empty(&self, path: &DavPath) -> Result<Resource, FsError> {
        let (parent, name) = self.fs.locate_parent(&self.actor, path).await?;
        let new = NewDocument {
            space: parent.space.id,
            folder: parent.folder,
            media_type: Some(media_type(&name)),
            name,
            ..NewDocument::default()
        };
        let empty: passerelle_core::blob::ByteStream = Box::pin(futures::stream::empty());
        let written = self
            .fs
            .writes
            .upload(&self.actor, new, empty)
            .await
            .map_err(crate::error::fs_error)?;
        match written {
            passerelle_core::service::Written::Applied(v) => Ok(Resource::Document(v.document.id)),
            passerelle_core::service::Written::Queued(_) => Err(FsError::GeneralFailure),
        }
    }

    async fn take(
        &self,
        path: &DavPath,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> Result<DavLock, DavLock> {
        let resource = match self.fs.locate(&self.actor, path).await {
            Ok(Located::Root) => return Err(refusal(path)),
            Ok(found) => found.resource().ok_or_else(|| refusal(path))?,
            Err(FsError::NotFound) => self.create_empty(path).await.map_err(|_| refusal(path))?,
            Err(_) => return Err(refusal(path)),
        };
        let request = LockRequest {
            scope: if shared {
                LockScope::Shared
            } else {
                LockScope::Exclusive
            },
            depth: if deep {
                LockDepth::Infinity
            } else {
                LockDepth::Zero
            },
            timeout: timeout.map(std_to_time),
            owner_info: owner.and_then(owner_text),
        };
        match self.locks.lock(&self.actor, resource, request).await {
            Ok(lock) => Ok(dav_lock(&lock, path)),
            Err(e) => {
                tracing::info!(error = %e, "dav: lock refused");
                Err(refusal(path))
            }
        }
    }

    async fn check_path(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        tokens: &[String],
    ) -> Result<(), DavLock> {
        let covering = self.covering(path).await.map_err(|_| refusal(path))?;
        let mut holds = false;
        let mut shared_seen = None;
        for lock in &covering {
            if held(lock, principal, ignore_principal, tokens) {
                holds = true;
            } else if lock.scope == LockScope::Exclusive {
                return Err(dav_lock(lock, &self.path_of(lock, path).await));
            } else {
                shared_seen.get_or_insert(lock);
            }
        }
        if let (false, Some(lock)) = (holds, shared_seen) {
            return Err(dav_lock(lock, &self.path_of(lock, path).await));
        }
        if deep && let Some(r) = self.resource(path).await {
            let below = self
                .locks
                .locks_below(&self.actor, r)
                .await
                .map_err(|_| refusal(path))?;
            if let Some(lock) = below
                .iter()
                .find(|l| !held(l, principal, ignore_principal, tokens))
            {
                return Err(dav_lock(lock, path));
            }
        }
        Ok(())
    }

    /// The live lock named `token` among those covering `path`.
    async fn find(&self, path: &DavPath, token: &str) -> Option<Lock> {
        let token: LockToken = token.parse().ok()?;
        self.covering(path)
            .await
            .ok()?
            .into_iter()
            .find(|l| l.token == token)
    }
}

impl DavLockSystem for CoreLocks {
    fn lock(
        &'_ self,
        path: &DavPath,
        _principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let (path, owner) = (path.clone(), owner.cloned());
        async move {
            self.take(&path, owner.as_ref(), timeout, shared, deep)
                .await
        }
        .boxed()
    }

    fn unlock(&'_ self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (path, token) = (path.clone(), token.to_owned());
        async move {
            let lock = self.find(&path, &token).await.ok_or(())?;
            self.locks
                .unlock(&self.actor, lock.token)
                .await
                .map_err(|e| tracing::info!(error = %e, "dav: unlock refused"))
        }
        .boxed()
    }

    fn refresh(
        &'_ self,
        path: &DavPath,
        token: &str,
        timeout: Option<Duration>,
    ) -> LsFuture<'_, Result<DavLock, ()>> {
        let (path, token) = (path.clone(), token.to_owned());
        async move {
            let lock = self.find(&path, &token).await.ok_or(())?;
            let at = self.path_of(&lock, &path).await;
            let lock = self
                .locks
                .refresh(&self.actor, lock.token, timeout.map(std_to_time))
                .await
                .map_err(|e| tracing::info!(error = %e, "dav: refresh refused"))?;
            Ok(dav_lock(&lock, &at))
        }
        .boxed()
    }

    fn check(
        &'_ self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let (path, principal) = (path.clone(), principal.map(str::to_owned));
        let tokens = submitted_tokens.to_vec();
        async move {
            self.check_path(&path, principal.as_deref(), ignore_principal, deep, &tokens)
                .await
        }
        .boxed()
    }

    fn discover(&'_ self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let path = path.clone();
        async move {
            let covering = match self.listed_covering(&path).await {
                Some(c) => c,
                None => self.covering(&path).await.unwrap_or_default(),
            };
            let mut out = Vec::new();
            for lock in covering {
                let at = self.path_of(&lock, &path).await;
                out.push(dav_lock(&lock, &at));
            }
            out
        }
        .boxed()
    }

    fn delete(&'_ self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let path = path.clone();
        async move {
            let remembered = {
                let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                seen.get(path.as_bytes()).copied()
            };
            let resource = match remembered {
                Some(r) => Some(r),
                None => self.resource(&path).await,
            };
            let Some(resource) = resource else {
                return Ok(());
            };
            self.locks
                .release_tree(&self.actor, resource)
                .await
                .map(|_| ())
                .map_err(|e| tracing::info!(error = %e, "dav: releasing locks failed"))
        }
        .boxed()
    }
}
