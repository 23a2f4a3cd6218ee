//! The `GuardedFileSystem` dav-server calls for every request: each method
//! resolves its path as the request's actor and hands over to `reads`,
//! `writes` or `props`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::StatusCode;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream,
    GuardedFileSystem, OpenOptions, ReadDirMeta,
};
use futures::FutureExt;
use passerelle_core::model::Resource;
use passerelle_core::properties::DeadProperty;
use passerelle_core::service::{DocumentWrites, Properties, TreeWrites};
use passerelle_core::{Actor, Passerelle};

use crate::error::fs_error;
use crate::meta::{Entry, Meta};
use crate::paths::{Located, cache_key};
use crate::put::{PutFile, PutTarget};
use crate::reads::{ReadFile, Source};

/// Who a request acts as (the actor Basic authentication resolved), and
/// what of the request the file system must know.
#[derive(Clone, Debug)]
pub struct DavCredentials {
    pub actor: Actor,
    /// A DELETE: collections list as empty, so that dav-server, which
    /// deletes a collection's members one by one before the collection,
    /// only asks to delete the collection itself, and core's cascade trashes
    /// it whole: one trash entry restored whole, all or nothing under the
    /// cascade rule, and a DELETE of a space's root (refused) trashes
    /// nothing inside it. Locks are still checked on the whole tree by
    /// dav-server (by path, depth infinity) before it asks.
    deleting: bool,
    /// What paths resolved to during this request: dav-server asks for the
    /// same path several times (metadata, then open; each property), and
    /// a listing already read its children. Only this request sees it, and
    /// any write empties it.
    seen: Arc<Mutex<HashMap<Vec<u8>, Located>>>,
    /// Dead properties read during this request, by resource: a listing
    /// reads its children's in one go. Emptied with `seen`.
    props: Arc<Mutex<HashMap<Resource, Arc<Vec<DeadProperty>>>>>,
}

impl DavCredentials {
    pub fn new(actor: Actor, deleting: bool) -> Self {
        Self {
            actor,
            deleting,
            seen: Arc::default(),
            props: Arc::default(),
        }
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Located>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn recall(&self, key: &[u8]) -> Option<Located> {
        self.seen().get(key).cloned()
    }

    fn remember(&self, key: Vec<u8>, at: Located) {
        self.seen().insert(key, at);
    }

    fn props(&self) -> MutexGuard<'_, HashMap<Resource, Arc<Vec<DeadProperty>>>> {
        self.props.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn recall_props(&self, r: Resource) -> Option<Arc<Vec<DeadProperty>>> {
        self.props().get(&r).cloned()
    }

    pub(crate) fn remember_props(&self, r: Resource, props: Arc<Vec<DeadProperty>>) {
        self.props().insert(r, props);
    }

    /// Before a write: what was resolved may change.
    pub(crate) fn forget(&self) {
        self.seen().clear();
        self.props().clear();
    }
}

/// What dav-server and PROPFIND read of what a path names.
pub(crate) fn meta_of(at: &Located) -> Meta {
    match at {
        Located::Root => Meta::root(),
        Located::Space(s) => Meta::space(s),
        Located::Folder(_, f) => Meta::folder(f),
        Located::Document(_, v) => v.meta(),
        Located::New(n) => Meta::waiting(&n.content, n.content.at),
    }
}

/// A node's spaces as a file system: the same on both roles, whose
/// writes are applied at once (internal node) or queued for the internal
/// node (edge) by the writes the node's composition hands in.
#[derive(Clone, Debug)]
pub struct PasserelleFs {
    /// Reads, the same on both roles.
    pub(crate) app: Passerelle,
    /// Writes on documents, and folders' creation.
    pub(crate) writes: Arc<dyn DocumentWrites>,
    /// Folders' renames, moves and deletions; copies.
    pub(crate) tree: Arc<dyn TreeWrites>,
    /// Dead properties, under the resources' rights.
    pub(crate) properties: Properties,
}

impl PasserelleFs {
    /// `writes`: the node role's writes (`InternalApp::writes`,
    /// `EdgeApp::writes`).
    pub fn new<W>(app: Passerelle, writes: W, properties: Properties) -> Self
    where
        W: DocumentWrites + TreeWrites + Clone + 'static,
    {
        Self {
            writes: Arc::new(writes.clone()),
            tree: Arc::new(writes),
            app,
            properties,
        }
    }

    /// `locate`, remembered for the rest of the request.
    pub(crate) async fn resolve(&self, c: &DavCredentials, path: &DavPath) -> FsResult<Located> {
        let key = cache_key(path.as_bytes());
        if let Some(at) = c.recall(&key) {
            return Ok(at);
        }
        let at = self.locate(&c.actor, path).await?;
        c.remember(key, at.clone());
        Ok(at)
    }

    async fn metadata_of(
        &self,
        c: &DavCredentials,
        path: &DavPath,
    ) -> FsResult<Box<dyn DavMetaData>> {
        Ok(Box::new(meta_of(&self.resolve(c, path).await?)))
    }

    async fn open_file(
        &self,
        c: &DavCredentials,
        path: &DavPath,
        options: OpenOptions,
    ) -> FsResult<Box<dyn DavFile>> {
        let actor = &c.actor;
        if options.write {
            c.forget();
        }
        let found = match self.resolve(c, path).await {
            Ok(l) => Some(l),
            Err(FsError::NotFound) => None,
            Err(e) => return Err(e),
        };
        if !options.write {
            return match found {
                Some(Located::Document(_, v)) => {
                    let source = match &v.waiting {
                        Some(w) => Source::Waiting(w.op),
                        None => Source::Version(v.document.id, v.version.number),
                    };
                    Ok(Box::new(ReadFile::new(
                        self.clone(),
                        actor.clone(),
                        source,
                        v.meta(),
                    )))
                }
                Some(Located::New(n)) => {
                    let meta = Meta::waiting(&n.content, n.content.at);
                    let source = Source::Waiting(n.content.op);
                    Ok(Box::new(ReadFile::new(
                        self.clone(),
                        actor.clone(),
                        source,
                        meta,
                    )))
                }
                Some(_) => Err(FsError::Forbidden),
                None => Err(FsError::NotFound),
            };
        }
        if options
            .size
            .is_some_and(|n| n > self.app.settings().max_upload_bytes)
        {
            return Err(FsError::TooLarge);
        }
        let target = match found {
            Some(Located::Document(space, v)) if !options.create_new => {
                // Refused before the body is read, not after a gigabyte.
                let rights = self.app.rights(actor, space.id).await.map_err(fs_error)?;
                if !rights.may_edit(v.document.created_by) {
                    return Err(FsError::Forbidden);
                }
                PutTarget::Existing(v.document.id)
            }
            Some(Located::Document(..)) => return Err(FsError::Exists),
            // A new document still waiting has no identity to add a
            // version to: saved again once the internal node created it.
            Some(Located::New(..)) => return Err(FsError::Forbidden),
            Some(_) => return Err(FsError::Forbidden),
            None if !options.create => return Err(FsError::NotFound),
            None => {
                let (parent, name) = self.locate_parent(actor, path).await?;
                let rights = self
                    .app
                    .rights(actor, parent.space.id)
                    .await
                    .map_err(fs_error)?;
                // Core's own rules, asked before the body is read: a refused
                // name or right is answered now, not after a gigabyte (core
                // checks both again when it stores the content).
                let name_ok = passerelle_core::names::DocumentName::parse(&name).is_ok();
                if !rights.may(passerelle_core::role::Action::Create) || !name_ok {
                    return Err(FsError::Forbidden);
                }
                PutTarget::New {
                    parent: Box::new(parent),
                    name,
                }
            }
        };
        Ok(Box::new(PutFile::start(
            self.clone(),
            actor.clone(),
            target,
            options.size,
        )))
    }

    async fn list(
        &self,
        c: &DavCredentials,
        path: &DavPath,
    ) -> FsResult<FsStream<Box<dyn DavDirEntry>>> {
        let at = self.resolve(c, path).await?;
        let entries = if c.deleting {
            Vec::new()
        } else {
            self.listing(c, path, &at).await?
        };
        let items: Vec<FsResult<Box<dyn DavDirEntry>>> = entries
            .into_iter()
            .map(|(e, _)| Ok(Box::new(e) as Box<dyn DavDirEntry>))
            .collect();
        Ok(Box::pin(futures::stream::iter(items)))
    }

    /// The entries of the collection `path` names (`at`), each remembered
    /// for the rest of the request with its dead properties, read in one
    /// go: a PROPFIND answers for each child next, and its lock discovery
    /// resolves each child's path.
    pub(crate) async fn listing(
        &self,
        c: &DavCredentials,
        path: &DavPath,
        at: &Located,
    ) -> FsResult<Vec<(Entry, Located)>> {
        let entries = self.entries(&c.actor, at.clone()).await?;
        self.prefetch_props(c, at, &entries).await;
        let parent = cache_key(path.as_bytes());
        for (entry, child) in &entries {
            let mut key = parent.clone();
            key.push(b'/');
            key.extend_from_slice(entry.name.as_bytes());
            c.remember(key, child.clone());
        }
        Ok(entries)
    }

    async fn mkcol(&self, actor: &Actor, path: &DavPath) -> FsResult<()> {
        if self.locate(actor, path).await.is_ok() {
            return Err(FsError::Exists);
        }
        let (parent, name) = self.locate_parent(actor, path).await?;
        self.make_folder(actor, parent, &name).await
    }

    async fn remove(&self, actor: &Actor, path: &DavPath, dir: bool) -> FsResult<()> {
        let at = self.locate(actor, path).await?;
        match (&at, dir) {
            (Located::Document(..), false) | (Located::Folder(..), true) => {
                self.trash(actor, at).await
            }
            _ => Err(FsError::Forbidden),
        }
    }

    async fn move_to(&self, actor: &Actor, from: &DavPath, to: &DavPath) -> FsResult<()> {
        let at = self.locate(actor, from).await?;
        let (parent, name) = self.locate_parent(actor, to).await?;
        self.relocate(actor, at, parent, &name).await
    }

    async fn copy_file(&self, actor: &Actor, from: &DavPath, to: &DavPath) -> FsResult<()> {
        let Located::Document(_, v) = self.locate(actor, from).await? else {
            return Err(FsError::Forbidden);
        };
        let (parent, name) = self.locate_parent(actor, to).await?;
        self.copy_document(actor, v.document.id, &parent, &name)
            .await
    }
}

impl GuardedFileSystem<DavCredentials> for PasserelleFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        self.open_file(c, path, options).boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        self.list(c, path).boxed()
    }

    fn metadata<'a>(
        &'a self,
        path: &'a DavPath,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, Box<dyn DavMetaData>> {
        self.metadata_of(c, path).boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath, c: &'a DavCredentials) -> FsFuture<'a, ()> {
        {
            c.forget();
            self.mkcol(&c.actor, path).boxed()
        }
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath, c: &'a DavCredentials) -> FsFuture<'a, ()> {
        {
            c.forget();
            self.remove(&c.actor, path, true).boxed()
        }
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath, c: &'a DavCredentials) -> FsFuture<'a, ()> {
        {
            c.forget();
            self.remove(&c.actor, path, false).boxed()
        }
    }

    fn rename<'a>(
        &'a self,
        from: &'a DavPath,
        to: &'a DavPath,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, ()> {
        c.forget();
        self.move_to(&c.actor, from, to).boxed()
    }

    fn copy<'a>(
        &'a self,
        from: &'a DavPath,
        to: &'a DavPath,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, ()> {
        c.forget();
        self.copy_file(&c.actor, from, to).boxed()
    }

    /// Every resource but the root holds dead properties.
    fn have_props<'a>(
        &'a self,
        path: &'a DavPath,
        _c: &'a DavCredentials,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        let root = crate::paths::is_root(path);
        futures::future::ready(!root).boxed()
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
        c: &'a DavCredentials,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        async move {
            c.forget();
            let at = self.locate(&c.actor, path).await?;
            self.patch_props(&c.actor, at, patch).await
        }
        .boxed()
    }
}
