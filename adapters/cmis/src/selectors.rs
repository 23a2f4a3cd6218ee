//! The Browser binding's `GET`s: the service document, the repository's
//! selectors (`repositoryInfo`, types, `checkedOut`, `query`) and the
//! objects' selectors (`object`, `children`, `parents`, `folderParent`,
//! `content`, `versions`, `properties`, `allowableActions`), by id in
//! `objectId` or by path below the root folder's URL. One function per
//! selector; a selector this repository does not answer is `notSupported`.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::locks::LockScope;
use passerelle_core::model::{Page, Resource};
use passerelle_core::service::PathTarget;
use passerelle_http_common::download::content_disposition;
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::{CmisError, CmisResult, answer};
use crate::ids::{ObjectId, Which};
use crate::reads::{self, Doc};
use crate::types::{self, TypeRef};
use crate::{query, repository as repo_info};

fn json_answer(v: Value) -> CmisResult<Response> {
    Ok(Json(v).into_response())
}

/// `GET /cmis/browser`.
pub(crate) async fn service_document(ctx: Ctx) -> Response {
    Json(repo_info::service_document(&ctx.urls)).into_response()
}

/// `GET /cmis/browser/{repo}?cmisselector=…`.
pub(crate) async fn repository(ctx: Ctx) -> Response {
    let selector = ctx.params.get("cmisselector").unwrap_or("repositoryInfo");
    answer(match selector {
        "repositoryInfo" => json_answer(repo_info::service_document(&ctx.urls)),
        "typeChildren" => type_children(&ctx),
        "typeDescendants" => type_descendants(&ctx),
        "typeDefinition" => type_definition(&ctx),
        "checkedOut" => checked_out(&ctx).await,
        "query" => query_get(&ctx).await,
        other => Err(unsupported(other)),
    })
}

fn unsupported(selector: &str) -> CmisError {
    let shown: String = selector.chars().take(40).collect();
    CmisError::not_supported(format!("selector \"{shown}\" is not supported"))
}

/// `GET /cmis/browser/{repo}/root[/<space>/<folder>/<name>]?objectId=…
/// &cmisselector=…`.
pub(crate) async fn object(ctx: Ctx) -> Response {
    answer(object_selector(&ctx).await)
}

/// The object a request names: `objectId`, else the path, else the root.
pub(crate) async fn target(ctx: &Ctx) -> CmisResult<ObjectId> {
    if let Some(id) = ctx.params.object_id()? {
        return Ok(id);
    }
    match ctx.path.as_deref() {
        Some(p) => resolve(ctx, p).await,
        None => Ok(ObjectId::Root),
    }
}

/// A path below the root: a space's slug, then folder and document names.
async fn resolve(ctx: &Ctx, path: &str) -> CmisResult<ObjectId> {
    let mut names = path.split('/').filter(|s| !s.is_empty());
    let Some(slug) = names.next() else {
        return Ok(ObjectId::Root);
    };
    let names: Vec<String> = names.map(str::to_owned).collect();
    let found = ctx.cmis.app.resolve_path(&ctx.actor, slug, &names).await?;
    Ok(match found {
        PathTarget::Space(s) => ObjectId::Space(s.id),
        PathTarget::Folder(_, f) => ObjectId::Folder(f.id),
        PathTarget::Document(_, d, _) => ObjectId::Document(d.id, Which::Latest),
    })
}

async fn object_selector(ctx: &Ctx) -> CmisResult<Response> {
    let id = target(ctx).await?;
    let default = match id {
        ObjectId::Document(..) => "content",
        _ => "children",
    };
    let selector = ctx.params.get("cmisselector").unwrap_or(default);
    match selector {
        "object" => json_answer(reads::object(ctx, id).await?),
        "properties" => properties(ctx, id).await,
        "allowableActions" => allowable_actions(ctx, id).await,
        "children" => json_answer(reads::children(ctx, id).await?),
        "parents" | "parent" => json_answer(reads::parents(ctx, id).await?),
        "folderParent" => json_answer(reads::folder_parent(ctx, id).await?),
        "content" => content(ctx, id).await,
        "versions" => versions(ctx, id).await,
        other => Err(unsupported(other)),
    }
}

async fn properties(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let object = reads::object(ctx, id).await?;
    let props = object
        .get("succinctProperties")
        .or_else(|| object.get("properties"))
        .cloned()
        .unwrap_or(Value::Null);
    json_answer(props)
}

async fn allowable_actions(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let object = reads::object(ctx, id).await?;
    json_answer(
        object
            .get("allowableActions")
            .cloned()
            .unwrap_or(Value::Null),
    )
}

/// `content`: a version's bytes, streamed, always as an attachment.
async fn content(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let ObjectId::Document(d, which) = id else {
        return Err(CmisError::constraint("only documents have content"));
    };
    let doc = Doc::load(ctx, d).await?;
    let version = doc.version(ctx, which).await?;
    let opened = ctx
        .cmis
        .app
        .open_version(&ctx.actor, d, Some(version.number), None)
        .await?;
    let mut res = Response::new(Body::from_stream(opened.content));
    let headers = res.headers_mut();
    let media = HeaderValue::from_str(&opened.version.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, media);
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(opened.version.size),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(opened.document.name.as_str())) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

async fn versions(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let ObjectId::Document(d, _) = id else {
        return Err(CmisError::invalid_argument("only documents have versions"));
    };
    let doc = Doc::load(ctx, d).await?;
    json_answer(doc.versions(ctx).await?)
}

/// The type named by `typeId`, or not found.
fn type_param<'a>(ctx: &'a Ctx) -> CmisResult<Option<TypeRef<'a>>> {
    match ctx.params.get("typeid") {
        None => Ok(None),
        Some(id) => types::find(id, &ctx.catalogue)
            .map(Some)
            .ok_or_else(CmisError::not_found),
    }
}

fn type_children(ctx: &Ctx) -> CmisResult<Response> {
    let list = match type_param(ctx)? {
        None => types::base_types(),
        Some(t) => types::children(&t, &ctx.catalogue),
    };
    let (skip, max) = ctx.params.page()?;
    let total = list.len();
    let page: Vec<Value> = list.into_iter().skip(skip).take(max).collect();
    json_answer(json!({
        "types": page,
        "hasMoreItems": skip.saturating_add(max) < total,
        "numItems": total,
    }))
}

/// `typeDescendants`: the tree below a type (two levels at most here).
fn type_descendants(ctx: &Ctx) -> CmisResult<Response> {
    let roots = match type_param(ctx)? {
        None => vec![TypeRef::Document, TypeRef::Folder],
        Some(t) => subtypes(&t, &ctx.catalogue),
    };
    let tree: Vec<Value> = roots
        .iter()
        .map(|t| {
            let children: Vec<Value> = subtypes(t, &ctx.catalogue)
                .iter()
                .map(|c| json!({ "type": types::definition(c), "children": [] }))
                .collect();
            json!({ "type": types::definition(t), "children": children })
        })
        .collect();
    json_answer(Value::Array(tree))
}

fn subtypes<'a>(
    t: &TypeRef<'a>,
    catalogue: &'a [passerelle_core::doctype::DocumentType],
) -> Vec<TypeRef<'a>> {
    match t {
        TypeRef::Document => catalogue.iter().map(TypeRef::Typed).collect(),
        _ => Vec::new(),
    }
}

fn type_definition(ctx: &Ctx) -> CmisResult<Response> {
    match type_param(ctx)? {
        Some(t) => json_answer(types::definition(&t)),
        None => Err(CmisError::invalid_argument("typeId is required")),
    }
}

/// `checkedOut`: the caller's working copies, in every space they read.
async fn checked_out(ctx: &Ctx) -> CmisResult<Response> {
    let app = &ctx.cmis.app;
    let spaces = app.my_spaces(&ctx.actor, Page::new(0, 10_000)).await?;
    let mut out = Vec::new();
    for s in &spaces.items {
        let locks = ctx
            .cmis
            .locks
            .locks_below(&ctx.actor, Resource::Space(s.space.id))
            .await?;
        for l in locks {
            let Resource::Document(d) = l.resource else {
                continue;
            };
            if ctx.actor.id() != Some(l.owner) || l.scope != LockScope::Exclusive {
                continue;
            }
            // A document trashed while checked out keeps its lock until
            // it ends; it is no working copy one can reach.
            let doc = match Doc::load(ctx, d).await {
                Ok(doc) => doc,
                Err(e) if e.exception == "objectNotFound" => continue,
                Err(e) => return Err(e),
            };
            out.push(doc.render(ctx, Which::WorkingCopy).await?);
        }
    }
    let total = out.len();
    json_answer(json!({ "objects": out, "hasMoreItems": false, "numItems": total }))
}

async fn query_get(ctx: &Ctx) -> CmisResult<Response> {
    let statement = ctx
        .params
        .get("q")
        .ok_or_else(|| CmisError::invalid_argument("q (the statement) is required"))?;
    let (skip, max) = ctx.params.page()?;
    json_answer(query::run(ctx, statement, skip, max).await?)
}
