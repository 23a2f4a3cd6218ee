//! The Browser binding's `POST`s (`cmisaction`): `createDocument`,
//! `createFolder`, `update`, `setContent`, `delete`, `deleteTree`,
//! `move`, `checkOut`, `checkIn`, `cancelCheckOut` on objects, `query` on
//! the repository. One function per action, each one or a few calls to
//! core as the caller; an action this repository does not take is
//! `notSupported`.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::Page;
use passerelle_core::service::{NewDocument, NewVersion};
use passerelle_http_common::multipart::{Upload, file_name, streamed};
use serde_json::Value;

use crate::ctx::Ctx;

mod checkout;
mod edits;

use crate::error::{CmisError, CmisResult, answer};
use crate::form::{Body, Form};
use crate::ids::{ObjectId, Which};
use crate::reads::{self, Doc};
use crate::types::FOLDER_TYPE;
use checkout::{cancel_check_out, check_in, check_out};
use edits::{apply_edits, edits, typed};

/// `POST /cmis/browser/{repo}`: `query`.
pub(crate) async fn repository(ctx: Ctx, req: Request) -> Response {
    answer(repository_action(&ctx, req).await)
}

async fn repository_action(ctx: &Ctx, req: Request) -> CmisResult<Response> {
    let mut body = Body::from_request(req).await?;
    let form = Form::read(&mut body).await?;
    match form.get("cmisaction").unwrap_or_default() {
        "query" => query(ctx, &form).await,
        other => Err(unsupported(other)),
    }
}

/// `POST /cmis/browser/{repo}/root[/<path>]`: the object in `objectId`,
/// else the one at the path, else the root.
pub(crate) async fn object(ctx: Ctx, req: Request) -> Response {
    answer(object_action(&ctx, req).await)
}

fn unsupported(action: &str) -> CmisError {
    let shown: String = action.chars().take(40).collect();
    CmisError::not_supported(format!("action \"{shown}\" is not supported"))
}

async fn object_action(ctx: &Ctx, req: Request) -> CmisResult<Response> {
    let mut body = Body::from_request(req).await?;
    let form = Form::read(&mut body).await?;
    let id = match form.get("objectid") {
        Some(raw) => ObjectId::parse(raw).ok_or_else(CmisError::not_found)?,
        None => crate::selectors::target(ctx).await?,
    };
    let action = form.get("cmisaction").unwrap_or_default().to_owned();
    match action.as_str() {
        "createDocument" => create_document(ctx, id, form).await,
        "createFolder" => create_folder(ctx, id, &form).await,
        "update" => update(ctx, id, &form).await,
        "setContent" => set_content(ctx, id, form).await,
        "delete" => delete(ctx, id).await,
        "deleteTree" => delete_tree(ctx, id).await,
        "move" => move_object(ctx, id, &form).await,
        "checkOut" => check_out(ctx, id).await,
        "cancelCheckOut" => cancel_check_out(ctx, id).await,
        "checkIn" | "checkin" => check_in(ctx, id, form).await,
        "query" => query(ctx, &form).await,
        other => Err(unsupported(other)),
    }
}

fn created(v: Value) -> CmisResult<Response> {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn done() -> CmisResult<Response> {
    Ok(StatusCode::OK.into_response())
}

/// The space and folder a new object goes into.
async fn place(ctx: &Ctx, parent: ObjectId) -> CmisResult<(SpaceId, Option<FolderId>)> {
    match parent {
        ObjectId::Root => Err(CmisError::constraint(
            "spaces are created by an administrator; create inside a space",
        )),
        ObjectId::Space(s) => Ok((s, None)),
        ObjectId::Folder(f) => {
            let place = ctx.cmis.app.locate_folder(&ctx.actor, f).await?;
            Ok((place.space.id, Some(f)))
        }
        ObjectId::Document(..) => Err(CmisError::constraint("a document holds nothing")),
    }
}

fn upload_error(e: Upload) -> CmisError {
    crate::form::form_error(e)
}

fn empty() -> passerelle_core::blob::ByteStream {
    Box::pin(futures::stream::empty())
}

async fn create_document(ctx: &Ctx, parent: ObjectId, form: Form) -> CmisResult<Response> {
    let (space, folder) = place(ctx, parent).await?;
    let e = edits(form.properties()?, true, |t| typed(ctx, t))?;
    let doc_type = typed(ctx, e.type_id.as_deref())?.map(|t| t.key);
    let content_name = form.content.as_ref().map(|f| file_name(f.file_name()));
    let name = e
        .name
        .or(content_name.filter(|n| !n.is_empty()))
        .ok_or_else(|| CmisError::constraint("cmis:name is required"))?;
    let metadata = e
        .metadata
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .collect();
    let mut new = NewDocument {
        space,
        folder,
        name,
        doc_type,
        metadata,
        media_type: None,
        comment: String::new(),
    };
    let app = &ctx.cmis.app;
    let view = match form.content {
        Some(field) => {
            new.media_type = field.content_type().map(ToString::to_string);
            streamed(field, |content| app.upload(&ctx.actor, new, content))
                .await
                .map_err(upload_error)?
        }
        None => app.upload(&ctx.actor, new, empty()).await?,
    };
    let doc = Doc::load(ctx, view.document.id).await?;
    created(doc.render(ctx, Which::Latest).await?)
}

async fn create_folder(ctx: &Ctx, parent: ObjectId, form: &Form) -> CmisResult<Response> {
    let (space, in_folder) = place(ctx, parent).await?;
    let e = edits(form.properties()?, false, |_| Ok(None))?;
    if e.type_id.as_deref().is_some_and(|t| t != FOLDER_TYPE) {
        return Err(CmisError::constraint("folders are of type cmis:folder"));
    }
    let name = e
        .name
        .ok_or_else(|| CmisError::constraint("cmis:name is required"))?;
    let f = ctx
        .cmis
        .app
        .create_folder(&ctx.actor, space, in_folder, &name)
        .await?;
    created(reads::object(ctx, ObjectId::Folder(f.id)).await?)
}

/// The document a write may change: its latest version (or the working
/// copy the caller holds), not an older one.
fn latest(id: ObjectId) -> CmisResult<DocumentId> {
    match id {
        ObjectId::Document(d, Which::Latest | Which::WorkingCopy) => Ok(d),
        ObjectId::Document(..) => Err(CmisError::versioning(
            "an older version cannot change: use the document's latest version",
        )),
        _ => Err(CmisError::constraint("only documents take this action")),
    }
}

async fn update(ctx: &Ctx, id: ObjectId, form: &Form) -> CmisResult<Response> {
    match id {
        ObjectId::Folder(f) => {
            let e = edits(form.properties()?, false, |_| Ok(None))?;
            if e.type_id.is_some() {
                return Err(CmisError::constraint(
                    "cmis:objectTypeId is set on creation",
                ));
            }
            if let Some(name) = &e.name {
                ctx.cmis
                    .app
                    .update_folder(&ctx.actor, f, Some(name), None)
                    .await?;
            }
            Ok(Json(reads::object(ctx, id).await?).into_response())
        }
        ObjectId::Document(..) => {
            let d = latest(id)?;
            let doc = Doc::load(ctx, d).await?;
            apply_edits(ctx, &doc, form).await?;
            let doc = Doc::load(ctx, d).await?;
            Ok(Json(doc.render(ctx, Which::Latest).await?).into_response())
        }
        ObjectId::Root | ObjectId::Space(_) => Err(CmisError::constraint(
            "a space is renamed by its manager on the space's page",
        )),
    }
}

async fn set_content(ctx: &Ctx, id: ObjectId, form: Form) -> CmisResult<Response> {
    let d = latest(id)?;
    let Some(field) = form.content else {
        return Err(CmisError::invalid_argument(
            "setContent needs a content part",
        ));
    };
    let new = NewVersion {
        media_type: field.content_type().map(ToString::to_string),
        comment: String::new(),
    };
    let app = &ctx.cmis.app;
    streamed(field, |content| {
        app.new_version(&ctx.actor, d, new, content)
    })
    .await
    .map_err(upload_error)?;
    let doc = Doc::load(ctx, d).await?;
    created(doc.render(ctx, Which::Latest).await?)
}

async fn delete(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    match id {
        // Deleting the working copy is cancelling the check-out (CMIS 1.1
        // §2.2.7.2).
        ObjectId::Document(_, Which::WorkingCopy) => cancel_check_out(ctx, id).await,
        ObjectId::Document(..) => {
            let d = latest(id)?;
            ctx.cmis.app.delete_document(&ctx.actor, d).await?;
            done()
        }
        ObjectId::Folder(f) => {
            let place = ctx.cmis.app.locate_folder(&ctx.actor, f).await?;
            let listing = ctx
                .cmis
                .app
                .list_folder(&ctx.actor, place.space.id, Some(f), Page::new(0, 1))
                .await?;
            if !listing.folders.is_empty() || listing.documents.total > 0 {
                return Err(CmisError::constraint(
                    "the folder is not empty: delete its content first, or use deleteTree",
                ));
            }
            ctx.cmis.app.delete_folder(&ctx.actor, f).await?;
            done()
        }
        ObjectId::Root | ObjectId::Space(_) => Err(CmisError::constraint(
            "spaces are archived or deleted by an administrator",
        )),
    }
}

/// `deleteTree`: the folder and everything below it, to the trash.
async fn delete_tree(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let ObjectId::Folder(f) = id else {
        return Err(CmisError::constraint(
            "deleteTree takes a folder below a space",
        ));
    };
    ctx.cmis.app.delete_folder(&ctx.actor, f).await?;
    done()
}

/// Where `move` puts something: a space's root or a folder, in the space
/// it is in (a move between spaces would change who may read it).
async fn destination(ctx: &Ctx, raw: Option<&str>, space: SpaceId) -> CmisResult<Option<FolderId>> {
    let target = raw
        .and_then(ObjectId::parse)
        .ok_or_else(|| CmisError::invalid_argument("targetFolderId is required"))?;
    let (to_space, folder) = place(ctx, target).await?;
    if to_space != space {
        return Err(CmisError::constraint(
            "objects move within their space; copy them to another space",
        ));
    }
    Ok(folder)
}

async fn move_object(ctx: &Ctx, id: ObjectId, form: &Form) -> CmisResult<Response> {
    let app = &ctx.cmis.app;
    let target = form.get("targetfolderid");
    let source = form.get("sourcefolderid").and_then(ObjectId::parse);
    match id {
        ObjectId::Document(..) => {
            let d = latest(id)?;
            let view = app.get_document(&ctx.actor, d).await?;
            let doc = &view.document;
            check_source(
                source,
                doc.folder
                    .map_or(ObjectId::Space(doc.space), ObjectId::Folder),
            )?;
            let to = destination(ctx, target, doc.space).await?;
            app.update_document(&ctx.actor, d, None, Some(to)).await?;
            let doc = Doc::load(ctx, d).await?;
            created(doc.render(ctx, Which::Latest).await?)
        }
        ObjectId::Folder(f) => {
            let place = app.locate_folder(&ctx.actor, f).await?;
            check_source(source, reads::parent_id(&place))?;
            let to = destination(ctx, target, place.space.id).await?;
            app.update_folder(&ctx.actor, f, None, Some(to)).await?;
            created(reads::object(ctx, id).await?)
        }
        ObjectId::Root | ObjectId::Space(_) => Err(CmisError::constraint("spaces do not move")),
    }
}

/// `sourceFolderId`, when given, must be where the object is.
fn check_source(given: Option<ObjectId>, actual: ObjectId) -> CmisResult<()> {
    match given {
        Some(g) if g != actual => Err(CmisError::invalid_argument(
            "sourceFolderId is not the object's folder",
        )),
        _ => Ok(()),
    }
}

async fn query(ctx: &Ctx, form: &Form) -> CmisResult<Response> {
    let statement = form
        .get("q")
        .or_else(|| form.get("statement"))
        .ok_or_else(|| CmisError::invalid_argument("q (the statement) is required"))?;
    let number = |name: &str, default: usize| -> CmisResult<usize> {
        match form.get(name).or_else(|| ctx.params.get(name)) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| CmisError::invalid_argument(format!("{name} must be a whole number"))),
        }
    };
    let skip = number("skipcount", 0)?;
    let max = number("maxitems", 100)?.clamp(1, crate::ctx::MAX_ITEMS);
    if form.get("searchallversions") == Some("true") {
        return Err(CmisError::not_supported(
            "only latest versions are searched",
        ));
    }
    Ok(Json(crate::query::run(ctx, statement, skip, max).await?).into_response())
}
