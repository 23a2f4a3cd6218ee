//! A document: facts, preview, versions (restore, new version), metadata
//! form generated from its type (inline errors), rename/move, delete, and
//! its lock (the buttons are in `locks`).

use axum::Extension;
use passerelle_core::InternalApp;
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use passerelle_core::CoreError;
use passerelle_core::doctype::{DocumentType, FieldKind};
use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_core::model::Page;
use passerelle_core::notify::Followed;
use passerelle_core::role::Action;
use passerelle_core::service::{Queued, Written};
use passerelle_http_common::AppState;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::auth::CsrfForm;
use super::links::LinksSection;
use super::locks::LockLine;
use super::view::{self, DocRow};
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

/// How the page previews the current version.
#[derive(Debug)]
enum Preview {
    Image,
    Pdf,
    Text(String),
    None,
}

/// Longest text shown in a preview.
const TEXT_PREVIEW_BYTES: u64 = 64 * 1024;

/// Media types shown inline by `/documents/{id}/preview` (never SVG or
/// HTML: they could run script on this origin).
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
];

fn base_media(m: &str) -> String {
    m.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_text(m: &str) -> bool {
    m.starts_with("text/")
        || matches!(
            m,
            "application/json" | "application/xml" | "application/csv"
        )
}

/// One input of the metadata form.
#[derive(Debug)]
enum Input {
    Select(Vec<String>),
    Checkbox,
    Field(&'static str),
}

#[derive(Debug)]
struct FieldView {
    key: String,
    label: String,
    required: bool,
    decimal: bool,
    input: Input,
    value: String,
    error: String,
}

#[derive(Debug)]
struct VersionRow {
    number: u32,
    current: bool,
    date: String,
    author: String,
    size: String,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    p: PageCtx,
    sid: String,
    space_title: String,
    d: DocRow,
    size: String,
    media_type: String,
    preview: Preview,
    /// What text extraction made of the current version, as a sentence.
    extraction: String,
    versions: Vec<VersionRow>,
    can_edit: bool,
    types: Vec<(String, String)>,
    form_type: String,
    fields: Vec<FieldView>,
    meta_errors: Vec<String>,
    folders: Vec<(String, String)>,
    current_folder: String,
    /// Who holds the document's lock, and the lock buttons the actor gets.
    lock: LockLine,
    /// Its links, both ways, and the form making one.
    links: LinksSection,
    /// "Me prévenir pour ce document".
    follow: super::activity::FollowForm,
}

#[derive(Debug, Default, Deserialize)]
pub struct DocQuery {
    #[serde(rename = "type")]
    doc_type: Option<String>,
}

/// What the metadata form shows when re-rendered after a refusal.
#[derive(Debug, Default)]
struct Submitted {
    doc_type: Option<String>,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

/// `GET /documents/{id}` (`?type=` shows the form of another type).
pub async fn document(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Query(q): Query<DocQuery>,
) -> Result<Response, WebError> {
    let submitted = Submitted {
        doc_type: q.doc_type,
        ..Submitted::default()
    };
    page(
        &st,
        web,
        DocumentId::from_uuid(id),
        submitted,
        StatusCode::OK,
    )
    .await
}

async fn page(
    st: &AppState,
    web: Web,
    id: DocumentId,
    submitted: Submitted,
    status: StatusCode,
) -> Result<Response, WebError> {
    let t = web.t();
    let dv = st.app.get_document(&web.actor, id).await?;
    let space = st.app.get_space(&web.actor, dv.document.space).await?;
    let types = st.app.list_document_types().await?;
    let names = view::names(&st.app, &web.actor, dv.document.space)
        .await
        .unwrap_or_default();
    let versions = st.app.list_versions(&web.actor, id).await?;
    let extraction = st.search.extraction_of(&web.actor, id).await?;
    let follow =
        super::activity::follow_form(st, &web, dv.document.space, Followed::Document(id)).await?;
    let media = base_media(&dv.version.media_type);
    let preview = if INLINE_TYPES.contains(&media.as_str()) {
        if media == "application/pdf" {
            Preview::Pdf
        } else {
            Preview::Image
        }
    } else if is_text(&media) {
        Preview::Text(text_preview(st, &web, id, dv.version.size).await?)
    } else {
        Preview::None
    };
    let rights = st.app.rights(&web.actor, dv.document.space).await?;
    let can_edit = rights.may_edit(dv.document.created_by);
    let lock = LockLine::new(&dv, &web, can_edit, rights.may(Action::Manage));
    // Links are made on the internal node (the pages that manage).
    let links = LinksSection::new(st, &web, &dv, can_edit && web.page.offers.management).await?;
    let form_type = submitted
        .doc_type
        .clone()
        .unwrap_or_else(|| dv.document.doc_type.clone().unwrap_or_default());
    let same_type = dv.document.doc_type.as_deref() == Some(form_type.as_str());
    let fields = types
        .iter()
        .find(|ty| ty.key == form_type)
        .map(|ty| field_views(ty, &dv.document.metadata, same_type, &submitted, t))
        .unwrap_or_default();
    let folders = st
        .app
        .list_folder(
            &web.actor,
            dv.document.space,
            None,
            Page::new(0, Page::MAX_LIMIT),
        )
        .await?
        .folders
        .into_iter()
        .map(|f| (f.id.to_string(), f.name.as_str().to_owned()))
        .collect();
    let lang = t.lang;
    let page = DocumentPage {
        sid: dv.document.space.to_string(),
        space_title: space.space.title,
        d: DocRow::new(&dv.document, &types, &names),
        size: view::size(dv.version.size, lang),
        media_type: dv.version.media_type.clone(),
        preview,
        extraction: view::extraction(t, extraction.as_ref()),
        versions: versions
            .iter()
            .rev()
            .map(|v| VersionRow {
                number: v.number,
                current: v.number == dv.document.current_version,
                date: view::date(v.created_at),
                author: view::name_of(&names, &v.author),
                size: view::size(v.size, lang),
            })
            .collect(),
        can_edit,
        types: types
            .iter()
            .map(|t| (t.key.clone(), t.label.clone()))
            .collect(),
        form_type,
        meta_errors: submitted.errors.values().cloned().collect(),
        fields,
        folders,
        current_folder: dv
            .document
            .folder
            .map(|f| f.to_string())
            .unwrap_or_default(),
        lock,
        links,
        follow,
        p: web.page,
    };
    Ok((status, render(&page)).into_response())
}

fn field_views(
    ty: &DocumentType,
    stored: &Map<String, Value>,
    same_type: bool,
    submitted: &Submitted,
    t: crate::i18n::Tr,
) -> Vec<FieldView> {
    ty.fields
        .iter()
        .map(|f| {
            let value = submitted.values.get(&f.key).cloned().unwrap_or_else(|| {
                if same_type {
                    stored.get(&f.key).map(view::value_text).unwrap_or_default()
                } else {
                    String::new()
                }
            });
            let error = submitted
                .errors
                .get(&f.key)
                .map(|p| {
                    if p == "required" {
                        t.s("meta.required_error").to_owned()
                    } else {
                        t.s(match f.kind {
                            FieldKind::Integer => "meta.bad_integer",
                            FieldKind::Decimal => "meta.bad_decimal",
                            FieldKind::Date => "meta.bad_date",
                            _ => "meta.bad_value",
                        })
                        .to_owned()
                    }
                })
                .unwrap_or_default();
            FieldView {
                key: f.key.clone(),
                label: f.label.clone(),
                required: f.required,
                decimal: f.kind == FieldKind::Decimal,
                input: match &f.kind {
                    FieldKind::Enum { values } => Input::Select(values.clone()),
                    FieldKind::Boolean => Input::Checkbox,
                    FieldKind::Integer => Input::Field("number"),
                    FieldKind::Date => Input::Field("date"),
                    FieldKind::Text | FieldKind::Decimal => Input::Field("text"),
                },
                value,
                error,
            }
        })
        .collect()
}

async fn text_preview(
    st: &AppState,
    web: &Web,
    id: DocumentId,
    size: u64,
) -> Result<String, WebError> {
    // An empty version has no satisfiable range: nothing to show.
    if size == 0 {
        return Ok(String::new());
    }
    let opened = st
        .app
        .open_version(&web.actor, id, None, Some(0..size.min(TEXT_PREVIEW_BYTES)))
        .await?;
    let mut buf = Vec::new();
    let mut content = opened.content;
    while let Some(chunk) = content.next().await {
        let chunk = chunk.map_err(|e| CoreError::Internal(Box::new(e)))?;
        buf.extend_from_slice(&chunk);
        if buf.len() as u64 >= TEXT_PREVIEW_BYTES {
            break;
        }
    }
    buf.truncate(TEXT_PREVIEW_BYTES as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// `GET /documents/{id}/preview`: the current version inline, for images
/// and PDF only, framable by this site's pages only.
pub async fn preview(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let opened = st
        .app
        .open_version(&web.actor, DocumentId::from_uuid(id), None, None)
        .await?;
    let media = base_media(&opened.version.media_type);
    if !INLINE_TYPES.contains(&media.as_str()) {
        return Err(CoreError::NotFound("preview").into());
    }
    let ct = HeaderValue::from_str(&media).map_err(|e| CoreError::Internal(Box::new(e)))?;
    let mut res = Body::from_stream(opened.content).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, ct);
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    // Images: nothing else may load. PDF: Chrome's viewer is a plugin that a
    // `default-src 'none'` (hence `object-src 'none'`) would block; its
    // scripts run in the viewer's sandbox, not on this origin.
    let policy = if media == "application/pdf" {
        "frame-ancestors 'self'"
    } else {
        "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(res)
}

/// `POST /documents/{id}/metadata`: fields `m.<key>`; refused values are
/// shown inline (422), nothing is saved.
pub async fn save_metadata(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    web.check_csrf(get("_csrf").unwrap_or(""))?;
    let doc_type = get("type").unwrap_or("").trim().to_owned();
    let id = DocumentId::from_uuid(id);
    let fields = if doc_type.is_empty() {
        Vec::new()
    } else {
        match st.app.get_document_type(&doc_type).await {
            Ok(t) => t.fields,
            Err(CoreError::NotFound(_)) => {
                return Err(CoreError::invalid("unknown_document_type", "unknown type").into());
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut metadata = Map::new();
    let mut values = HashMap::new();
    for f in &fields {
        let raw = get(&format!("m.{}", f.key)).unwrap_or("").trim();
        values.insert(f.key.clone(), raw.to_owned());
        let v = match f.kind {
            FieldKind::Boolean => Value::Bool(raw == "true"),
            _ if raw.is_empty() => continue,
            FieldKind::Integer => raw
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(raw.to_owned())),
            _ => Value::String(raw.to_owned()),
        };
        metadata.insert(f.key.clone(), v);
    }
    let typed = (!doc_type.is_empty()).then(|| doc_type.clone());
    let saved = st
        .writes
        .update_metadata(&web.actor, id, typed, metadata)
        .await;
    match saved {
        Ok(Written::Applied(_)) => Ok(see_other(&format!("/documents/{id}?ok=metadata_saved"))),
        Ok(Written::Queued(q)) => Ok(pending(&q)),
        Err(CoreError::Invalid {
            fields: errs, code, ..
        }) if !errs.is_empty() || code == "invalid_metadata" => {
            let submitted = Submitted {
                doc_type: Some(doc_type),
                values,
                errors: errs.into_iter().map(|e| (e.field, e.problem)).collect(),
            };
            page(&st, web, id, submitted, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RenameForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    name: String,
    #[serde(default)]
    folder: String,
}

/// `POST /documents/{id}/rename`: new name and/or folder. The form sends
/// both; only what the user changed is written (on an edge each change is
/// an operation to decide).
pub async fn rename(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<RenameForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    let folder = if f.folder.is_empty() {
        None
    } else {
        Some(FolderId::from_uuid(
            Uuid::parse_str(&f.folder).map_err(|_| CoreError::NotFound("folder"))?,
        ))
    };
    let back = format!("/documents/{id}");
    let d = st.app.get_document(&web.actor, id).await?.document;
    let name = f.name.trim();
    let name = (name != d.name.as_str()).then_some(name);
    let folder = (folder != d.folder).then_some(folder);
    if name.is_none() && folder.is_none() {
        return Ok(see_other(&back));
    }
    match st
        .writes
        .update_document(&web.actor, id, name, folder)
        .await
    {
        Ok(Written::Applied(_)) => Ok(see_other(&format!("{back}?ok=renamed"))),
        Ok(Written::Queued(q)) => Ok(pending(&q)),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /documents/{id}/delete`: to the trash, back to the space.
pub async fn delete(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    let dv = st.app.get_document(&web.actor, id).await?;
    match st.writes.delete_document(&web.actor, id).await {
        Ok(Written::Applied(())) => Ok(see_other(&format!(
            "/spaces/{}?ok=deleted",
            dv.document.space
        ))),
        Ok(Written::Queued(q)) => Ok(pending(&q)),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}

/// `POST /documents/{id}/versions/{n}/restore`: version `n` becomes a new
/// current version (history is kept).
pub async fn restore(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, n)): Path<(Uuid, u32)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    match internal.restore_version(&web.actor, id, n).await {
        Ok(_) => Ok(see_other(&format!("/documents/{id}?ok=restored"))),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}

/// After a write an edge queued: the space's page, whose list shows the
/// operation pending until the internal node decides.
pub(crate) fn pending(q: &Queued) -> Response {
    see_other(&format!("/spaces/{}?ok=operation_pending", q.space()))
}
