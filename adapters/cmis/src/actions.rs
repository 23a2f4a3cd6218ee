//! The Browser binding's `POST`s (`cmisaction`): `createDocument`,
//! `createFolder`, `update`, `setContent`, `delete`, `deleteTree`,
//! `move`, `checkOut`, `checkIn`, `cancelCheckOut` on objects, `query` on
//! the repository. One function per action, each one or a few calls to
//! core as the caller; an action this repository does not take is
//! `notSupported`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passerelle_core::CoreError;
use passerelle_core::doctype::{DocumentType, FieldKind};
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::Page;
use passerelle_core::service::{NewDocument, NewVersion};
use passerelle_http_common::multipart::{Upload, file_name, streamed};
use serde_json::{Map, Value};

use crate::Cmis;
use crate::ctx::{Ctx, Params, check_repository};
use crate::error::{CmisError, CmisResult};
use crate::form::{Body, Form};
use crate::ids::{ObjectId, Which};
use crate::props::{self, PREFIX, Updatability};
use crate::reads::{self, Doc};
use crate::selectors::begin;
use crate::types::{self, FOLDER_TYPE, TypeRef};

/// `POST /cmis/browser/{repo}`: `query`.
pub(crate) async fn repository(
    State(cmis): State<Cmis>,
    Path(repo): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let (ctx, mut body) = match start(&cmis, &repo, raw, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    answer(repository_action(&ctx, &mut body).await)
}

async fn repository_action(ctx: &Ctx, body: &mut Body) -> CmisResult<Response> {
    let form = Form::read(body).await?;
    match form.get("cmisaction").unwrap_or_default() {
        "query" => query(ctx, &form).await,
        other => Err(unsupported(other)),
    }
}

/// `POST /cmis/browser/{repo}/root` (the object in `objectId`).
pub(crate) async fn root(
    State(cmis): State<Cmis>,
    Path(repo): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let (ctx, mut body) = match start(&cmis, &repo, raw, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    answer(object_action(&ctx, &mut body, None).await)
}

/// `POST /cmis/browser/{repo}/root/<path>` (the object at the path, unless
/// `objectId` names one).
pub(crate) async fn by_path(
    State(cmis): State<Cmis>,
    Path((repo, path)): Path<(String, String)>,
    Query(raw): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let (ctx, mut body) = match start(&cmis, &repo, raw, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    answer(object_action(&ctx, &mut body, Some(&path)).await)
}

async fn start(
    cmis: &Cmis,
    repo: &str,
    raw: HashMap<String, String>,
    req: Request,
) -> Result<(Ctx, Body), Response> {
    check_repository(repo).map_err(IntoResponse::into_response)?;
    let (parts, body) = req.into_parts();
    let ctx = begin(cmis, &parts, Params::new(raw)).await?;
    let req = Request::from_parts(parts, body);
    let body = Body::from_request(req)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((ctx, body))
}

fn answer(result: CmisResult<Response>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn unsupported(action: &str) -> CmisError {
    let shown: String = action.chars().take(40).collect();
    CmisError::not_supported(format!("action \"{shown}\" is not supported"))
}

async fn object_action(ctx: &Ctx, body: &mut Body, path: Option<&str>) -> CmisResult<Response> {
    let form = Form::read(body).await?;
    let id = match form.get("objectid") {
        Some(raw) => ObjectId::parse(raw).ok_or_else(CmisError::not_found)?,
        None => crate::selectors::target(ctx, path).await?,
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

/// What the posted properties ask, checked against the object's type.
#[derive(Debug, Default)]
struct Edits {
    name: Option<String>,
    type_id: Option<String>,
    /// Metadata fields to set (`Null`: to clear).
    metadata: Map<String, Value>,
}

/// Sorts the posted properties: the name, the type (on creation), and
/// metadata fields of `doc_type`; anything else (read-only, unknown,
/// multi-valued) is a `constraint`, so nothing is silently dropped.
fn edits(
    posted: Vec<(String, Vec<String>)>,
    document: bool,
    doc_type: impl Fn(Option<&str>) -> CmisResult<Option<DocumentType>>,
) -> CmisResult<Edits> {
    let mut out = Edits::default();
    let mut fields = Vec::new();
    for (id, mut values) in posted {
        if id == "cmis:secondaryObjectTypeIds" && values.iter().all(String::is_empty) {
            continue;
        }
        if values.len() > 1 {
            return Err(CmisError::constraint(format!("{id} takes one value")));
        }
        let value = values.pop().unwrap_or_default();
        match id.as_str() {
            "cmis:name" => out.name = Some(value),
            "cmis:objectTypeId" => out.type_id = Some(value),
            _ if id.starts_with(PREFIX) && document => fields.push((id, value)),
            _ => {
                let why = match props::base_def(&id, document) {
                    Some(d) if d.updatability != Updatability::ReadOnly => "cannot be set here",
                    Some(_) => "is read-only",
                    None => "is not a property of this type",
                };
                return Err(CmisError::constraint(format!("{id} {why}")));
            }
        }
    }
    if fields.is_empty() {
        return Ok(out);
    }
    let t = doc_type(out.type_id.as_deref())?.ok_or_else(|| {
        CmisError::constraint("an untyped document (cmis:document) has no passerelle: property")
    })?;
    for (id, value) in fields {
        let key = &id[PREFIX.len()..];
        let Some(def) = t.fields.iter().find(|f| f.key == key) else {
            return Err(CmisError::constraint(format!(
                "{id} is not a property of {PREFIX}{}",
                t.key
            )));
        };
        out.metadata
            .insert(key.to_owned(), field_value(&def.kind, value));
    }
    Ok(out)
}

/// A posted value as core's metadata takes it: dates (milliseconds since
/// the epoch, or an ISO date-time) as `YYYY-MM-DD`; an empty value clears.
fn field_value(kind: &FieldKind, value: String) -> Value {
    if value.trim().is_empty() {
        return Value::Null;
    }
    match kind {
        FieldKind::Date => Value::String(date_of(&value).unwrap_or(value)),
        _ => Value::String(value),
    }
}

fn date_of(value: &str) -> Option<String> {
    let v = value.trim();
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !v.contains("--") && v.len() > 10 {
        let ms: i128 = v.parse().ok()?;
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(ms.checked_mul(1_000_000)?).ok()?;
        return Some(at.date().to_string());
    }
    v.split_once('T').map(|(d, _)| d.to_owned())
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

fn typed(ctx: &Ctx, type_id: Option<&str>) -> CmisResult<Option<DocumentType>> {
    match type_id.map(|id| types::find(id, &ctx.catalogue)) {
        None | Some(Some(TypeRef::Document)) => Ok(None),
        Some(Some(TypeRef::Typed(t))) => Ok(Some(t.clone())),
        Some(Some(TypeRef::Folder)) => Err(CmisError::constraint(
            "cmis:folder is created with createFolder",
        )),
        Some(None) => Err(CmisError::constraint("unknown object type")),
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

/// Applies the posted name and metadata to a document.
async fn apply_edits(ctx: &Ctx, doc: &Doc, form: &Form) -> CmisResult<()> {
    let current = &doc.view.document;
    let e = edits(form.properties()?, true, |_| {
        Ok(ctx.doc_type(current.doc_type.as_deref()).cloned())
    })?;
    let current_type = types::document_type_id(current.doc_type.as_deref());
    if e.type_id.as_deref().is_some_and(|t| t != current_type) {
        return Err(CmisError::constraint(
            "cmis:objectTypeId is set on creation",
        ));
    }
    let app = &ctx.cmis.app;
    if !e.metadata.is_empty() {
        let mut metadata = current.metadata.clone();
        for (k, v) in e.metadata {
            if v.is_null() {
                metadata.remove(&k);
            } else {
                metadata.insert(k, v);
            }
        }
        app.update_metadata(&ctx.actor, current.id, current.doc_type.clone(), metadata)
            .await?;
    }
    if let Some(name) = e.name.filter(|n| n != current.name.as_str()) {
        app.update_document(&ctx.actor, current.id, Some(&name), None)
            .await?;
    }
    Ok(())
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
            let parent = place
                .folders
                .iter()
                .rev()
                .nth(1)
                .map_or(ObjectId::Space(place.space.id), |p| ObjectId::Folder(p.id));
            check_source(source, parent)?;
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

/// `checkOut`: the document locked for the caller (core's check-out, the
/// one WebDAV and the pages show), answered as its working copy.
async fn check_out(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let d = latest(id)?;
    let doc = Doc::load(ctx, d).await?;
    if doc.checked_out.is_some() {
        return Err(CmisError::versioning("the document is checked out already"));
    }
    ctx.cmis
        .locks
        .check_out(&ctx.actor, d, None, Some("CMIS".into()))
        .await?;
    let doc = Doc::load(ctx, d).await?;
    created(doc.render(ctx, Which::WorkingCopy).await?)
}

/// The document whose check-out the caller holds, or `versioning`.
async fn held(ctx: &Ctx, id: ObjectId) -> CmisResult<Doc> {
    let d = latest(id)?;
    let doc = Doc::load(ctx, d).await?;
    if !doc.mine() {
        return Err(CmisError::versioning(
            "the document is not checked out by you",
        ));
    }
    Ok(doc)
}

async fn cancel_check_out(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let doc = held(ctx, id).await?;
    ctx.cmis
        .locks
        .check_in(&ctx.actor, doc.view.document.id)
        .await?;
    done()
}

/// `checkIn`: the working copy's new content becomes the next version,
/// its properties are applied, then the check-out ends. A failure leaves
/// the check-out held, so the client may try again.
async fn check_in(ctx: &Ctx, id: ObjectId, form: Form) -> CmisResult<Response> {
    let doc = held(ctx, id).await?;
    let d = doc.view.document.id;
    let comment = form.get("checkincomment").unwrap_or_default().to_owned();
    apply_edits(ctx, &doc, &form).await?;
    if let Some(field) = form.content {
        let new = NewVersion {
            media_type: field.content_type().map(ToString::to_string),
            comment,
        };
        let app = &ctx.cmis.app;
        streamed(field, |content| {
            app.new_version(&ctx.actor, d, new, content)
        })
        .await
        .map_err(upload_error)?;
    }
    match ctx.cmis.locks.check_in(&ctx.actor, d).await {
        // Expired meanwhile: nothing left to release.
        Ok(()) | Err(CoreError::NotFound("lock")) => {}
        Err(e) => return Err(e.into()),
    }
    let doc = Doc::load(ctx, d).await?;
    created(doc.render(ctx, Which::Latest).await?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_from_milliseconds_or_iso_date_times() {
        assert_eq!(date_of("1772323200000").as_deref(), Some("2026-03-01"));
        assert_eq!(
            date_of("2026-03-01T10:00:00.000Z").as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(date_of("2026-03-01"), None);
    }

    #[test]
    fn read_only_and_unknown_properties_are_refused_not_dropped() {
        for id in ["cmis:objectId", "cmis:creationDate", "cmis:path", "x:y"] {
            let posted = vec![(id.to_owned(), vec!["v".to_owned()])];
            let e = edits(posted, true, |_| Ok(None)).expect_err(id);
            assert_eq!(e.exception, "constraint", "{id}");
        }
        let untyped = vec![("passerelle:fournisseur".to_owned(), vec!["x".to_owned()])];
        assert!(edits(untyped, true, |_| Ok(None)).is_err());
        let multi = vec![("cmis:name".to_owned(), vec!["a".into(), "b".into()])];
        assert!(edits(multi, true, |_| Ok(None)).is_err());
    }
}
