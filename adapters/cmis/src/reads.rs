//! Gathering what objects are made of, through core's read use cases as
//! the caller: a space, folder or document the caller cannot see is not
//! found, as one that never existed. One function per kind of answer.

use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::locks::{Lock, LockScope};
use passerelle_core::model::{Document, Page, Resource, Space, Version};
use passerelle_core::service::{DocumentView, FolderPlace, Rights};
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::{CmisError, CmisResult};
use crate::ids::{ObjectId, Which};
use crate::objects::{self, CheckedOut, DocumentFacts};

/// Most spaces the root lists (the authority has about eighty).
const MAX_SPACES: u64 = 10_000;

/// Any object by id.
pub(crate) async fn object(ctx: &Ctx, id: ObjectId) -> CmisResult<Value> {
    match id {
        ObjectId::Root => {
            let (p, a) = objects::root();
            Ok(ctx.shape.object(p, a))
        }
        ObjectId::Space(s) => space_object(ctx, s).await,
        ObjectId::Folder(f) => folder_object(ctx, f).await,
        ObjectId::Document(d, which) => {
            let doc = Doc::load(ctx, d).await?;
            doc.render(ctx, which).await
        }
    }
}

async fn space_object(ctx: &Ctx, id: SpaceId) -> CmisResult<Value> {
    let view = ctx.cmis.app.get_space(&ctx.actor, id).await?;
    render_space(ctx, &view.space).await
}

async fn render_space(ctx: &Ctx, space: &Space) -> CmisResult<Value> {
    let rights = ctx.cmis.app.rights(&ctx.actor, space.id).await?;
    let names = ctx.names(space.id).await?;
    let (p, a) = objects::space(space, &rights, &names);
    Ok(ctx.shape.object(p, a))
}

/// A folder's cmis:path and the path of its parent.
fn parent_path(place: &FolderPlace) -> String {
    let mut path = format!("/{}", place.space.slug);
    for f in place.folders.iter().rev().skip(1).rev() {
        path.push('/');
        path.push_str(f.name.as_str());
    }
    path
}

async fn folder_object(ctx: &Ctx, id: FolderId) -> CmisResult<Value> {
    let place = ctx.cmis.app.locate_folder(&ctx.actor, id).await?;
    render_folder(ctx, &place).await
}

async fn render_folder(ctx: &Ctx, place: &FolderPlace) -> CmisResult<Value> {
    let Some(folder) = place.folders.last() else {
        return Err(CmisError::not_found());
    };
    let rights = ctx.cmis.app.rights(&ctx.actor, place.space.id).await?;
    let names = ctx.names(place.space.id).await?;
    let (p, a) = objects::folder(&place.space, folder, &parent_path(place), &rights, &names);
    Ok(ctx.shape.object(p, a))
}

/// A lock covering a document, as the check-out question needs it (the
/// mirror's summary on one side, the listing's locks on the other).
struct Covering<'a> {
    resource: &'a Resource,
    scope: LockScope,
    holder: passerelle_core::ids::PrincipalId,
    holder_name: &'a str,
}

/// The check-out of `document` among the locks covering it: an exclusive
/// lock on the document itself (a folder's lock is not a check-out).
fn check_out_among<'a>(
    ctx: &Ctx,
    document: DocumentId,
    mut locks: impl Iterator<Item = Covering<'a>>,
) -> Option<CheckedOut> {
    locks
        .find(|l| *l.resource == Resource::Document(document) && l.scope == LockScope::Exclusive)
        .map(|l| CheckedOut {
            holder: l.holder,
            holder_name: l.holder_name.to_owned(),
            mine: ctx.actor.id() == Some(l.holder),
        })
}

/// A document as the caller sees it, with what rendering it needs.
#[derive(Debug)]
pub(crate) struct Doc {
    pub(crate) view: DocumentView,
    pub(crate) rights: Rights,
    pub(crate) checked_out: Option<CheckedOut>,
}

impl Doc {
    pub(crate) async fn load(ctx: &Ctx, id: DocumentId) -> CmisResult<Self> {
        let view = ctx.cmis.app.get_document(&ctx.actor, id).await?;
        let rights = ctx.cmis.app.rights(&ctx.actor, view.document.space).await?;
        let checked_out = view.lock.as_ref().and_then(|l| {
            let s = &l.summary;
            let covering = Covering {
                resource: &s.resource,
                scope: s.scope,
                holder: s.holder,
                holder_name: &s.holder_name,
            };
            check_out_among(ctx, id, std::iter::once(covering))
        });
        Ok(Doc {
            view,
            rights,
            checked_out,
        })
    }

    /// Whether the caller holds this document's check-out.
    pub(crate) fn mine(&self) -> bool {
        self.checked_out.as_ref().is_some_and(|c| c.mine)
    }

    /// The version `which` names, or not found (a version that never was,
    /// a working copy of a document not checked out by the caller).
    pub(crate) async fn version(&self, ctx: &Ctx, which: Which) -> CmisResult<Version> {
        match which {
            Which::Latest => Ok(self.view.version.clone()),
            Which::WorkingCopy if self.mine() => Ok(self.view.version.clone()),
            Which::WorkingCopy => Err(CmisError::not_found()),
            Which::Number(n) if n == self.view.version.number => Ok(self.view.version.clone()),
            Which::Number(n) => ctx
                .cmis
                .app
                .list_versions(&ctx.actor, self.view.document.id)
                .await?
                .into_iter()
                .find(|v| v.number == n)
                .ok_or_else(CmisError::not_found),
        }
    }

    pub(crate) async fn render(&self, ctx: &Ctx, which: Which) -> CmisResult<Value> {
        let version = self.version(ctx, which).await?;
        self.render_version(ctx, &version, which).await
    }

    async fn render_version(
        &self,
        ctx: &Ctx,
        version: &Version,
        which: Which,
    ) -> CmisResult<Value> {
        let d = &self.view.document;
        let names = ctx.names(d.space).await?;
        let facts = DocumentFacts {
            document: d,
            version,
            which,
            checked_out: self.checked_out.as_ref(),
            doc_type: ctx.doc_type(d.doc_type.as_deref()),
        };
        let (p, a) = objects::document(&facts, &self.rights, &names);
        Ok(ctx.shape.object(p, a))
    }

    /// Every version, newest first, the caller's working copy before them.
    pub(crate) async fn versions(&self, ctx: &Ctx) -> CmisResult<Value> {
        let d = &self.view.document;
        let mut out = Vec::new();
        if self.mine() {
            out.push(self.render(ctx, Which::WorkingCopy).await?);
        }
        let mut versions = ctx.cmis.app.list_versions(&ctx.actor, d.id).await?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        for v in &versions {
            out.push(self.render_version(ctx, v, Which::Number(v.number)).await?);
        }
        Ok(Value::Array(out))
    }
}

/// `children`: the spaces under the root; folders then documents below.
pub(crate) async fn children(ctx: &Ctx, id: ObjectId) -> CmisResult<Value> {
    let (skip, max) = ctx.params.page()?;
    let all = match id {
        ObjectId::Root => space_children(ctx).await?,
        ObjectId::Space(s) => {
            let view = ctx.cmis.app.get_space(&ctx.actor, s).await?;
            let path = format!("/{}", view.space.slug);
            folder_children(ctx, &view.space, None, &path).await?
        }
        ObjectId::Folder(f) => {
            let place = ctx.cmis.app.locate_folder(&ctx.actor, f).await?;
            let path = format!("{}/{}", parent_path(&place), last_name(&place));
            folder_children(ctx, &place.space, Some(f), &path).await?
        }
        ObjectId::Document(..) => {
            return Err(CmisError::invalid_argument("a document has no children"));
        }
    };
    let total = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(skip)
        .take(max)
        .map(|o| {
            // The name in the folder (CMIS's `pathSegment`).
            let segment = o["properties"]["cmis:name"]["value"].clone();
            let segment = if segment.is_null() {
                o["succinctProperties"]["cmis:name"].clone()
            } else {
                segment
            };
            json!({ "object": o, "pathSegment": segment })
        })
        .collect();
    Ok(json!({
        "objects": page,
        "hasMoreItems": skip.saturating_add(max) < total,
        "numItems": total,
    }))
}

/// The folder (or space) a located folder is in.
pub(crate) fn parent_id(place: &FolderPlace) -> ObjectId {
    place
        .folders
        .iter()
        .rev()
        .nth(1)
        .map_or(ObjectId::Space(place.space.id), |p| ObjectId::Folder(p.id))
}

fn last_name(place: &FolderPlace) -> &str {
    place.folders.last().map_or("", |f| f.name.as_str())
}

async fn space_children(ctx: &Ctx) -> CmisResult<Vec<Value>> {
    let spaces = ctx
        .cmis
        .app
        .my_spaces(&ctx.actor, Page::new(0, MAX_SPACES))
        .await?;
    let mut out = Vec::with_capacity(spaces.items.len());
    for s in &spaces.items {
        out.push(render_space(ctx, &s.space).await?);
    }
    Ok(out)
}

async fn folder_children(
    ctx: &Ctx,
    space: &Space,
    folder: Option<FolderId>,
    path: &str,
) -> CmisResult<Vec<Value>> {
    let app = &ctx.cmis.app;
    let contents = app.folder_contents(&ctx.actor, space.id, folder).await?;
    let locks = ctx
        .cmis
        .locks
        .listing_locks(&ctx.actor, space.id, folder)
        .await?;
    let rights = app.rights(&ctx.actor, space.id).await?;
    let names = ctx.names(space.id).await?;
    let mut out = Vec::with_capacity(contents.folders.len() + contents.documents.len());
    for f in &contents.folders {
        let (p, a) = objects::folder(space, f, path, &rights, &names);
        out.push(ctx.shape.object(p, a));
    }
    for (d, v) in &contents.documents {
        let covering = locks.covering(Resource::Document(d.id));
        out.push(listed_document(ctx, d, v, &covering, &rights, &names));
    }
    Ok(out)
}

fn listed_document(
    ctx: &Ctx,
    d: &Document,
    v: &Version,
    covering: &[Lock],
    rights: &Rights,
    names: &objects::Names,
) -> Value {
    let checked_out = check_out_among(
        ctx,
        d.id,
        covering.iter().map(|l| Covering {
            resource: &l.resource,
            scope: l.scope,
            holder: l.owner,
            holder_name: names.0.get(&l.owner).map_or("", String::as_str),
        }),
    );
    let facts = DocumentFacts {
        document: d,
        version: v,
        which: Which::Latest,
        checked_out: checked_out.as_ref(),
        doc_type: ctx.doc_type(d.doc_type.as_deref()),
    };
    let (p, a) = objects::document(&facts, rights, names);
    ctx.shape.object(p, a)
}

/// The folder an object is in, and its name there.
async fn parent_of(ctx: &Ctx, id: ObjectId) -> CmisResult<(ObjectId, String)> {
    match id {
        ObjectId::Root => Err(CmisError::invalid_argument("the root folder has no parent")),
        ObjectId::Space(s) => {
            let view = ctx.cmis.app.get_space(&ctx.actor, s).await?;
            Ok((ObjectId::Root, view.space.slug.to_string()))
        }
        ObjectId::Folder(f) => {
            let place = ctx.cmis.app.locate_folder(&ctx.actor, f).await?;
            Ok((parent_id(&place), last_name(&place).to_owned()))
        }
        ObjectId::Document(d, _) => {
            let view = ctx.cmis.app.get_document(&ctx.actor, d).await?;
            let doc = view.document;
            let parent = doc
                .folder
                .map_or(ObjectId::Space(doc.space), ObjectId::Folder);
            Ok((parent, doc.name.to_string()))
        }
    }
}

/// `parents`: the one folder an object is filed in (no multi-filing).
pub(crate) async fn parents(ctx: &Ctx, id: ObjectId) -> CmisResult<Value> {
    let (parent, segment) = parent_of(ctx, id).await?;
    let object = object(ctx, parent).await?;
    Ok(json!([{ "object": object, "relativePathSegment": segment }]))
}

/// `folderParent`: a folder's parent folder.
pub(crate) async fn folder_parent(ctx: &Ctx, id: ObjectId) -> CmisResult<Value> {
    if matches!(id, ObjectId::Document(..)) {
        return Err(CmisError::invalid_argument(
            "folderParent is for folders: use parents",
        ));
    }
    let (parent, _) = parent_of(ctx, id).await?;
    object(ctx, parent).await
}
